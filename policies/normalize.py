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

__all__ = ["normalize", "tokenize", "Token", "has_cjk", "validate_prompt", "MAX_PROMPT_BYTES"]

MAX_PROMPT_BYTES = 16 * 1024

# Latin look-alikes from Cyrillic, Greek and a few symbol blocks (lower case: applied after casefold).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɑ": "a", "ɡ": "g", "ı": "i", "ȷ": "j",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y", "ς": "s", "σ": "o", "μ": "u",
    }
)
_CONFUSABLE_CHARS = frozenset(chr(c) for c in _CONFUSABLES)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "9": "g", "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e"})
_LEET_CHARS = frozenset("01345789@$!|+€")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD_RUN = re.compile(r"[^\W_]+")
# A token: letters/digits (and @ $ used as letters), optionally glued by ! | + ("sh!t", "m|ckey").
_TOKEN_RE = re.compile(
    rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:[^\W_{_CJK}]|[@$€])+(?:[!|+](?:[^\W_{_CJK}]|[@$€])+)*)"
)
_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # pure Python; imported lazily because it builds tables

    return OpenCC("t2s")


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def _fold_confusables(match: re.Match[str]) -> str:
    word = match.group(0)
    # Fold only words that are Latin-mixed or made wholly of look-alikes, so Russian stays Russian.
    if any("a" <= ch <= "z" for ch in word) or all(ch in _CONFUSABLE_CHARS or ch.isdigit() for ch in word):
        return word.translate(_CONFUSABLES)
    return word


# ASCII control characters other than tab and line breaks (category Cc): what _once drops from ASCII.
_ASCII_CONTROLS = dict.fromkeys([c for c in range(32) if chr(c) not in "\t\n\r"] + [127])


def _once(text: str) -> str:
    if text.isascii():
        # Same result, a tenth of the time: on ASCII, NFKD and NFKC change nothing, the only marks
        # to drop are control characters, casefold is lower(), and no letter is a look-alike.
        return _SPACE_RE.sub(" ", text.translate(_ASCII_CONTROLS).lower()).strip()
    text = unicodedata.normalize("NFKD", text)
    # Drop combining marks (accents) and format characters (zero-width, bidi controls, soft hyphen).
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc") or ch in "\t\n\r")
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _WORD_RUN.sub(_fold_confusables, text)
    if has_cjk(text):
        text = _t2s().convert(text)
    return _SPACE_RE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """The canonical form of ``text`` (idempotent: ``normalize(normalize(t)) == normalize(t)``)."""
    for _ in range(4):  # each step is monotone; a fixed point comes within a couple of rounds
        folded = _once(text)
        if folded == text:
            return folded
        text = folded
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
    if any(ch in _LEET_CHARS for ch in word) and any(ch.isalpha() for ch in word):
        if not _QUANTITY.fullmatch(word):
            return word.translate(_LEET)
    return word


class _Segmenter:
    """One private jieba tokenizer (no global state), initialised on first Chinese text."""

    def __init__(self) -> None:
        self._tokenizer = None
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
            if word not in tokenizer.FREQ:  # known words keep jieba's own odds ("超人气")
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


SEGMENTER = _Segmenter()


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
        else:
            tokens.append(Token(_deleet(match.group(0)), match.start(), match.end()))
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
