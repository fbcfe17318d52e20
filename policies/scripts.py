"""Names in scripts that the word tokenizer reads badly: kana, Hangul, Cyrillic, Arabic, Devanagari.

Japanese runs kana words and particles together ("ミッキーマウスがビーチで"), Korean glues particles
to names ("아이언맨이") and Russian inflects them ("Трампа"), so these names are found as
substrings of a *skeleton* of the canonical text instead of as token sequences:

- spaces, middle dots, hyphens, the katakana long-vowel mark and small/sokuon kana are dropped
  and small kana enlarged ("ハリー・ポッター" = "ハリポッタ" = "ハリ ポッタ"); Indic and Arabic marks
  are dropped (the same spelling with or without a virama or a vowel mark);
- Han look-alikes of katakana next to katakana are read as katakana ("ピ力チュウ" with 力 for カ);
- every name also matches with one letter typed twice ("ميسسي") from four skeleton letters, with
  one letter dropped or two letters after the first swapped ("Пуитн") from five (five kana), and
  with its first letter swapped or dropped ("Бикачу") from six (five kana), unless the word so
  found is an everyday word ("пути" is "of the way").

Where a match may start and end is the script's word boundary (this is what keeps short names
from matching inside ordinary words: 메시 in 메시지 "message", マリオ in マリオネット): Hangul, Cyrillic,
Arabic and Devanagari names start at a word start, and short ones also end at a word end (or before
a Korean particle, or one inflection letter); katakana names are not glued to more katakana.
Chinese (Han-only) names are left to the segmenter (``policies.normalize``), which keeps "川普" out
of "四川普通话".
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ScriptEntry",
    "script_of",
    "ScriptMatch",
    "ScriptIndex",
    "skeleton",
    "needs_script_index",
    "strip_between_cjk",
    "LOOKALIKE",
    "CJK_CLASS",
    "CJK_SEPARATORS",
    "PARTICLES",
]

# Katakana that differ by a stroke's slant (ソ/ン, ツ/シ): one letter each, so "アイアソマソ" is "アイアンマン".
_KANA_LOOKALIKE = str.maketrans("ソツ", "ンシ")
# Long and short Devanagari vowel letters are one letter ("स्पाईडर" and "स्पाइडर"): their signs are dropped too.
_DEVA_VOWELS = str.maketrans("आईऊऐऔ", "अइउएओ")
_SMALL_KANA = str.maketrans("ぁぃぅぇぉゃゅょゎァィゥェォャュョヮヵヶ", "あいうえおやゆよわアイウエオヤユヨワカケ")
_DROP = frozenset(" \t\n・･·‧•ー-‐‑–—_.'’ッっ")
# Han characters that look like katakana; read as katakana only beside katakana.
_HAN_AS_KANA = {"力": "カ", "口": "ロ", "工": "エ", "二": "ニ", "夕": "タ", "卜": "ト", "八": "ハ", "一": "ー"}
_PARTICLES = frozenset(
    [
        "이",
        "가",
        "은",
        "는",
        "을",
        "를",
        "의",
        "와",
        "과",
        "도",
        "에",
        "랑",
        "께",
        "로",
        "에게",
        "에서",
        "으로",
        "한테",
        "처럼",
        "하고",
        "이랑",
        "이는",
        "이가",
        "이와",
        "이의",
        "도",
        "만",
    ]
)
PARTICLES = _PARTICLES  # Korean particles and endings that may follow a name
_MIN_DOUBLE = 4  # skeleton letters from which one letter typed twice is still this name
_MIN_EDIT = 5  # skeleton letters from which a dropped or swapped letter is still this name
_MIN_EDIT_KANA = 5  # a kana is a syllable, but four-kana names with one off are everyday words
# (シーハルク -> シルク "silk", マスク氏 -> マスク "mask")
_MIN_FIRST = 6  # skeleton letters from which the first letter may be changed or dropped
_MIN_FIRST_KANA = 5
_ARABIC_PREFIXES = "وبلفك"  # and, with, to, so, as: written joined to the next word
_INFLECTION = 2  # letters an inflected Cyrillic/Arabic/Devanagari name may carry after its stem


def script_of(ch: str) -> str:
    """The script of one character: kata, hira, hangul, cyrl, arab, deva, han, latin or other."""
    o = ord(ch)
    if 0x30A0 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kata"
    if 0x3040 <= o <= 0x309F:
        return "hira"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x0400 <= o <= 0x04FF:
        return "cyrl"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F:
        return "arab"
    if 0x0900 <= o <= 0x097F:
        return "deva"
    if 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF:
        return "han"
    return "latin" if ch.isalpha() else "other"


def needs_script_index(name: str) -> bool:
    """True for names with kana, Hangul, Cyrillic, Arabic or Devanagari letters."""
    return any(script_of(ch) in ("kata", "hira", "hangul", "cyrl", "arab", "deva") for ch in name)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me")


def skeleton(text: str) -> tuple[str, list[int], list[bool], list[str]]:
    """(skeleton, position in ``text`` of each skeleton letter, word-start flag and script of
    each letter). Cyrillic look-alikes of Latin letters are written as the Latin letter in the
    skeleton (both ways round: a disguise may go either way), so "Путин" and "Пyтин" agree."""
    out: list[str] = []
    where: list[int] = []
    starts: list[bool] = []
    scripts: list[str] = []
    boundary = True
    for i, ch in enumerate(text):
        if ch in _HAN_AS_KANA and _beside_katakana(text, i):
            ch = _HAN_AS_KANA[ch]
        if ch.isspace() or (not ch.isalnum() and ch not in _DROP and not _is_mark(ch)):
            boundary = True
            continue
        if ch in _DROP or _is_mark(ch):
            continue  # dropped, but it does not end a word ("ハリー・ポッター" is one name)
        ch = ch.translate(_SMALL_KANA).translate(_KANA_LOOKALIKE).translate(_DEVA_VOWELS)
        script = script_of(ch)
        kinds = (_KIND.get(script, script), _KIND.get(scripts[-1], scripts[-1])) if scripts else None
        if kinds and kinds[0] != kinds[1] and not set(kinds) <= _ONE_WORD:
            boundary = True  # a change of script starts a word ("一张путин的", "путинが")
        out.append(ch.translate(LOOKALIKE))
        where.append(i)
        starts.append(boundary)
        scripts.append(script)
        boundary = False
    return "".join(out), where, starts, scripts


# A change of script starts a word, except between kana and Han (they mix in one Japanese word).
_ONE_WORD = frozenset({"kana", "han"})
_KIND = {"kata": "kana", "hira": "kana"}
# A Cyrillic letter and the Latin one it passes for share one skeleton letter.
LOOKALIKE = str.maketrans("авеёкмнорстухіјѕһӏипг", "abeekmhopctyxijshlunr")


def _beside_katakana(text: str, i: int) -> bool:
    return (i > 0 and script_of(text[i - 1]) == "kata") or (i + 1 < len(text) and script_of(text[i + 1]) == "kata")


@dataclass(frozen=True, slots=True)
class ScriptEntry:
    owner: str
    term: str
    entity_id: str | None = None
    alias: bool = False  # an indirect reference: matched as written, never with a letter off
    stem: bool = False  # a rule term (not a name): it starts a word and may run on (any inflection)


@dataclass(frozen=True, slots=True)
class ScriptMatch:
    entry: ScriptEntry
    start: int
    end: int
    method: str  # exact | fuzzy
    score: float


@dataclass(frozen=True, slots=True)
class _Key:
    entry: ScriptEntry
    script: str
    length: int  # of the full skeleton of the name
    kind: str  # exact | drop | swap0 | swap | double
    # Short Devanagari names: the spelling with its marks, which must then match too. Up to three
    # consonants with their vowel signs dropped are too common a skeleton ("मेसी" Messi and "मांस"
    # meat are both म-स).
    spelled: str | None = None
    words: int = 1  # in the name: a name with a letter off may not run across more word starts


class ScriptIndex:
    """Every non-Latin, non-Han name; ``find`` returns the names in one canonical text."""

    def __init__(self, entries: Iterable[tuple[ScriptEntry, str]], *, common: frozenset[str] = frozenset()) -> None:
        """``entries``: (entry, canonical name) pairs; names without a letter of these scripts
        are ignored. ``common``: everyday words (canonical) that a name with a letter off must
        not be read into ("на пути" is "on the way", not Путин; "مايو" is May, not Mario)."""
        self._common = common
        self._keys: dict[str, list[_Key]] = defaultdict(list)
        for entry, name in entries:
            if not needs_script_index(name):
                continue
            skel, _, _, _ = skeleton(name)
            script = _main_script(name)
            if len(skel) < 2:
                continue
            spelled = _spelled(name) if script == "deva" and len(skel) <= _SHORT_DEVA else None
            words = len(name.split())
            self._add(skel, entry, script, len(skel), "exact", spelled, words)
            if script == "kata":  # the same name typed in hiragana, or all in katakana ("ドラエモン")
                self._add(skel.translate(_KATA_TO_HIRA), entry, "hira", len(skel), "exact")
                if skel.translate(_HIRA_TO_KATA) != skel:
                    self._add(skel.translate(_HIRA_TO_KATA), entry, "kata", len(skel), "exact")
            if not entry.alias and not entry.stem:
                self._add_slips(skel, entry, script, words)
        self._lengths = sorted({len(k) for k in self._keys}, reverse=True)

    def _add_slips(self, skel: str, entry: ScriptEntry, script: str, words: int) -> None:
        """The name's skeleton with one letter typed twice, dropped or swapped, by its length."""
        kana = script in ("kata", "hira")
        if len(skel) >= (_MIN_EDIT_KANA if kana else _MIN_DOUBLE):
            for i in range(len(skel)):  # one letter typed twice ("ميسسي" for ميسي)
                self._add(skel[: i + 1] + skel[i:], entry, script, len(skel), "double", None, words)
        if len(skel) < (_MIN_EDIT_KANA if kana else _MIN_EDIT):
            return
        # A changed or dropped first letter only from six letters (five kana): "самбо" is a word,
        # not Дамбо; "Тани" a girl's name, not Отани.
        first = len(skel) >= (_MIN_FIRST_KANA if kana else _MIN_FIRST)
        for i in range(0 if first else 1, len(skel)):
            self._add(skel[:i] + skel[i + 1 :], entry, script, len(skel), "drop", None, words)
        for i in range(1, len(skel) - 1):  # two letters swapped ("Пуитн"); never the first
            if skel[i] != skel[i + 1]:
                swapped = skel[:i] + skel[i + 1] + skel[i] + skel[i + 2 :]
                self._add(swapped, entry, script, len(skel), "swap", None, words)
        if first:
            self._add(skel[1:], entry, script, len(skel), "swap0", None, words)

    def _add(
        self,
        key: str,
        entry: ScriptEntry,
        script: str,
        length: int,
        kind: str,
        spelled: str | None = None,
        words: int = 1,
    ) -> None:
        bucket = self._keys[key]
        if not any(k.entry == entry and k.kind == kind for k in bucket):
            bucket.append(_Key(entry, script, length, kind, spelled, words))

    def __len__(self) -> int:
        return len(self._keys)

    def find(self, canonical: str) -> list[ScriptMatch]:
        if not self._keys or canonical.isascii():
            return []
        skel, where, starts, scripts = skeleton(canonical)
        best: dict[tuple[ScriptEntry, int], ScriptMatch] = {}
        n = len(skel)
        for i in range(n):
            for length in self._lengths:
                j = i + length
                if j > n:
                    continue
                for key in self._keys.get(skel[i:j], ()):
                    start = i - 1 if key.kind == "swap0" else i
                    if start < 0 or not self._fits(key, skel, starts, scripts, start, j):
                        continue
                    if (
                        key.kind != "exact"
                        and self._common
                        and _word_at(canonical, where[start], where[j - 1] + 1) in self._common
                    ):
                        continue
                    if (
                        key.spelled is not None
                        and _spelled(_with_marks(canonical, where[start], where[j - 1] + 1)) != key.spelled
                    ):
                        continue
                    score = 1.0 if key.kind == "exact" else 1.0 - 1.0 / key.length
                    found = ScriptMatch(
                        key.entry, where[start], where[j - 1] + 1, "exact" if key.kind == "exact" else "fuzzy", score
                    )
                    held = best.get((key.entry, found.start))
                    if held is None or found.score > held.score:
                        best[(key.entry, found.start)] = found
        # A name found as written beats another name found with a letter off in the same place
        # (Arabic "ترودو" is Trudeau, not "فرودو" Frodo with its first letter swapped).
        exact = [m for m in best.values() if m.method == "exact" and not m.entry.stem]
        return [
            m
            for m in best.values()
            if m.method == "exact"
            or not any(e.start < m.end and m.start < e.end and e.entry.entity_id != m.entry.entity_id for e in exact)
        ]

    @staticmethod
    def _fits(key: _Key, skel: str, starts: list[bool], scripts: list[str], i: int, j: int) -> bool:
        """Does a match of ``key`` at skeleton ``[i, j)`` sit on the script's word boundaries?"""
        before = scripts[i - 1] if i > 0 and not starts[i] else None
        after = scripts[j] if j < len(skel) and not starts[j] else None
        if key.kind == "swap0" and (not starts[i] or scripts[i] != key.script):
            return False  # the swapped first letter is a letter of the same script at a word start
        glued = key.script == "arab" and i > 0 and starts[i - 1] and skel[i - 1] in _ARABIC_PREFIXES
        if key.entry.stem:  # Japanese has no word starts to keep; elsewhere a term starts a word
            return key.script in ("kata", "hira") or starts[i] or glued
        if key.script == "kata":
            return before != "kata" and after != "kata"
        if key.script == "hira":
            return key.length >= 4 and before != "hira"
        if not starts[i] and not glued:
            return False  # Arabic glues "and", "with", "to" to a name; nothing else may precede
        tail = skel[j : j + _tail(skel, starts, j)]
        # A letter off and more words than the name, or an ending, reads into other words
        # ("में जागरूकता" is not Mick Jagger, "في درس" not Federer).
        if key.kind != "exact" and key.script != "hangul" and (tail or sum(starts[i + 1 : j]) > key.words - 1):
            return False
        if not tail:
            return True
        if key.script == "hangul":  # a particle, or any ending after a long name
            return key.length >= 5 or tail in _PARTICLES
        # Long names may carry an inflection ("Трампа", "Путина"); never run into another word.
        return key.length >= 4 and len(tail) <= _INFLECTION


