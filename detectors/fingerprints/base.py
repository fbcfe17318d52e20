"""The fingerprint abstraction: a technique that turns frames into binary codes and compares them.

Modelled on python-threatexchange's ``SignalType``: each fingerprint has a ``name``, hashes frames,
defines ``distance`` and a match ``threshold``. Its example pairs (that must or must not match)
live with the tests (``tests/support/fingerprint_examples.py``: scikit-image stills, a test extra)
and one shared test exercises them for every registered fingerprint.

Codes are fixed-width bit strings stored as ``uint8`` rows, so one Hamming index serves them all.
A frame may yield several rows (dihedral variants, keypoint descriptors); ``frame`` and
``variant`` say which frame and which variant each row came from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from detectors.errors import FingerprintError
from detectors.video_io import as_rgb_frame

__all__ = [
    "FrameCodes",
    "FingerprintExample",
    "Fingerprint",
    "hamming",
    "hamming_matrix",
    "iter_frames",
]

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    """Hamming distance between two packed codes (uint8 rows of equal width)."""
    a, b = np.asarray(a, np.uint8), np.asarray(b, np.uint8)
    if a.shape != b.shape:
        raise FingerprintError(f"codes differ in width: {a.shape} vs {b.shape}")
    return int(_POPCOUNT[np.bitwise_xor(a, b)].sum())


def hamming_matrix(queries: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """All-pairs Hamming distances ``(Q, R)`` between packed code rows (brute force)."""
    q = np.asarray(queries, np.uint8)
    r = np.asarray(refs, np.uint8)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1]:
        raise FingerprintError(f"code matrices do not match: {q.shape} vs {r.shape}")
    out = np.zeros((q.shape[0], r.shape[0]), dtype=np.int32)
    for byte in range(q.shape[1]):  # byte-wise keeps the temporary at (Q, R) not (Q, R, W)
        out += _POPCOUNT[np.bitwise_xor(q[:, byte, None], r[None, :, byte])]
    return out


@dataclass(frozen=True)
class FrameCodes:
    """Codes from a sequence of frames: one or more rows per frame.

    ``codes`` (N, nbytes) uint8; ``frame`` (N,) index of the input frame; ``variant`` (N,)
    variant id (0 = as given); ``quality`` (N,) 0-100; ``points`` (N, 2) float32 keypoint
    positions in [0, 1] (frame hashes leave it empty).
    """

    name: str
    codes: np.ndarray
    frame: np.ndarray
    variant: np.ndarray
    quality: np.ndarray
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @classmethod
    def empty(cls, name: str, nbytes: int) -> FrameCodes:
        return cls(
            name, np.zeros((0, nbytes), np.uint8), np.zeros(0, np.int32), np.zeros(0, np.int16), np.zeros(0, np.int16)
        )

    def select(self, mask: np.ndarray) -> FrameCodes:
        points = self.points[mask] if len(self.points) else self.points
        return FrameCodes(self.name, self.codes[mask], self.frame[mask], self.variant[mask], self.quality[mask], points)


@dataclass(frozen=True)
class FingerprintExample:
    """A pair of frames for the shared auto-test: ``should_match`` says the expected verdict."""

    label: str
    original: np.ndarray
    candidate: np.ndarray
    should_match: bool


def iter_frames(frames: Iterable[np.ndarray] | np.ndarray) -> Iterable[np.ndarray]:
    """Accept one (H, W, 3) frame, an (F, H, W, 3) array or any iterable of frames."""
    if isinstance(frames, np.ndarray) and frames.ndim == 3:
        return [as_rgb_frame(frames)]
    return (as_rgb_frame(f) for f in frames)


class Fingerprint(ABC):
    """A frame fingerprint: ``name``, ``bits``, ``threshold`` and the hashing itself."""

    name: ClassVar[str]
    bits: ClassVar[int]
    # Largest Hamming distance that still counts as the same frame (a correlation for layout).
    threshold: ClassVar[int | float]
    version: ClassVar[int] = 1  # bump when codes change, so stored codes are recomputed

    @property
    def nbytes(self) -> int:
        return self.bits // 8

    @abstractmethod
    def hash_frame(self, frame: np.ndarray) -> FrameCodes:
        """Codes for one RGB frame (``frame`` column all 0)."""

    def fingerprint(self, frames: Iterable[np.ndarray] | np.ndarray) -> FrameCodes:
        """Codes for every frame, with ``frame`` numbering the input frames from 0."""
        parts = []
        for index, frame in enumerate(iter_frames(frames)):
            codes = self.hash_frame(frame)
            parts.append((index, codes))
        return concat(self.name, self.nbytes, parts)

    def distance(self, a: np.ndarray, b: np.ndarray) -> int:
        return hamming(a, b)

    def matches(self, a: np.ndarray, b: np.ndarray) -> bool:
        return self.distance(a, b) <= self.threshold

    def frames_match(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether two frames count as the same picture (any pair of rows within threshold)."""
        ca, cb = self.hash_frame(a), self.hash_frame(b)
        if not len(ca) or not len(cb):
            return False
        return bool(hamming_matrix(ca.codes, cb.codes).min() <= self.threshold)


def concat(name: str, nbytes: int, parts: list[tuple[int, FrameCodes]]) -> FrameCodes:
    """Join per-frame codes, renumbering ``frame`` with the given indices."""
    parts = [(i, p) for i, p in parts if len(p)]
    if not parts:
        return FrameCodes.empty(name, nbytes)
    has_points = all(len(p.points) for _, p in parts)
    return FrameCodes(
        name,
        np.concatenate([p.codes for _, p in parts]),
        np.concatenate([np.full(len(p), i, np.int32) for i, p in parts]),
        np.concatenate([p.variant for _, p in parts]).astype(np.int16),
        np.concatenate([p.quality for _, p in parts]).astype(np.int16),
        np.concatenate([p.points for _, p in parts]).astype(np.float32) if has_points else np.zeros((0, 2), np.float32),
    )
