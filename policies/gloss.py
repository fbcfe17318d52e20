"""English glosses for prompts in a language the semantic model does not read (Hindi).

USE-multilingual (``policies.multilingual``) was trained on sixteen languages; Hindi is not one of
them, so a Hindi prompt's meaning would reach the semantic stage as unknown pieces. Here a Hindi
prompt is glossed word by word into English from a bundled glossary (``glossary/hi.txt``:
``word<TAB>gloss``, ``-`` for grammar words that carry nothing a scene needs), and the model
reads the gloss. Word order stays Hindi (postpositions after their nouns), which a bag-of-n-grams
encoder mostly tolerates. Words not in the glossary, after the usual endings are tried off, are
kept as written: names, which the lexical stage reads in Devanagari anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from policies.errors import PolicyPackError
from policies.normalize import has_devanagari

__all__ = ["Glossary", "hindi_glossary", "mostly_devanagari"]

_LETTER = re.compile(r"[^\W\d_]")
# A word of Devanagari letters and marks, or any other run that is not a space.
_WORD = re.compile(r"[\u0900-\u0963\u0966-\u097f]+|[^\s\u0900-\u0963\u0966-\u097f]+")
_NUKTA = str.maketrans({"\u093c": None, "\u0901": "\u0902"})  # nukta dropped, chandrabindu as anusvara
# Inflectional endings, longest first: plural and oblique nouns, verb forms, adjective agreement.
_ENDINGS = (
    "ियों",
    "ियां",
    "ियाँ",
    "ाएं",
    "ाएँ",
    "ाओं",
    "ाता",
    "ाती",
    "ाते",
    "ाना",
    "ाने",
    "ाया",
    "ायी",
    "ाये",
    "ेगा",
    "ेगी",
    "ेंगे",
    "ता",
    "ती",
    "ते",
    "ना",
    "ने",
    "नी",
    "ों",
    "ें",
    "ीं",
    "ां",
    "ी",
    "े",
    "ा",
    "ो",
)


class Glossary:
    """A word -> English gloss table (an empty gloss drops the word)."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._words = {_fold(word): gloss for word, gloss in entries.items()}

    def __len__(self) -> int:
        return len(self._words)

    def word(self, word: str) -> str | None:
        """The gloss of one Devanagari word (tried as written, then without an ending), or None."""
        key = _fold(word)
        if key in self._words:
            return self._words[key]
        for ending in _ENDINGS:
            if key.endswith(ending) and len(key) - len(ending) >= 2:
                stem = key[: -len(ending)]
                for candidate in (stem, stem + "ा", stem + "ना"):
                    if candidate in self._words:
                        return self._words[candidate]
        return None

    def gloss(self, text: str) -> str:
        """``text`` with every known Devanagari word replaced by its gloss; the rest kept."""
        out = []
        for match in _WORD.finditer(text):
            token = match.group(0)
            found = self.word(token) if has_devanagari(token) else None
            if found is None:
                out.append(token)
            elif found:
                out.append(found)
        return " ".join(out)


def mostly_devanagari(text: str) -> bool:
    """At least half of the letters are Devanagari: a Hindi prompt, not an English one with a name."""
    # Devanagari counts twice, once among the letters and once with its marks: a Hindi prompt
    # with English style tags ("..., cinematic, 4k") is still read as Hindi.
    marks_and_letters = [ch for ch in text if "\u0900" <= ch <= "\u097f"]
    letters = _LETTER.findall(text) + marks_and_letters
    devanagari = sum(1 for ch in letters if "\u0900" <= ch <= "\u097f")
    return bool(letters) and devanagari * 2 >= len(letters)


@lru_cache(maxsize=1)
def hindi_glossary() -> Glossary:
    """The bundled Hindi glossary (``policies/glossary/hi.txt``); ``PolicyPackError`` naming the
    line if it is malformed."""
    source = resources.files("policies").joinpath("glossary", "hi.txt")
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyPackError(f"bundled:glossary/hi.txt: cannot read the Hindi glossary: {exc}") from None
    return Glossary(parse(text, "bundled:glossary/hi.txt"))


def parse(text: str, name: str) -> dict[str, str]:
    """``word<TAB>gloss`` lines (``#`` comments, blank lines skipped; ``-`` is an empty gloss)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, tab, gloss = line.partition("\t")
        if not tab or not word.strip() or not gloss.strip():
            raise PolicyPackError(f"{name}:{number}: expected 'word<TAB>gloss', got {line!r}")
        entries[word.strip()] = "" if gloss.strip() == "-" else gloss.strip()
    return entries


def _fold(word: str) -> str:
    return word.translate(_NUKTA)
