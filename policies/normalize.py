"""Text normalisation and tokenisation that survive the usual evasions.

``normalize`` gives the canonical text every rule sees: NFKC, case folding, accents dropped,
look-alike letters from other scripts folded to Latin, zero-width and bidi controls removed,
traditional Chinese folded to simplified. It is idempotent (a fixed point is reached).

``tokenize`` cuts the canonical text into word tokens with their spans; leetspeak is undone per
token (``m1ck3y`` -> ``mickey``), runs of single letters are joined (``m i c k e y``) and Chinese
runs are segmented with jieba.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from policies.hangul import compose_jamo
from policies.scripts import CJK_CLASS, CJK_SEPARATORS, strip_between_cjk

__all__ = [
    "normalize",
    "light",
    "normalize_word",
    "tokenize",
    "Token",
    "has_cjk",
    "has_devanagari",
    "validate_prompt",
    "MAX_PROMPT_BYTES",
    "word_set",
]

MAX_PROMPT_BYTES = 16 * 1024

# Latin look-alikes from Cyrillic, Greek and a few symbol blocks (lower case: applied after casefold).
_CONFUSABLES = str.maketrans(
    "авеёкмнорстухіїјѕԁԛԝһӏɑɡıȷαβεηικνορτυχωγςσμ",
    "abeekmhopctyxiijsdqwhlagijabenikvoptuxwysou",
)
_CONFUSABLE_CHARS = frozenset(chr(c) for c in _CONFUSABLES)
_LATIN_LOOKALIKE = frozenset("abekmhopctyxunr")
_TO_CYRILLIC = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "e": "е",
        "k": "к",
        "m": "м",
        "h": "н",
        "o": "о",
        "p": "р",
        "c": "с",
        "t": "т",
        "y": "у",
        "x": "х",
        "u": "и",
        "n": "п",
        "r": "г",
    }
)
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
        "€": "e",
    }
)
_LEET_CHARS = frozenset("01345789@$!|+€")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_DEVANAGARI_RE = re.compile("[\u0900-\u097f]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD_RUN = re.compile(f"[^\\W_{_CJK}\u3040-\u30ff]+")  # Han and kana never fold: words end there
# A token: letters/digits (and @ $ used as letters), optionally glued by ! | + ("sh!t", "m|ckey").
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:[^\W_{_CJK}]|[@$€])+(?:[!|+](?:[^\W_{_CJK}]|[@$€])+)*)")
_SPACE_RE = re.compile(r"\s+")
_SPACED_CJK = re.compile(f"[{CJK_CLASS}](?:\\s|\\s*{CJK_SEPARATORS})")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # pure Python; imported lazily because it builds tables

    return OpenCC("t2s")


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def has_devanagari(text: str) -> bool:
    """Any Devanagari letter or mark (Hindi)."""
    return _DEVANAGARI_RE.search(text) is not None


def _fold_confusables(match: re.Match[str]) -> str:
    word = match.group(0)
    latin = sum("a" <= ch <= "z" for ch in word)
    cyrillic_only = sum("\u0400" <= ch <= "\u04ff" and ch not in _CONFUSABLE_CHARS for ch in word)
    if latin and cyrillic_only:
        # A Russian word with Latin look-alikes in it ("Mикки", "Tрамп"): the Latin letters are the
        # disguise; read them as the Cyrillic letters they imitate.
        return word.translate(_TO_CYRILLIC)
    # Fold only words that are Latin-mixed or made wholly of look-alikes, so Russian stays Russian
    # (a lone letter is decided by its neighbours: ``_lone_letters``).
    if latin or (len(word) > 1 and all(ch in _CONFUSABLE_CHARS or ch.isdigit() for ch in word)):
        return word.translate(_CONFUSABLES)
    return word


# Arabic-script letters written several ways (Persian/Urdu yeh and kaf, hamza seats, taa marbuta):
# one form each, so "بوتین" with a Persian yeh is "بوتين".
# The tatweel (kashida) only stretches a letter ("سـوبـرمـان"): dropped.
_ARABIC_VARIANTS = str.maketrans(
    {"ی": "ي", "ى": "ي", "ک": "ك", "ہ": "ه", "ة": "ه", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ـ": ""}
)
# Korean vowels that sound alike and are confused in spelling (ㅐ/ㅔ, ㅒ/ㅖ, ㅙ/ㅚ/ㅞ), as
# conjoining jamo between NFKD and NFKC: "도라애몽" and "도라에몽" are one name.
_HANGUL_VOWELS = str.maketrans({"\u1162": "\u1166", "\u1164": "\u1168", "\u116b": "\u1170", "\u116c": "\u1170"})
# ヂ/ヅ are pronounced and typed as ジ/ズ ("ゴヂラ" for ゴジラ); with their voicing marks dropped
# below they would read as チ/ツ.
_YOTSUGANA = str.maketrans("ヂヅぢづ", "ジズじず")
# Three or more single letters spaced out ("п у т и н", "b a t m a n").
_LETTER = f"[^\\W\\d_{CJK_CLASS}]"  # a letter, not Han or kana
_SPACED_LETTERS = re.compile(rf"(?<!{_LETTER})(?:{_LETTER} ){{2,}}{_LETTER}(?!{_LETTER})")


def _fold_spaced(match: re.Match[str]) -> str:
    """Spaced-out letters are one word for the look-alike rule: "п у т и н" stays Cyrillic
    (alone, "т" and "у" would each pass for Latin letters)."""
    letters = match.group(0).split(" ")
    joined = "".join(letters)
    whole = re.match(r".+", joined, re.S)
    folded = _fold_confusables(whole) if whole else joined
    return " ".join(folded)


def _lone_letters(text: str) -> str:
    """A one-letter word that has a look-alike in the other script takes the script of its
    neighbours: "п у ти н" stays Russian ("у" is also a Russian word), "pik а chu" is Latin."""
    words = list(_WORD_RUN.finditer(text))
    if len(words) < 2:
        return text
    chars = list(text)
    for k, match in enumerate(words):
        ch = match.group(0)
        if len(ch) != 1 or not (ch in _CONFUSABLE_CHARS or ch in _LATIN_LOOKALIKE):
            continue
        near = [words[i].group(0) for i in (k - 1, k + 1) if 0 <= i < len(words)]
        near = [w for w in near if len(w) <= 2] or near  # a spaced-out name's own letters count first
        latin = any("a" <= c <= "z" for w in near for c in w)
        cyrillic = any("\u0400" <= c <= "\u04ff" for w in near for c in w)
        if latin and not cyrillic and ch in _CONFUSABLE_CHARS:
            chars[match.start()] = ch.translate(_CONFUSABLES)
        elif cyrillic and not latin and ch in _LATIN_LOOKALIKE:
            chars[match.start()] = ch.translate(_TO_CYRILLIC)
    return "".join(chars)


# ASCII control characters other than tab and line breaks (category Cc): what _once drops from ASCII.
_ASCII_CONTROLS = dict.fromkeys([c for c in range(32) if chr(c) not in "\t\n\r"] + [127])


def _once(text: str) -> str:
    if text.isascii():
        # Same result, a tenth of the time: on ASCII, NFKD and NFKC change nothing, the only marks
        # to drop are control characters, casefold is lower(), and no letter is a look-alike.
        return _SPACE_RE.sub(" ", text.translate(_ASCII_CONTROLS).lower()).strip()
    text = _unmarked(text)
    spaced = list(_SPACED_LETTERS.finditer(text))
    folded = _WORD_RUN.sub(_fold_confusables, text)
    if spaced:  # every fold above maps one letter to one, so the spans still line up
        for match in spaced:
            folded = folded[: match.start()] + _fold_spaced(match) + folded[match.end() :]
    text = _lone_letters(folded)
    text = text.translate(_ARABIC_VARIANTS)
    if has_cjk(text):
        text = _t2s().convert(text)
    if _SPACED_CJK.search(text):
        text = strip_between_cjk(text)
    return _SPACE_RE.sub(" ", text).strip()


def _unmarked(text: str) -> str:
    """Jamo composed, ヂ/ヅ as ジ/ズ, accents and format characters (zero-width, bidi) dropped, NFKC, lower case."""
    text = unicodedata.normalize("NFKD", compose_jamo(text).translate(_YOTSUGANA))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc") or ch in "\t\n\r")
    return unicodedata.normalize("NFKC", text.translate(_HANGUL_VOWELS)).casefold()


def normalize_word(word: str) -> str:
    """``normalize`` for one word of one non-Latin script, five times faster (word lists): the
    same folds, but only a word made wholly of Cyrillic look-alikes ("совет") takes the full
    path, which writes it in Latin letters."""
    text = _unmarked(word).translate(_ARABIC_VARIANTS)
    return normalize(word) if all(ch in _CONFUSABLE_CHARS for ch in text) else text


def light(text: str) -> str:
    """A light normal form for a model that reads the words: NFKC, lower case, format and control
    characters dropped, spaces collapsed and removed between Han/kana letters, traditional Chinese
    as simplified; accents, marks and look-alikes kept as written."""
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKC", text)
        if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\t\n\r"
    ).lower()
    if has_cjk(text):
        text = _t2s().convert(text)
    if _SPACED_CJK.search(text):
        text = strip_between_cjk(text)
    return _SPACE_RE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """The canonical form of ``text`` (idempotent: ``normalize(normalize(t)) == normalize(t)``)."""
    for _ in range(4):  # each step is monotone; a fixed point comes within a couple of rounds
        folded = _once(text)
        if folded == text:
            return folded
        text = _lone_letters(folded)
    return text


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the canonical text: ``text`` after undoing leetspeak, ``start:end`` its span."""

    text: str
    start: int
    end: int
    cjk: bool = False
    joined: bool = False  # rebuilt from spaced-out letters: its word boundaries are lost


