"""Long prompts, short windows: which parts of a long prompt the semantic model reads.

A whole-prompt embedding is a mean over its tokens. A benign preamble of 20 words before a
name-free description diluted it enough that recall on the dev descriptions fell from 0.99 to
0.18-0.30 (measured), and the forward pass grows linearly with length (two cores here: 16 tokens
2.8 ms, 80 tokens 12.8 ms). So a prompt of more than ``whole`` model tokens is read in windows:
runs of consecutive segments (split at commas, semicolons, brackets and sentence ends; a longer
segment is cut at word starts into half-overlapping runs) of at most ``width`` tokens each. The
first window is always read (the subject usually comes first); the others are ranked by the rare
words they share with their closest exemplar, and the best are read, ``most`` windows and
``budget`` tokens at most. Each window is embedded on its own, so a description is scored as if
it stood alone, wherever it sits.

Ranking by shared vocabulary is a heuristic: in a long prompt, a description is missed when a
segment elsewhere shares more rare words with some exemplar than the description does, and the
prompt is no longer read whole. The lexical stages read the whole prompt whatever its length.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from policies.errors import PolicyError
from policies.normalize import has_cjk, normalize, word_set

__all__ = ["Window", "WindowPlan", "Vocabulary"]

# Segment ends: commas and brackets anywhere; CJK, Arabic and Devanagari marks (no space follows
# them); a full stop only before a space or the end ("3.5", "e.g" stay whole).
_SPLIT = re.compile(r"[,;|()\[\]{}、。；，！？،؛؟।]+|[.!?]+(?:\s+|$)")
_WORD = re.compile(r"[^\W\d_]+")
_STOPWORDS = word_set("""
a an the and or but nor of in on at to into onto from by for with without within over under above
below between among through across behind beside near off up down out as is are was were be been
being am it its this that these those there here he she they we you i his her their our your my me
him them us who whom whose which what where when while very so too just than then also some any each
every all both no not only one two has have had do does did will would can could should may might
must shall while about after before again against
""")

Offsets = Callable[[str], list[tuple[int, int]]]  # each model token's character span in a text


@dataclass(frozen=True, slots=True)
class Window:
    """Characters ``start``..``end`` of a prompt's content text, ``tokens`` model tokens long."""

    text: str
    tokens: int
    start: int
    end: int


def _words(text: str) -> set[str]:
    """Content words: letters only, no stop words; CJK runs count character by character (the
    model's tokenizer reads them that way too)."""
    out: set[str] = set()
    for word in _WORD.findall(text):
        if has_cjk(word):
            out.update(ch for ch in word if has_cjk(ch))
        elif len(word) > 1 and word not in _STOPWORDS:
            out.add(word)
    return out