_SHORT_DEVA = 3  # Devanagari names of at most this many skeleton letters must match with their marks
# (मंडेला Mandela and मॉडल "model" are both म-ड-ल)


def _spelled(text: str) -> str:
    """The letters and marks of ``text``, without spaces and dropped signs."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in _DROP)


def _with_marks(text: str, start: int, end: int) -> str:
    """``text[start:end]`` and the marks that follow it (a last consonant's vowel sign)."""
    while end < len(text) and _is_mark(text[end]):
        end += 1
    return text[start:end]


def _word_at(text: str, start: int, end: int) -> str:
    """The whole word of ``text`` around ``[start, end)``: letters and marks either side."""
    while start > 0 and (text[start - 1].isalnum() or _is_mark(text[start - 1])):
        start -= 1
    while end < len(text) and (text[end].isalnum() or _is_mark(text[end])):
        end += 1
    return text[start:end]


def _tail(skel: str, starts: list[bool], j: int) -> int:
    k = j
    while k < len(skel) and not starts[k]:
        k += 1
    return k - j


def _main_script(name: str) -> str:
    counts: dict[str, int] = defaultdict(int)
    for ch in name:
        counts[script_of(ch)] += 1
    for script in ("kata", "hira", "hangul", "cyrl", "arab", "deva"):
        if counts.get(script):
            return script if script != "hira" or not counts.get("kata") else "kata"
    return "other"


_KATA_TO_HIRA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}
_HIRA_TO_KATA = {c - 0x60: c for c in range(0x30A1, 0x30F7)}


def strip_between_cjk(text: str) -> str:
    """Spaces and dots between Han or kana letters removed ("米 老 鼠", "米.老.鼠" -> "米老鼠");
    Chinese and Japanese do not space their words, so a space there only hides a name."""
    return _CJK_GAP.sub("", text)


CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and Han (a regex class body)
# Marks typed between Han or kana letters to break a name up ("钢.铁.侠"): removed with the spaces.
CJK_SEPARATORS = r"[.·•*_~|/\\-]"
# A space between two Han/kana letters, or between one and a lone Latin letter or digit that itself
# sits between them ("哆 啦 A 梦").
_CJK_GAP = re.compile(
    rf"(?<=[{CJK_CLASS}])(?:\s+|\s*{CJK_SEPARATORS}\s*)(?=[{CJK_CLASS}])|(?<=[{CJK_CLASS}])\s+(?=[a-z0-9]\s*[{CJK_CLASS}])"
    rf"|(?<=[{CJK_CLASS}][a-z0-9])\s+(?=[{CJK_CLASS}])|(?<=[{CJK_CLASS}]\s[a-z0-9])\s+(?=[{CJK_CLASS}])"
)
