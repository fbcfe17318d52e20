"""Query-time matching of protected works: the pure matching lives in
``detectors.fingerprints.match``; this module names what it found in registry terms."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from detectors.fingerprints.match import (
    Evidence,
    MatchConfig,
    best_per_work,
    layout_evidence,
    orb_evidence,
    pdq_evidence,
)

__all__ = [
    "WorkMatch",
    "span_fields",
    "MatchConfig",
    "pdq_evidence",
    "orb_evidence",
    "layout_evidence",
    "Evidence",
    "best_per_work",
]


@dataclass(frozen=True)
class WorkMatch:
    """One protected work found in a query clip (times in seconds)."""

    work_id: str
    title: str
    owner: str
    score: float  # query_coverage x mean frame similarity, 0..1
    query_start: float
    query_end: float
    ref_start: float
    ref_end: float
    query_coverage: float  # share of the query's (sampled, time-weighted) frames that matched
    fingerprint: str  # which fingerprint decided the match: "pdq" | "orb" | "layout"
    asset_id: int | None = None
    speed: float = 1.0  # reference seconds per query second of the alignment
    frames: int = 0  # agreeing query keyframes behind the match

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def span_fields(score: float, ev: Evidence) -> dict[str, Any]:
    """The fields every match reports about where it lies (rounded as the API shows them):
    shared by protected-work matches and matches of our own outputs."""
    al = ev.alignment
    return {
        "score": round(score, 4),
        "query_start": round(ev.query_start, 3),
        "query_end": round(ev.query_end, 3),
        "ref_start": round(al.ref_start, 3),
        "ref_end": round(al.ref_end, 3),
        "query_coverage": round(ev.coverage, 4),
        "fingerprint": ev.kind,
        "speed": al.speed,
        "frames": int(len(al.query_frames)),
    }