# Numbers with units ("4k", "1080p", "12yo", "3d", "60fps") and real ordinals ("2nd", "11th") are
# not leetspeak; "4nd" is ("and").
_QUANTITY = re.compile(r"\d+(?:k|p|d|s|x|yo|fps|mm|cm|px|m|h|am|pm|y)|\d*(?:1st|2nd|3rd|[04-9]th|1[1-3]th)")


def _deleet(word: str) -> str:
    leet = any(ch in _LEET_CHARS for ch in word) and any(ch.isalpha() for ch in word)
    if leet and not _QUANTITY.fullmatch(word):
        return word.translate(_LEET)
    return word


class _Segmenter:
    """One private jieba tokenizer (no global state), initialised on first Chinese text."""

    def __init__(self) -> None:
        self._tokenizer: Any = None  # jieba.Tokenizer once loaded (jieba has no types)
        self._words: set[str] = set()
        self._lock = threading.Lock()

    def add_words(self, words: Iterable[str]) -> None:
        """Words jieba must keep whole (every Chinese run of every term), also after the first cut:
        an engine loaded later (another pack, a rights holder's names) must not be segmented with
        an earlier engine's vocabulary."""
        runs = {run for word in words for run in _CJK_RUN.findall(normalize(word))}
        with self._lock:
            new = runs - self._words
            self._words.update(new)
            if self._tokenizer is not None:
                self._teach(self._tokenizer, new)

    @staticmethod
    def _teach(tokenizer, words: Iterable[str]) -> None:
        for word in sorted(words):
            # Known words keep jieba's own odds ("超人气"); a prefix jieba lists only to walk its
            # dictionary (frequency 0: "马云", "美国第") is not a known word and is taught.
            if not tokenizer.FREQ.get(word):
                tokenizer.add_word(word)

    def warm_up(self) -> None:
        self.cut("预热")

    def cut(self, text: str) -> list[str]:
        with self._lock:
            if self._tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                self._teach(tokenizer, self._words)
                self._tokenizer = tokenizer
            return list(self._tokenizer.cut(text, HMM=False))

    def known(self, word: str) -> bool:
        """Is ``word`` a word of the dictionary (not only a prefix jieba keeps to walk it)?"""
        if self._tokenizer is None:
            self.warm_up()
        return bool(self._tokenizer.FREQ.get(word))


