"""A brute-force gallery: every enrolled descriptor against every query, exact.

Galleries of enrolled people are small (hundreds of people, a few descriptors each), so an
exact search over a (N, 128) float32 matrix takes microseconds and is the reference any faster
index must agree with. A person's distance to a face is the smallest over that person's
descriptors (nearest neighbour), so one good enrolment photo per pose is enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detectors.faces.errors import FaceError

__all__ = ["Gallery", "Candidate", "distance_score"]


def distance_score(distance: float, threshold: float) -> float:
    """A 0..1 score for a distance: 1 at distance 0, 0.5 at the threshold, 0 at twice it."""
    return float(max(0.0, min(1.0, 1.0 - distance / (2.0 * threshold))))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An enrolled person near a face: the smallest distance over their descriptors."""

    person_id: str
    distance: float

    def to_dict(self) -> dict[str, object]:
        return {"person_id": self.person_id, "distance": round(self.distance, 4)}


class Gallery:
    """Descriptors with their person ids; ``nearest`` answers exact per-person distances."""

    def __init__(self, person_ids: Sequence[str], descriptors: np.ndarray | Sequence[np.ndarray]) -> None:
        matrix = np.asarray(descriptors, dtype=np.float32)
        if matrix.size == 0:
            matrix = matrix.reshape(0, 128)
        if matrix.ndim != 2 or matrix.shape[0] != len(person_ids):
            raise FaceError(
                f"gallery needs one descriptor per person id: {len(person_ids)} ids, "
                f"descriptors of shape {matrix.shape}"
            )
        self.person_ids: tuple[str, ...] = tuple(person_ids)
        self.people: tuple[str, ...] = tuple(dict.fromkeys(self.person_ids))
        self.matrix = matrix
        self._owner = np.array([self.people.index(p) for p in self.person_ids], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.people)

    def nearest(self, descriptor: np.ndarray, *, k: int = 3) -> list[Candidate]:
        """The ``k`` nearest people to one descriptor, closest first."""
        if not self.people:
            return []
        query = np.asarray(descriptor, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.matrix.shape[1]:
            raise FaceError(f"descriptor has {query.shape[0]} values, the gallery {self.matrix.shape[1]}")
        distances = np.linalg.norm(self.matrix - query[None, :], axis=1)
        best = np.full(len(self.people), np.inf, dtype=np.float64)
        np.minimum.at(best, self._owner, distances)
        order = np.argsort(best, kind="stable")[:k]
        return [Candidate(self.people[i], float(best[i])) for i in order]
