"""Hamming-radius indexes over packed binary codes: a brute-force reference and scaled ones.

As in python-threatexchange, the brute-force matcher is the specification: the scaled indexes
must return exactly its hits (a test holds them to it). All three keep the codes and ids as
numpy arrays, which is what ``save``/``load`` persist; the faiss structures are derived.

- ``BruteForceIndex``: numpy popcount over every code; small registries and tests.
- ``FlatIndex``: faiss ``IndexBinaryFlat`` range search; exact.
- ``MultiIndexHashing``: sorted-array multi-index hashing in numpy (the code split into
  ``tables`` substrings, each looked up with ``flips`` bit flips). By the pigeonhole principle
  a code within ``radius`` of a query agrees with it up to ``floor(radius / tables)`` bits on
  some substring, so with ``flips >= radius // tables`` it is exact, and sub-linear on
  spread-out codes.
  (Approximate HNSW/IVF lose true PDQ matches and are not offered.)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import faiss
import numpy as np

from detectors.errors import FingerprintError
from detectors.fingerprints.base import hamming_matrix

__all__ = ["Hits", "HammingIndex", "BruteForceIndex", "FlatIndex", "MultiIndexHashing", "load_index"]

_FORMAT = 1

# One OpenMP thread by default: on a few shared cores faiss's spinning worker threads made binary
# searches 4-5x SLOWER than one thread (measured). REELGUARD_FAISS_THREADS overrides it.
faiss.omp_set_num_threads(max(1, int(os.environ.get("REELGUARD_FAISS_THREADS", "1"))))


@dataclass(frozen=True)
class Hits:
    """Every (query row, id) pair within the radius: parallel arrays, sorted by query row."""

    query: np.ndarray
    ids: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return int(self.query.shape[0])

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))


class HammingIndex(ABC):
    """Codes of ``bits`` bits with int64 ids; ``search`` returns all hits within a radius."""

    kind: ClassVar[str]

    def __init__(self, bits: int = 256) -> None:
        if bits % 8:
            raise FingerprintError(f"code width must be a multiple of 8 bits but is {bits}")
        self.bits = bits
        self.codes = np.zeros((0, bits // 8), np.uint8)
        self.ids = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def _check(self, codes: np.ndarray) -> np.ndarray:
        codes = np.ascontiguousarray(codes, dtype=np.uint8)
        if codes.ndim != 2 or codes.shape[1] != self.bits // 8:
            raise FingerprintError(f"expected ({self.bits // 8}-byte) code rows but got shape {codes.shape}")
        return codes

    def add(self, codes: np.ndarray, ids: np.ndarray) -> None:
        codes = self._check(codes)
        ids = np.asarray(ids, np.int64).reshape(-1)
        if len(ids) != len(codes):
            raise FingerprintError(f"{len(codes)} codes but {len(ids)} ids")
        self.codes = np.concatenate([self.codes, codes])
        self.ids = np.concatenate([self.ids, ids])
        self._added(codes)

    def remove(self, ids: Iterable[int]) -> int:
        """Drop every row whose id is in ``ids``; returns how many rows went."""
        drop = np.isin(self.ids, np.fromiter(ids, np.int64))
        if drop.any():
            self.codes, self.ids = self.codes[~drop], self.ids[~drop]
            self._rebuild()
        return int(drop.sum())

    def search(self, queries: np.ndarray, radius: int) -> Hits:
        queries = self._check(queries)
        if not len(self) or not len(queries):
            return Hits.empty()
        query, rows, dist = self._search(queries, int(radius))
        order = np.lexsort((dist, query))
        return Hits(query[order].astype(np.int64), self.ids[rows[order]], dist[order].astype(np.int32))

    def knn(self, queries: np.ndarray, k: int, radius: int) -> Hits:
        """Up to ``k`` nearest codes per query, kept only within ``radius`` (bounded output:
        a descriptor seen in hundreds of near-identical keyframes yields ``k`` hits, not hundreds)."""
        queries = self._check(queries)
        if not len(self) or not len(queries):
            return Hits.empty()
        k = min(k, len(self))
        dist, rows = self._knn(queries, k)
        keep = (dist <= radius) & (rows >= 0)
        query = np.broadcast_to(np.arange(len(queries))[:, None], dist.shape)[keep]
        return Hits(query.astype(np.int64), self.ids[rows[keep]], dist[keep].astype(np.int32))

    def _knn(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        d = np.concatenate(
            [hamming_matrix(queries, self.codes[s : s + 65536]) for s in range(0, len(self), 65536)], axis=1
        )
        rows = np.argsort(d, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(d, rows, axis=1), rows

    @abstractmethod
    def _search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query row, index row, distance) for every pair within ``radius``."""

    # Optional hooks, empty on purpose: only indexes with derived structures override them.
    def build(self) -> None:  # noqa: B027
        """Build derived search structures now rather than on the next search (no-op if current)."""

    def _added(self, codes: np.ndarray) -> None:  # noqa: B027  (scaled indexes extend their structure)
        pass

    def _rebuild(self) -> None:  # noqa: B027
        pass

    # -- persistence ---------------------------------------------------------------------------
    def checksum(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.codes.tobytes())
        digest.update(self.ids.tobytes())
        return digest.hexdigest()

    def save(self, path: str | os.PathLike[str], *, meta: dict | None = None) -> Path:
        """Write codes, ids and ``meta`` atomically (temp file + rename) with a checksum."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": _FORMAT,
            "kind": self.kind,
            "bits": self.bits,
            "checksum": self.checksum(),
            "meta": meta or {},
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle, codes=self.codes, ids=self.ids, header=np.frombuffer(json.dumps(header).encode(), np.uint8)
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


class BruteForceIndex(HammingIndex):
    """Reference matcher: numpy popcount against every stored code."""

    kind: ClassVar[str] = "brute"

    def _search(self, queries, radius):
        parts = []
        for start in range(0, len(self), 65536):
            d = hamming_matrix(queries, self.codes[start : start + 65536])
            q, r = np.nonzero(d <= radius)
            parts.append((q, r + start, d[q, r]))
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


class _FaissIndex(HammingIndex):
    def __init__(self, bits: int = 256) -> None:
        super().__init__(bits)
        self._index = self._new()

    def _new(self):
        raise NotImplementedError

    def _added(self, codes):
        self._index.add(codes)

    def _rebuild(self):
        self._index = self._new()
        if len(self):
            self._index.add(self.codes)

    def _knn(self, queries, k):
        dist, rows = self._index.search(queries, k)
        return dist, rows.astype(np.int64)

    def _search(self, queries, radius):
        # faiss range_search keeps distances strictly below the radius.
        lims, dist, rows = self._index.range_search(queries, radius + 1)
        query = np.repeat(np.arange(len(queries)), np.diff(lims).astype(np.int64))
        return query, rows.astype(np.int64), dist


class FlatIndex(_FaissIndex):
    """Exact: faiss ``IndexBinaryFlat`` range search (SIMD popcount over every code)."""

    kind: ClassVar[str] = "flat"

    def _new(self):
        return faiss.IndexBinaryFlat(self.bits)


class MultiIndexHashing(HammingIndex):
    """Exact for ``radius <= tables * (flips + 1) - 1``: multi-index hashing on sorted arrays.

    Each of the ``tables`` substrings (8 or 16 bits) keeps the row numbers sorted by its value and
    the start of every value's run, so a probe is two array reads, not a hash-table walk. A query
    probes its substring and every variant within ``flips`` bits in each table, and the candidate
    rows are checked with a vectorised popcount. faiss's ``IndexBinaryMultiHash`` (one hash map per
    table, candidates checked one by one) took 44 s for 240 queries at 10M rows here; this is built
    for that case. The tables are rebuilt lazily, on the first search after a change.
    """

    kind: ClassVar[str] = "mih"

    def __init__(self, bits: int = 256, *, tables: int = 16, flips: int = 1) -> None:
        if bits % tables or (bits // tables) not in (8, 16):
            raise FingerprintError(f"{bits} bits do not split into {tables} tables of 8 or 16 bits")
        if flips not in (0, 1, 2):
            raise FingerprintError(f"flips must be 0, 1 or 2 but is {flips}")
        super().__init__(bits)
        self.tables, self.flips = tables, flips
        self._sub_bits = bits // tables
        width = self._sub_bits
        masks = [0] + [1 << b for b in range(width)] * (flips >= 1)
        if flips == 2:
            masks += [(1 << a) | (1 << b) for a in range(width) for b in range(a + 1, width)]
        self._masks = np.array(masks, np.int64)
        self._order: list[np.ndarray] | None = None  # per table: rows sorted by substring value
        self._starts: list[np.ndarray] = []  # per table: (2**width + 1) run starts

    @property
    def exact_radius(self) -> int:
        return self.tables * (self.flips + 1) - 1

    def _substring(self, codes: np.ndarray, table: int) -> np.ndarray:
        """(N,) int64 values of substring ``table`` (one column at a time keeps memory flat)."""
        if self._sub_bits == 8:
            return codes[:, table].astype(np.int64)
        return (codes[:, 2 * table].astype(np.int64) << 8) | codes[:, 2 * table + 1]

    def _added(self, codes):
        self._order = None

    def _rebuild(self):
        self._order = None

    def build(self) -> None:
        if self._order is None:
            self._build()

    def _build(self) -> list[np.ndarray]:
        """Sort every table; returns the sorted rows (also kept in ``_order``)."""
        size = 1 << self._sub_bits
        row_type = np.int32 if len(self) < 2**31 else np.int64
        order: list[np.ndarray] = []
        self._starts = []
        for t in range(self.tables):
            column = self._substring(self.codes, t)
            # On 8/16-bit integers numpy's stable sort is a radix sort: O(N), 10x faster here.
            narrow = column.astype(np.uint8 if self._sub_bits == 8 else np.uint16)
            order.append(np.argsort(narrow, kind="stable").astype(row_type))
            counts = np.bincount(column, minlength=size)
            self._starts.append(np.concatenate([[0], np.cumsum(counts)]))
        self._order = order
        return order

    def _search(self, queries, radius):
        if radius > self.exact_radius:
            raise FingerprintError(
                f"radius {radius} exceeds the exact radius {self.exact_radius} of this index "
                f"({self.tables} tables, {self.flips} flips)"
            )
        order = self._order if self._order is not None else self._build()
        # Popcount over 64-bit words: a quarter of the element count of bytes. Every gather is
        # ``np.take``: on 2-D arrays it is ~4x faster than fancy indexing (measured on 3M random
        # rows of 18M), and these gathers are most of the search.
        words, qwords = _as_words(self.codes), _as_words(queries)
        found_q, found_r, found_d = [], [], []
        probe_query = np.repeat(np.arange(len(queries)), len(self._masks))
        for t in range(self.tables):
            probes = (self._substring(queries, t)[:, None] ^ self._masks[None, :]).ravel()  # values to look up
            starts = np.take(self._starts[t], probes)
            counts = np.take(self._starts[t], probes + 1) - starts
            total = int(counts.sum())
            if not total:
                continue
            qrow = np.repeat(probe_query, counts)
            # Positions start[i] .. start[i] + count[i] - 1 for every probe i, without a Python loop.
            offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
            offsets += np.arange(total)
            rows = np.take(order[t], offsets)
            candidates = np.take(words, rows, axis=0)
            candidates ^= np.take(qwords, qrow, axis=0)
            dist = np.bitwise_count(candidates).sum(axis=1, dtype=np.int32)
            keep = dist <= radius
            found_q.append(qrow[keep])
            found_r.append(rows[keep].astype(np.int64))
            found_d.append(dist[keep])
        if not found_q:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
        query, rows, dist = (np.concatenate(a) for a in (found_q, found_r, found_d))
        # A pair found through several tables is one hit.
        _, first = np.unique(query * max(len(self), 1) + rows, return_index=True)
        return query[first], rows[first], dist[first]


def _as_words(codes: np.ndarray) -> np.ndarray:
    """Code rows viewed as uint64 words (rows padded with zero bytes to a multiple of 8)."""
    pad = -codes.shape[1] % 8
    if pad:
        codes = np.pad(codes, ((0, 0), (0, pad)))
    return np.ascontiguousarray(codes).view(np.uint64)


_KINDS = {cls.kind: cls for cls in (BruteForceIndex, FlatIndex, MultiIndexHashing)}


def load_index(path: str | os.PathLike[str], *, kind: str | None = None) -> tuple[HammingIndex, dict]:
    """Load a saved index (as ``kind`` if given) and its meta; FingerprintError if unusable."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            codes, ids = data["codes"], data["ids"]
    except FileNotFoundError:
        raise
    except Exception as exc:  # truncated zip, bad JSON, missing arrays: all mean "corrupt"
        raise FingerprintError(f"{path}: unreadable index file ({exc.__class__.__name__})") from exc
    if header.get("format") != _FORMAT:
        raise FingerprintError(f"{path}: index format {header.get('format')} is not {_FORMAT}")
    cls = _KINDS.get(kind or header.get("kind"), FlatIndex)
    index = cls(int(header["bits"]))
    index.codes, index.ids = np.ascontiguousarray(codes, np.uint8), np.asarray(ids, np.int64)
    if index.checksum() != header.get("checksum"):
        raise FingerprintError(f"{path}: index checksum mismatch (corrupt file)")
    index._rebuild()
    return index, header.get("meta", {})
