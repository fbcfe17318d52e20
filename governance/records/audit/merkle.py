"""RFC 9162 §2.1 Merkle tree hashing, proofs and their standalone verifiers. No database.

Leaves hash as ``SHA-256(0x00 || data)``, interior nodes as ``SHA-256(0x01 || left || right)``.
Proofs are described as lists of leaf *ranges* ``[lo, hi)`` whose hashes form the proof
(``inclusion_ranges`` / ``consistency_ranges``). Any range hash is the fold of O(log n)
*complete* subtrees ``(level, index)`` (``range_keys``), so a store that keeps every complete
subtree hash (the audit log keeps them on its rows) answers a proof with one lookup of
O(log² n) small keys and no leaf scan. ``MemoryTree`` is the in-memory reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "leaf_hash",
    "node_hash",
    "root_of",
    "inclusion_ranges",
    "consistency_ranges",
    "range_keys",
    "range_hash",
    "compact_range",
    "root_from_compact",
    "verify_inclusion",
    "verify_consistency",
    "root_from_inclusion",
    "MemoryTree",
]

NodeKey = tuple[int, int]  # (level, index): leaves [index << level, (index + 1) << level)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves (reference recursion of RFC 9162 §2.1.1)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def _check_range(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes make PATH(index, D[0:size]), leaf side first (§2.1.3.1)."""
    _check_range(index, size)
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes make PROOF(old_size, D[0:new_size]) (§2.1.4.1)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove consistency from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    out: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    out.reverse()
    return out


def range_keys(lo: int, hi: int) -> list[NodeKey]:
    """The complete subtrees, left to right, whose RFC fold is MTH(D[lo:hi]).

    ``lo`` is always aligned to the largest power of two <= ``hi - lo`` for the ranges the
    proof functions produce, so the split follows the binary digits of the length.
    """
    keys: list[NodeKey] = []
    while lo < hi:
        n = hi - lo
        k = n if n & (n - 1) == 0 else _split(n)
        level = k.bit_length() - 1
        if lo % k:
            raise ValueError(f"range [{lo}, {hi}) is not aligned to complete subtrees")
        keys.append((level, lo >> level))
        lo += k
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Right-to-left fold of decreasing complete subtrees into the RFC root of their span."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_hash(nodes: Mapping[NodeKey, bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) from stored complete-subtree hashes."""
    return _fold([nodes[key] for key in range_keys(lo, hi)])


def compact_range(size: int) -> list[NodeKey]:
    """The complete subtrees covering D[0:size] (one per set bit of ``size``)."""
    return range_keys(0, size) if size else []


def root_from_compact(hashes: Sequence[bytes]) -> bytes:
    return _fold(hashes) if hashes else EMPTY_ROOT


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof implies (§2.1.3.2), or None when the proof is malformed."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True iff ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree (size, root)."""
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True iff ``proof`` shows the tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a complete subtree: its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class MemoryTree:
    """A whole tree in memory: the reference the database-backed log is tested against."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self.size = 0
        for data in leaves:
            self.append(data)

    def append_hash(self, h: bytes) -> None:
        index, level = self.size, 0
        self._nodes[(0, index)] = h
        while index & 1:  # every subtree this leaf completes
            h = node_hash(self._nodes[(level, index - 1)], h)
            level, index = level + 1, index >> 1
            self._nodes[(level, index)] = h
        self.size += 1

    def append(self, data: bytes) -> None:
        self.append_hash(leaf_hash(data))

    def node(self, key: NodeKey) -> bytes:
        return self._nodes[key]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return root_from_compact([self._nodes[k] for k in compact_range(size)])

    def _hashes(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        return [range_hash(self._nodes, lo, hi) for lo, hi in ranges]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return self._hashes(inclusion_ranges(index, self.size if size is None else size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return self._hashes(consistency_ranges(old_size, self.size if new_size is None else new_size))
