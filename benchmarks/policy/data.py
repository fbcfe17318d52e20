"""The multilingual benchmark's data: the dev and held-out prompt files, and their obfuscations.

``heldout_prompts.jsonl`` was written first, before any pack was edited for issue #22, and is
never used for tuning; each later ``heldout_vN_prompts.jsonl`` was written by authors who saw
only the issue's families and the entity ids (v5 to v8: ``heldout_v5_brief.md`` to
``heldout_v8_brief.md``, all with ``heldout_v5_entities.txt``). Dev is every
``dev*_prompts.jsonl``: what thresholds, exemplars, names and works were tried on. Each line: ``id``, ``prompt``, ``lang``, ``family``, ``expect`` (``refuse``: must not be
generated; ``allow``: must be; ``consent``: must be a require-consent for ``entity``, the real
person, and nothing else), ``entity``, and for the ``name`` family ``surface`` (the name as
written, which the obfuscator disguises).

The obfuscator here is written for the benchmark, independently of the engine's normaliser and
matcher (it is not their mirror): it changes first letters, drops letters, swaps in look-alike
letters from other scripts, and spaces names out, in every script where the operation means
something, with a fixed seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Prompt", "load", "heldout_sets", "obfuscate", "OBFUSCATIONS", "HERE"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    prompt: str
    lang: str
    family: str
    expect: str
    entity: str | None = None
    surface: str | None = None


def heldout_sets() -> list[str]:
    """The names of the held-out sets: every ``heldout*_prompts.jsonl`` here (``heldout``,
    ``heldout2``, ...), found by file name only; none is opened here."""
    return sorted(path.name[: -len("_prompts.jsonl")] for path in HERE.glob("heldout*_prompts.jsonl"))


def load(split: str) -> list[Prompt]:
    """``split``: ``dev`` or the name of a held-out set (``heldout_sets()``)."""
    if split != "dev" and split not in heldout_sets():
        raise ValueError(f"no prompt set {split!r}: use dev or one of {heldout_sets()}")
    # dev is every dev*_prompts.jsonl (each tuning round adds its own file); a held-out set is one file.
    paths = sorted(HERE.glob("dev*_prompts.jsonl")) if split == "dev" else [HERE / f"{split}_prompts.jsonl"]
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    out.append(Prompt(**{k: row.get(k) for k in Prompt.__dataclass_fields__}))
    return out


def _script(ch: str) -> str:
    o = ord(ch)
    if ch.isascii():
        return "latin" if ch.isalpha() else "other"
    if 0x00C0 <= o <= 0x024F:
        return "latin"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x30A0 <= o <= 0x30FF or 0x3040 <= o <= 0x309F:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF:
        return "hangul"
    if 0x4E00 <= o <= 0x9FFF:
        return "han"
    if 0x0600 <= o <= 0x06FF:
        return "arabic"
    if 0x0900 <= o <= 0x097F:
        return "devanagari"
    return "other"


# Look-alikes across scripts, as a person with a Unicode table would pick them.
_LATIN_TO_CYRILLIC = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і",
                      "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
                      "P": "Р", "T": "Т", "X": "Х", "S": "Ѕ"}
_CYRILLIC_TO_LATIN = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "к": "k",
                      "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
                      "С": "C", "Т": "T", "Х": "X"}
_KANA_TO_HAN = {"カ": "力", "ロ": "口", "エ": "工", "ニ": "二", "ー": "一", "ト": "卜", "ハ": "八", "タ": "夕"}
_ARABIC_VARIANTS = {"ي": "ی", "ك": "ک", "ه": "ہ"}  # Persian/Urdu letters that look the same
_KANA_SHIFT = {"ピ": "ビ", "ビ": "ピ", "パ": "バ", "バ": "パ", "ド": "ト", "ト": "ド", "ミ": "ニ", "ハ": "バ",
               "ス": "ズ", "テ": "デ", "ア": "ャ", "ソ": "ゾ", "シ": "ジ", "ナ": "ダ", "ゴ": "コ", "ジ": "シ",
               "マ": "ヌ", "ワ": "ウ", "ポ": "ボ", "ベ": "ペ", "ヘ": "ベ", "ル": "レ", "ヴ": "ブ"}
_CYRILLIC_LETTERS = "бвгдзклмнпрстфхцчшщ"
_LATIN_LETTERS = "bcdfgklmnprstvz"


def _first_letter(name: str, rng: random.Random) -> str | None:
    """The first letter changed to another of its script ("Pikachu" -> "Bikachu")."""
    first = name[0]
    script = _script(first)
    if script == "latin":
        choices = [c for c in _LATIN_LETTERS if c != first.lower()]
        new = rng.choice(choices)
        return (new.upper() if first.isupper() else new) + name[1:]
    if script == "cyrillic":
        new = rng.choice([c for c in _CYRILLIC_LETTERS if c != first.lower()])
        return (new.upper() if first.isupper() else new) + name[1:]
    if script == "kana" and first in _KANA_SHIFT:
        return _KANA_SHIFT[first] + name[1:]
    return None  # Han, Hangul, Arabic, Devanagari: no sensible "first-letter typo" to model


def _drop_letter(name: str, rng: random.Random) -> str | None:
    """One letter other than the first dropped from a name of five letters or more."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0]
    if len(letters) < 4 or _script(name[0]) in ("han",):
        return None
    i = rng.choice(letters)
    return name[:i] + name[i + 1 :]


def _homoglyph(name: str, rng: random.Random) -> str | None:
    """Two letters swapped for look-alikes from another script (or an Arabic-script variant)."""
    script = next((_script(ch) for ch in name if _script(ch) != "other"), "other")
    table = {"latin": _LATIN_TO_CYRILLIC, "cyrillic": _CYRILLIC_TO_LATIN, "kana": _KANA_TO_HAN,
             "arabic": _ARABIC_VARIANTS}.get(script)
    if table is None:
        return None
    spots = [i for i, ch in enumerate(name) if ch in table]
    if not spots:
        return None
    chars = list(name)
    for i in rng.sample(spots, min(2, len(spots))):
        chars[i] = table[chars[i]]
    return "".join(chars)


def _spaced(name: str, rng: random.Random) -> str | None:
    """Every letter spaced out ("m i c k e y", "米 老 鼠", "미 키 마 우 스")."""
    return " ".join(ch for ch in name if not ch.isspace())


OBFUSCATIONS = {"first-letter": _first_letter, "dropped-letter": _drop_letter, "homoglyph": _homoglyph,
                "spacing": _spaced}


def obfuscate(prompts: list[Prompt], seed: int = 22) -> list[tuple[str, Prompt]]:
    """(kind, disguised prompt) for every ``name`` prompt and every obfuscation that applies."""
    rng = random.Random(seed)
    out = []
    for p in prompts:
        if p.family != "name" or not p.surface:
            continue
        for kind, make in OBFUSCATIONS.items():
            disguised = make(p.surface, rng)
            if disguised is None or disguised == p.surface:
                continue
            text = p.prompt.replace(p.surface, disguised, 1)
            out.append((kind, Prompt(f"{p.id}-{kind}", text, p.lang, f"obfuscated:{kind}", p.expect, p.entity, disguised)))
    return out
