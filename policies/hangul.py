"""Korean and Cyrillic names disguised the way their writers do it: a digit read aloud inside a
word ("짱9" for 짱구, 9 being 구; "пика4у" for Пикачу, 4 looking like ч), tense consonants for
plain or aspirated ones ("쏜흥민" for 손흥민, "삐까츄" for 피카츄), one vowel or one aspirated
consonant changed ("나르토" for 나루토, "피카쥬" for 피카츄), and letters typed loose
("ㅅㅗㄴㅎㅡㅇㅁㅣㄴ", composed first).

Digits are rewritten in place, one letter each, so the script index reads the spoken text with
the same offsets. Hangul slips are matched syllable by syllable: a name of three syllables or
more whose consonants all agree (tense folded to plain) and that differs in one syllable at most.
Like the script index, the match starts a word and ends at a word end or before a particle.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from policies.scripts import PARTICLES, ScriptEntry, ScriptIndex, ScriptMatch

__all__ = ["spoken_digits", "spoken_names", "HangulSlipIndex", "compose_jamo"]

_SINO_KOREAN = dict(zip("0123456789", "영일이삼사오육칠팔구", strict=True))
_CYRILLIC_LOOK = {"0": "о", "3": "з", "4": "ч", "6": "б"}
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_GLUED_DIGIT = re.compile(r"(?<=[\uac00-\ud7a3\u0400-\u04ff])[0-9]|[0-9](?=[\uac00-\ud7a3\u0400-\u04ff])")
_WORD = re.compile(r"[\uac00-\ud7a3]+")
_MIN_SYLLABLES = 3
_TENSE = frozenset((1, 4, 8, 10, 13))  # initials ㄲ ㄸ ㅃ ㅆ ㅉ, in Unicode order
# Initial consonants in Unicode order with tense and aspirated ones folded to plain (ㄲ ㄸ ㅃ ㅆ
# ㅉ and ㅊ ㅋ ㅌ ㅍ -> ㄱ ㄷ ㅂ ㅅ ㅈ): the key names are looked up by. A tense initial costs
# nothing; plain for aspirated ("피카쥬" for 피카츄) counts as the one slip a name may carry.
_NO_ASPIRATE = (0, 0, 2, 3, 3, 5, 6, 7, 7, 9, 9, 11, 12, 12, 12, 0, 3, 7, 18)

# Compatibility jamo, as typed letter by letter ("ㅅㅗㄴ" for 손): initials, vowels, finals in
# Unicode's syllable order.
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
_TWO_VOWELS = {"ㅗㅏ": "ㅘ", "ㅗㅐ": "ㅙ", "ㅗㅣ": "ㅚ", "ㅜㅓ": "ㅝ", "ㅜㅔ": "ㅞ", "ㅜㅣ": "ㅟ", "ㅡㅣ": "ㅢ"}
_JAMO_RUN = re.compile(r"[\u3131-\u3163]{2,}")


def compose_jamo(text: str) -> str:
    """``text`` with runs of loose jamo written as syllables ("ㅅㅗㄴㅎㅡㅇㅁㅣㄴ" -> "손흥민");
    letters that make no syllable ("ㅋㅋㅋ") stay as they are."""
    return _JAMO_RUN.sub(lambda m: _syllables(m.group(0)), text)


def _syllables(run: str) -> str:
    out, i = [], 0
    while i < len(run):
        lead = run[i]
        vowel = run[i + 1] if i + 1 < len(run) else ""
        if lead not in _INITIALS or not vowel or vowel not in _VOWELS:
            out.append(lead)
            i += 1
            continue
        i += 2
        if run[i : i + 1] and vowel + run[i] in _TWO_VOWELS:
            vowel, i = _TWO_VOWELS[vowel + run[i]], i + 1
        final = 0
        # A consonant closes the syllable unless a vowel follows it (then it opens the next one).
        if i < len(run) and run[i] in _FINALS[1:] and not (i + 1 < len(run) and run[i + 1] in _VOWELS):
            final, i = _FINALS.index(run[i]), i + 1
        code = (_INITIALS.index(lead) * 21 + _VOWELS.index(vowel)) * 28 + final
        out.append(chr(0xAC00 + code))
    return "".join(out)


def spoken_digits(canonical: str) -> str | None:
    """``canonical`` with each digit glued to a Hangul or Cyrillic letter written as that letter
    (same length), or ``None`` when there is none."""
    if not _GLUED_DIGIT.search(canonical):
        return None

    def letter(match: re.Match[str]) -> str:
        at, digit = match.start(), match.group(0)
        beside = canonical[max(0, at - 1) : at + 2]
        if _HANGUL.search(beside):
            return _SINO_KOREAN[digit]
        return _CYRILLIC_LOOK.get(digit, digit) if _CYRILLIC.search(beside) else digit

    spoken = _GLUED_DIGIT.sub(letter, canonical)
    return spoken if spoken != canonical else None


def spoken_names(scripts: ScriptIndex, canonical: str) -> list[ScriptMatch]:
    """Names written with a digit for a letter ("짱9가", "пика4у"): found by ``scripts`` in the
    text with its digits read (same offsets), as near-misses."""
    spoken = spoken_digits(canonical)
    if spoken is None:
        return []
    return [replace(m, method="fuzzy", score=0.9) for m in scripts.find(spoken) if m.method == "exact"]


def _consonants(syllable: str) -> tuple[int, int]:
    code = ord(syllable) - 0xAC00
    return _NO_ASPIRATE[code // 588], code % 28


def _breath(a: str, b: str) -> bool:
    """Do two syllables' initials differ as plain against aspirated ("쥬" for "츄")? A tense
    initial against either is free: Korean writers tense a name's consonants for a cute or
    dialect sound ("삐까츄" for 피카츄, "쏜흥민" for 손흥민)."""
    first, second = (ord(a) - 0xAC00) // 588, (ord(b) - 0xAC00) // 588
    return first != second and first not in _TENSE and second not in _TENSE


def _vowel(syllable: str) -> int:
    return (ord(syllable) - 0xAC00) % 588 // 28


class HangulSlipIndex:
    """Hangul-only names of three syllables or more; ``find`` returns them spelt with tense
    consonants or one vowel off (never as written: the script index has those)."""

    def __init__(self, entries: Iterable[tuple[ScriptEntry, str]]) -> None:
        self._by_consonants: dict[tuple[tuple[int, int], ...], list[tuple[ScriptEntry, str]]] = defaultdict(list)
        for entry, name in entries:
            compact = name.replace(" ", "")
            if entry.alias or entry.stem or entry.entity_id is None or len(compact) < _MIN_SYLLABLES:
                continue
            if not all("\uac00" <= ch <= "\ud7a3" for ch in compact):
                continue
            self._by_consonants[tuple(_consonants(ch) for ch in compact)].append((entry, compact))
        self._lengths = sorted({len(k) for k in self._by_consonants})

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_consonants.values())

    def find(self, canonical: str) -> list[ScriptMatch]:
        if not self._lengths or canonical.isascii():
            return []
        out: list[ScriptMatch] = []
        for word in _WORD.finditer(canonical):
            text = word.group(0)
            shape = [_consonants(ch) for ch in text]
            for length in self._lengths:
                if length > len(text):
                    break
                tail = text[length:]
                if tail and tail not in PARTICLES:
                    continue  # a name ends the word or comes before a particle
                for entry, name in self._by_consonants.get(tuple(shape[:length]), ()):
                    window = text[:length]
                    slips = sum(_vowel(a) != _vowel(b) or _breath(a, b) for a, b in zip(window, name, strict=True))
                    if window != name and slips <= 1:
                        end = word.start() + length
                        out.append(ScriptMatch(entry, word.start(), end, "fuzzy", 1.0 - 1.0 / length))
        return out
