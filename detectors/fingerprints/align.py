"""Temporal voting: turn frame-level hits against one reference into an aligned segment.

Each hit says "query frame at ``q`` seconds looks like the reference between ``r0`` and ``r1``
seconds" (a pruned reference frame stands for the run of near-duplicates after it). A copy
plays the reference at ``r = speed * q + offset``; for each candidate speed the offsets every
hit admits are an interval, and the (speed, offset) admitted by the most distinct query frames
wins. Hits that disagree with it are dropped, so stray look-alike frames do not inflate the
match, and the reported ranges come from the agreeing hits only.

The match decision is made on ``query_coverage`` (the share of sampled query frames that agree),
so a 3 s excerpt of a two-hour work is as clear a match as the whole work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FrameHits", "Alignment", "align", "SPEEDS"]

SPEEDS = (1.0, 1.25, 0.8, 1.5, 0.667, 2.0, 0.5)


@dataclass(frozen=True)
class FrameHits:
    """Hits against one reference: parallel arrays (one row per hit)."""

    query_frame: np.ndarray  # index of the sampled query frame
    query_time: np.ndarray  # seconds
    ref_start: np.ndarray  # seconds: the reference run this hit stands for
    ref_end: np.ndarray
    similarity: np.ndarray  # 0..1


@dataclass(frozen=True)
class Alignment:
    speed: float
    offset: float
    query_frames: np.ndarray  # distinct agreeing query frame indexes
    query_start: float
    query_end: float
    ref_start: float
    ref_end: float
    similarity: float  # mean over agreeing query frames of their best hit similarity


def _best_offset(b_lo: np.ndarray, b_hi: np.ndarray, qf: np.ndarray, tol: float) -> tuple[float, int, float]:
    """The offset inside the most intervals ``[b_lo - tol, b_hi + tol]`` (distinct query frames),
    and the mean distance of those intervals from it (ties go to the tighter fit)."""
    candidates = np.unique(np.round(np.concatenate([b_lo, b_hi]) / (tol / 4)) * (tol / 4))
    if len(candidates) > 2000:  # long references: a coarser grid is plenty for a vote
        candidates = candidates[:: len(candidates) // 2000 + 1]
    c = candidates[:, None]
    gap = np.maximum(np.maximum(b_lo[None, :] - c, c - b_hi[None, :]), 0.0)
    inside = gap <= tol
    best = (0.0, -1, np.inf)
    for value, row, g in zip(candidates, inside, gap, strict=True):
        count = len(np.unique(qf[row]))
        resid = float(g[row].mean()) if count else np.inf
        if count > best[1] or (count == best[1] and resid < best[2]):
            best = (float(value), count, resid)
    return best


def align(
    hits: FrameHits, *, still: bool = False, tol: float = 0.75, speeds: tuple[float, ...] = SPEEDS
) -> Alignment | None:
    """The best (speed, offset) alignment of ``hits``; ``still`` references need none."""
    if len(hits.query_frame) == 0:
        return None
    qf, qt = hits.query_frame, hits.query_time
    if still:
        keep = np.ones(len(qf), bool)
        speed, offset = 1.0, 0.0
    else:
        speed, offset, best = 1.0, 0.0, (-1, np.inf)
        for s in speeds:
            b, count, resid = _best_offset(hits.ref_start - s * qt, hits.ref_end - s * qt, qf, tol)
            # More agreeing frames wins; a clearly tighter fit breaks ties (else the earlier,
            # more common speed stays).
            if count > best[0] or (count == best[0] and resid < best[1] - 0.05):
                speed, offset, best = s, b, (count, resid)
        lo, hi = hits.ref_start - speed * qt, hits.ref_end - speed * qt
        keep = (offset >= lo - tol) & (offset <= hi + tol)
    frames = np.unique(qf[keep])
    # Best similarity per agreeing query frame.
    per_frame: dict[int, float] = {}
    for f, sim in zip(qf[keep].tolist(), hits.similarity[keep].tolist(), strict=True):
        per_frame[f] = max(per_frame.get(f, 0.0), float(sim))
    predicted = np.clip(speed * qt[keep] + offset, hits.ref_start[keep], hits.ref_end[keep])
    if still:
        predicted = hits.ref_start[keep]
    return Alignment(
        speed=speed,
        offset=offset,
        query_frames=frames,
        query_start=float(qt[keep].min()),
        query_end=float(qt[keep].max()),
        ref_start=float(predicted.min()),
        ref_end=float(predicted.max()),
        similarity=float(np.mean(list(per_frame.values()))),
    )