SEGMENTER = _Segmenter()


_ASCII_RUN = re.compile(r"[a-z]")
_SCRIPT_RUNS = re.compile(r"[\x00-\x7f€]+|[^\x00-\x7f€]+")


def tokenize(canonical: str, *, segment: bool = True) -> list[Token]:
    """Word tokens of canonical text (see module docstring); ``segment=False`` keeps Chinese
    runs whole (lexicon terms, which jieba is told to keep whole as well)."""
    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(canonical):
        if match.group("cjk") and not segment:
            tokens.append(Token(match.group(0), match.start(), match.end(), cjk=True))
        elif match.group("cjk"):
            pos = match.start()
            for piece in SEGMENTER.cut(match.group(0)):
                tokens.append(Token(piece, pos, pos + len(piece), cjk=True))
                pos += len(piece)
        elif match.group(0).isascii() or not _ASCII_RUN.search(match.group(0)):
            tokens.append(Token(_deleet(match.group(0)), match.start(), match.end()))
        else:  # Latin glued to kana or Hangul ("pikachuが"): two words, as a reader sees them
            for part in _SCRIPT_RUNS.finditer(match.group(0)):
                text = part.group(0)
                tokens.append(
                    Token(
                        _deleet(text) if text.isascii() else text,
                        match.start() + part.start(),
                        match.start() + part.end(),
                        cjk=not text.isascii(),
                    )
                )
    return _join_single_letters(tokens)


def _join_single_letters(tokens: list[Token]) -> list[Token]:
    """``m i c k e y`` -> ``mickey``: three or more one-letter tokens in a row become one word."""
    out: list[Token] = []
    run: list[Token] = []

    def flush() -> None:
        if len(run) >= 3:
            out.append(Token("".join(t.text for t in run), run[0].start, run[-1].end, joined=True))
        else:
            out.extend(run)
        run.clear()

    for token in tokens:
        if len(token.text) == 1 and not token.cjk:
            run.append(token)
        else:
            flush()
            out.append(token)
    flush()
    return out


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: word lists kept as prose in the source."""
    return frozenset(text.split())


def validate_prompt(prompt: object) -> str:
    """The prompt as text, or ``PromptError`` for empty, oversized or binary input."""
    from policies.errors import PromptError

    if isinstance(prompt, (bytes, bytearray)):
        try:
            prompt = bytes(prompt).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PromptError(f"prompt is not UTF-8 text (binary data at byte {exc.start})") from None
    if not isinstance(prompt, str):
        raise PromptError(f"prompt must be text, not {type(prompt).__name__}")
    try:
        size = len(prompt.encode("utf-8"))
    except UnicodeEncodeError:
        raise PromptError("prompt contains unpaired surrogates (binary data?)") from None
    if size > MAX_PROMPT_BYTES:
        raise PromptError(f"prompt is {size} bytes; the limit is {MAX_PROMPT_BYTES}")
    bad = sum(1 for ch in prompt if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r")
    if bad:
        raise PromptError(f"prompt contains {bad} control character(s) (binary data?)")
    if not prompt.strip() or not normalize(prompt):
        raise PromptError("prompt is empty")
    return prompt
