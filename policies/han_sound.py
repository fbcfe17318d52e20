"""Chinese names disguised by sound or by hand: a homophone for one character ("特郎普" for 特朗普,
"马思克" for 马斯克), a variant of it ("米老鼡" for 米老鼠, "鋼鐡人" for 鋼鐵人), two characters swapped
("菲加猫" for 加菲猫) or one doubled ("奥特特曼" for 奥特曼).

The word index (``policies.matching``) finds Chinese names only as written, and the Latin fuzzy
rules mean nothing for Han: a typo in Chinese is another character with the same reading. So
names of three characters or more are also looked up by their toneless reading (``pypinyin``,
MIT, its dictionary shipped in the wheel), with the initials and finals that Mandarin speakers
merge folded together (zh/z, ch/c, sh/s, l/n, -ng/-n). A reading alone is not enough: all but
one character (two from four) must be the name's own, and the match must start and end where
the segmenter cuts the text, so "钢铁下面" ("under the steel") is not 钢铁侠 with a homophone.

Two more disguises are read the same way: a character written as its pinyin ("ha利波特",
"mi 老鼠", "钢铁ren"; the syllable counts as the character it spells), and a two-character
person's name with one character swapped for a homophone ("普金" for 普京, "拜灯" for 拜登). Two
characters are a short key, so that last one counts only for real people, only where the two
characters are not a word of the segmenter's dictionary ("美西", the American West, is not 梅西).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from policies.normalize import SEGMENTER
from policies.scripts import ScriptEntry, ScriptMatch, script_of

__all__ = ["HanSoundIndex", "reading"]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}a-z0-9]*[{_HAN}][{_HAN}a-z0-9]*")
_NAME = re.compile(rf"[{_HAN}a-z0-9]+")
_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_MIN_CHARS = 3
# A run of Han characters with pinyin syllables glued to them or one space away ("mi 老鼠").
_UNIT = re.compile(rf"[{_HAN}]|[a-z]+|[0-9]")
_PINYIN = re.compile(r"[a-z]{2,6}")
_PEOPLE = "rule:likeness."  # owners whose two-character names count by sound


@lru_cache(maxsize=65536)
def reading(ch: str) -> str:
    """One character's folded, toneless reading (a Latin letter or digit reads as itself)."""
    if not _is_han(ch):
        return ch
    from pypinyin import Style, lazy_pinyin

    return _folded(lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0].lower())


def _folded(syllable: str) -> str:
    for merged, plain in _FOLD:
        if syllable.startswith(merged):
            syllable = plain + syllable[len(merged) :]
            break
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    return syllable[:-1] if syllable.endswith("ng") else syllable