class Vocabulary:
    """The exemplars' words by rarity: a window ranks by its best single exemplar, the summed
    inverse document frequency of the words they share (a retrieval score, like BM25 without
    length terms). The best exemplar, not all of them: a long generic scene shares a few common
    words with many exemplars and must not outrank a short window that is one of them."""

    def __init__(self, exemplars: Iterable[str]) -> None:
        docs = [_words(normalize(text)) for text in exemplars]  # as prompts are: folded, simplified
        df = Counter(word for doc in docs for word in doc)
        n = max(len(docs), 1)
        self.idf = {word: math.log((n + 1) / (count + 0.5)) for word, count in df.items()}
        self.postings: dict[str, list[int]] = {}
        for index, doc in enumerate(docs):
            for word in doc:
                self.postings.setdefault(word, []).append(index)

    def score(self, text: str) -> float:
        totals: dict[int, float] = {}
        for word in _words(text):
            weight = self.idf.get(word)
            if weight is None:
                continue
            for index in self.postings[word]:
                totals[index] = totals.get(index, 0.0) + weight
        return max(totals.values(), default=0.0)


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """How much of a prompt to embed whole, and how to window a longer one (model tokens)."""

    whole: int = 32
    width: int = 16
    budget: int = 32
    first: bool = True  # always read the first window, then the best-ranked others
    most: int = 2  # windows at most: as many as run side by side on two cores

    def __post_init__(self) -> None:
        if not (1 <= self.width <= self.budget and self.whole >= 1 and self.most >= 1):
            raise PolicyError(f"bad window plan {self}: need 1 <= width <= budget, whole >= 1, most >= 1")

    def windows(self, text: str, offsets: list[tuple[int, int]]) -> list[Window]:
        """Every maximal run of whole consecutive segments that fits in ``width`` tokens, one per
        first segment; a segment longer than ``width`` is cut at word starts into runs of at most
        ``width`` tokens that overlap by half, each a window of its own."""
        starts = [a for a, _ in offsets]

        def tokens_in(a: int, b: int) -> tuple[int, int]:
            return bisect_left(starts, a), bisect_left(starts, b)

        segments: list[tuple[int, int]] = []  # character spans between delimiters, trimmed
        cursor = 0
        for delimiter in [*_SPLIT.finditer(text), None]:
            a, b = cursor, (delimiter.start() if delimiter else len(text))
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b:
                segments.append((a, b))
            if delimiter:
                cursor = delimiter.end()
        out: list[Window] = []
        for first in range(len(segments)):
            a = segments[first][0]
            i, j = tokens_in(a, segments[first][1])
            if j - i > self.width:
                out += self._cut(text, offsets, i, j)
                continue
            last = first
            while last + 1 < len(segments):
                i2, j2 = tokens_in(a, segments[last + 1][1])
                if j2 - i2 > self.width:
                    break
                last += 1
            if out and out[-1].end == segments[last][1]:
                continue  # contained in the previous window
            b = segments[last][1]
            i, j = tokens_in(a, b)
            out.append(Window(text[a:b], j - i, a, b))
        return out

    def _cut(self, text: str, offsets: list[tuple[int, int]], i: int, j: int) -> list[Window]:
        """Tokens ``i``..``j`` in runs of at most ``width`` that end at word starts where there are
        any (CJK has none: it is cut anywhere) and overlap by about half."""
        starts = [k for k in range(i + 1, j) if offsets[k - 1][1] < offsets[k][0]] + [j]
        out: list[Window] = []
        a = i
        while a < j:
            found = bisect_right(starts, a + self.width) - 1  # the last word start within reach
            b = starts[found] if found >= 0 and starts[found] > a else min(a + self.width, j)
            out.append(Window(text[offsets[a][0] : offsets[b - 1][1]], b - a, offsets[a][0], offsets[b - 1][1]))
            if b >= j:
                break
            middle = bisect_right(starts, (a + b) // 2) - 1
            a = starts[middle] if middle >= 0 and starts[middle] > a else max(a + 1, (a + b) // 2)
        return out

    def select(self, text: str, offsets: Offsets, vocabulary: Vocabulary) -> list[str]:
        """The texts to embed for ``text``: itself when short; else the first window and the
        best-ranked others within the token budget."""
        spans = offsets(text)
        if len(spans) <= self.whole:
            return [text]
        windows = self.windows(text, spans)
        if not windows:
            return [text]
        chosen = [windows[0]] if self.first else []
        spent = sum(w.tokens for w in chosen)
        head_end = windows[0].end
        # Best shared vocabulary first; on a tie (often: none shared) a window clear of the first
        # one, the furthest first, so the two read windows cover both ends of the prompt.
        ranked = sorted(
            windows[1:] if self.first else windows,
            key=lambda w: (-vocabulary.score(w.text), w.start < head_end, -w.start),
        )
        for window in ranked:
            if len(chosen) >= self.most:
                break
            if spent + window.tokens > self.budget:
                continue
            if any(window.start >= c.start and window.end <= c.end or window.text == c.text for c in chosen):
                continue  # nothing new in it
            chosen.append(window)
            spent += window.tokens
        return [w.text for w in chosen] or [text]
