"""Deterministic obfuscations of a word, as people type them to slip past filters.

Used by the tests (a denied name must stay denied under every one) and by the benchmark to build
evasive variants of plain prompts. Not used by the engine itself.
"""

from __future__ import annotations

import random

__all__ = ["EVASIONS", "evade", "evade_prompt"]

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_HOMOGLYPH = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}


def _leet(word: str, rng: random.Random) -> str:
    return "".join(_LEET.get(ch.lower(), ch) for ch in word)


def _spaced(word: str, rng: random.Random) -> str:
    return " ".join(word)


def _dotted(word: str, rng: random.Random) -> str:
    return rng.choice(".-_*").join(word)


def _homoglyph(word: str, rng: random.Random) -> str:
    return "".join(_HOMOGLYPH.get(ch, ch) for ch in word)


def _zero_width(word: str, rng: random.Random) -> str:
    return "\u200b".join(word)


def _fullwidth(word: str, rng: random.Random) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in word)


def _typo(word: str, rng: random.Random) -> str:
    """One edit inside the word (never the first letter): swap, drop or double a letter."""
    if len(word) < 5:
        return word
    k = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    if kind == "drop":
        return word[:k] + word[k + 1 :]
    return word[:k] + word[k] + word[k:]


def _case(word: str, rng: random.Random) -> str:
    return "".join(ch.upper() if i % 2 else ch.lower() for i, ch in enumerate(word))


EVASIONS = {
    "leet": _leet,
    "spaced": _spaced,
    "dotted": _dotted,
    "homoglyph": _homoglyph,
    "zero-width": _zero_width,
    "fullwidth": _fullwidth,
    "typo": _typo,
    "case": _case,
}


def evade(word: str, kind: str, *, seed: int = 0) -> str:
    """``word`` obfuscated one way (see ``EVASIONS``)."""
    return EVASIONS[kind](word, random.Random(f"{seed}:{word}:{kind}"))


def evade_prompt(prompt: str, target: str, kind: str, *, seed: int = 0) -> str:
    """``prompt`` with every word of ``target`` (case-insensitive) obfuscated."""
    lower = prompt.lower()
    start = lower.find(target.lower())
    if start < 0:
        return prompt
    words = prompt[start : start + len(target)].split(" ")
    return prompt[:start] + " ".join(evade(w, kind, seed=seed) for w in words) + prompt[start + len(target) :]