class HanSoundIndex:
    """Names of three or more Han characters (Latin letters and digits may join them: 哆啦a梦);
    ``find`` returns their disguised spellings in one canonical text, never an exact one (the
    word index has those)."""

    def __init__(self, entries: Iterable[tuple[ScriptEntry, str]]) -> None:
        self._by_sound: dict[tuple[str, ...], list[tuple[ScriptEntry, str]]] = defaultdict(list)
        self._by_letters: dict[str, list[tuple[ScriptEntry, str]]] = defaultdict(list)
        self._by_bag: dict[str, list[tuple[ScriptEntry, str]]] = defaultdict(list)
        self._pairs: dict[tuple[str, ...], list[tuple[ScriptEntry, str]]] = defaultdict(list)
        for entry, name in entries:
            if entry.alias or entry.stem or entry.entity_id is None:
                continue
            compact = "".join(_NAME.findall(name))
            if len(compact) == 2 and all(map(_is_han, compact)) and entry.owner.startswith(_PEOPLE):
                self._pairs[tuple(map(reading, compact))].append((entry, compact))
            if len(compact) < _MIN_CHARS or sum(_is_han(ch) for ch in compact) < 2 or compact != name.replace(" ", ""):
                continue
            pair = (entry, compact)
            self._by_sound[tuple(reading(ch) for ch in compact)].append(pair)
            self._by_letters[compact].append(pair)
            self._by_bag["".join(sorted(compact))].append(pair)
        self._lengths = sorted({len(k) for k in self._by_letters})

    def __len__(self) -> int:
        return len(self._by_letters)

    def find(self, canonical: str) -> list[ScriptMatch]:
        if not (self._lengths or self._pairs) or canonical.isascii():
            return []
        out: list[ScriptMatch] = []
        for run in _RUN.finditer(canonical):
            text, base = run.group(0), run.start()
            sounds = [reading(ch) for ch in text]
            # Most runs hold no doubled character: look for a doubled name only in those that do.
            doubles = any(a == b and _is_han(a) for a, b in zip(text, text[1:], strict=False))
            for length in self._lengths:
                for i in range(len(text) - length + 1):
                    window = text[i : i + length]
                    for entry, name in self._disguised(window, tuple(sounds[i : i + length])):
                        out.append(ScriptMatch(entry, base + i, base + i + length, "fuzzy", 1.0 - 1.0 / len(name)))
                    doubled = text[i : i + length + 1]
                    if doubles and len(doubled) == length + 1:
                        for entry, name in self._by_letters.get(_undoubled(doubled), ()):
                            out.append(
                                ScriptMatch(entry, base + i, base + i + length + 1, "fuzzy", 1.0 - 1.0 / len(name))
                            )
            out += self._pair_sounds(text, sounds, base)
        out += self._spelt(canonical)
        return [m for m in out if _on_word_edges(canonical, m.start, m.end)]

    def _pair_sounds(self, text: str, sounds: list[str], base: int) -> list[ScriptMatch]:
        """Two-character people's names with one character by sound, never a dictionary word."""
        out = []
        for i in range(len(text) - 1):
            for entry, name in self._pairs.get((sounds[i], sounds[i + 1]), ()):
                window = text[i : i + 2]
                if sum(a == b for a, b in zip(window, name, strict=True)) == 1 and not SEGMENTER.known(window):
                    out.append(ScriptMatch(entry, base + i, base + i + 2, "fuzzy", 0.5))
        return out

    def _spelt(self, canonical: str) -> list[ScriptMatch]:
        """Names with characters written as their pinyin: each syllable glued to a Han character, or
        one space away, stands for one character of the same reading."""
        units = [(m.group(0), m.start(), m.end()) for m in _UNIT.finditer(canonical)]
        out: list[ScriptMatch] = []
        for run in _mixed_runs(canonical, units):
            sounds = tuple(_folded(u) if _PINYIN.fullmatch(u) else reading(u) for u, _, _ in run)
            for length in self._lengths:
                for i in range(len(run) - length + 1):
                    window = [u for u, _, _ in run[i : i + length]]
                    if not any(_PINYIN.fullmatch(u) for u in window):
                        continue  # all characters: the main pass has it
                    for entry, name in self._by_sound.get(sounds[i : i + length], ()):
                        same = sum(a == b for a, b in zip(window, name, strict=True))
                        if same >= 2 and same >= len(name) - (1 if len(name) < 4 else 2):
                            start, end = run[i][1], run[i + length - 1][2]
                            out.append(ScriptMatch(entry, start, end, "fuzzy", 1.0 - 1.0 / len(name)))
        return out

    def _disguised(self, window: str, sounds: tuple[str, ...]) -> list[tuple[ScriptEntry, str]]:
        found = []
        for entry, name in self._by_sound.get(sounds, ()):
            same = sum(a == b for a, b in zip(window, name, strict=True))
            if same < len(name) and same >= len(name) - (1 if len(name) < 4 else 2):
                found.append((entry, name))
        for entry, name in self._by_bag.get("".join(sorted(window)), ()):
            if _one_swap(window, name):
                found.append((entry, name))
        return found


def _is_han(ch: str) -> bool:
    return script_of(ch) == "han"


def _mixed_runs(text: str, units: list[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """Runs of units that touch (or a syllable one space from a character) and hold both a
    pinyin-sized syllable and a Han character."""
    runs: list[list[tuple[str, int, int]]] = []
    for unit in units:
        if runs and _touch(text, runs[-1][-1], unit):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return [
        run for run in runs if any(_PINYIN.fullmatch(u) for u, _, _ in run) and any(_is_han(u[0]) for u, _, _ in run)
    ]


def _touch(text: str, left: tuple[str, int, int], right: tuple[str, int, int]) -> bool:
    if right[1] == left[2]:
        return True
    one_space = right[1] == left[2] + 1 and text[left[2]] == " "
    return one_space and _is_han(left[0][0]) != _is_han(right[0][0])


def _undoubled(text: str) -> str:
    """``text`` with its one pair of doubled Han characters made single ("" if it has none or more)."""
    pairs = [k for k in range(len(text) - 1) if text[k] == text[k + 1] and _is_han(text[k])]
    return text[: pairs[0]] + text[pairs[0] + 1 :] if len(pairs) == 1 else ""


def _one_swap(window: str, name: str) -> bool:
    diff = [k for k, (a, b) in enumerate(zip(window, name, strict=True)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and window[diff[0]] == name[diff[1]]


def _on_word_edges(canonical: str, start: int, end: int) -> bool:
    """Does the segmenter cut the text at both ends of ``[start, end)``? A name spelt by sound
    is not a word, so it is cut around; a real word that sounds like a name runs past its edges."""
    lo = max(0, start - 8)
    hi = min(len(canonical), end + 8)
    cuts, at = {lo}, lo
    for word in SEGMENTER.cut(canonical[lo:hi]):
        at += len(word)
        cuts.add(at)
    return start in cuts and end in cuts
