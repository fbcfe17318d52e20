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
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from policies.normalize import SEGMENTER
from policies.scripts import ScriptEntry, ScriptMatch

__all__ = ["HanSoundIndex", "reading"]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}a-z0-9]*[{_HAN}][{_HAN}a-z0-9]*")
_NAME = re.compile(rf"[{_HAN}a-z0-9]+")
_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_MIN_CHARS = 3


@lru_cache(maxsize=65536)
def reading(ch: str) -> str:
    """One character's folded, toneless reading (a Latin letter or digit reads as itself)."""
    if not _is_han(ch):
        return ch
    from pypinyin import Style, lazy_pinyin

    syllable = lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0].lower()
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
        for entry, name in entries:
            if entry.alias or entry.stem or entry.entity_id is None:
                continue
            compact = "".join(_NAME.findall(name))
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
        if not self._lengths or canonical.isascii():
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
        return [m for m in out if _on_word_edges(canonical, m.start, m.end)]

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
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


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
