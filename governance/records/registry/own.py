"""Our own outputs in the registry: fingerprints of every generated clip, kept beside its record.

The third layer of provenance after the manifest and the watermark: a clip whose manifest was
stripped and whose watermark did not survive (a regeneration pass, a hard crop, a rotation) can
still be traced to its generation record by near-duplicate search. Own outputs are works with
``origin = "generated"`` and live in indexes of their own (``own-pdq.npz`` ...), so they are
never reported as protected material and never match the output-side protected check.

Rows are written by the generation flow inside ITS transaction (``add``), so a clip has
fingerprints exactly when it has a record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from detectors.fingerprints.extract import REFERENCE, ClipFingerprints, ExtractConfig, PendingKeyframes, extract
from detectors.fingerprints.match import cascade_best
from governance.core.settings import Settings
from governance.records.registry.index_store import has_works, origin_indexes, sync_indexes
from governance.records.registry.matching import Evidence, MatchConfig, span_fields
from governance.records.registry.models import ORIGIN_GENERATED, Asset, Fingerprint, Work, flushed_id

__all__ = ["OwnMatch", "OwnOutputs", "fingerprint_rows", "OWN_EXTRACT"]

# Sparser than a protected work's reference (8 frames/s): every clip we generate is stored, so
# the PDQ rows per clip set the index size. At 8 frames/s our clips gave ~7.5 rows per second,
# 75M rows for 1M clips of 10 s (about 7 GB of multi-index tables, several seconds a query);
# 2 frames/s gives 2 rows per second. ORB keyframes stay at one per second.
OWN_EXTRACT: ExtractConfig = replace(REFERENCE, sample_fps=2.0)


@dataclass(frozen=True)
class OwnMatch:
    """One of our generated clips found in a query (times in seconds)."""

    content_id: str
    score: float  # query_coverage x mean frame similarity, 0..1
    query_start: float
    query_end: float
    ref_start: float
    ref_end: float
    query_coverage: float
    fingerprint: str  # "pdq" | "orb" | "layout"
    speed: float = 1.0
    frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_rows(asset_id: int, clip: ClipFingerprints) -> list[Fingerprint]:
    """The registry rows (one per fingerprint kind with codes) of one asset's fingerprints."""
    rows = []
    for name, codes, times in (
        ("pdq", clip.pdq, clip.pdq_times),
        ("orb", clip.orb, clip.orb_times),
        ("layout", clip.layout, clip.layout_times),
    ):
        if not len(codes):
            continue
        rows.append(
            Fingerprint(
                asset_id=asset_id,
                kind=name,
                count=len(codes),
                keyframes=len(times),
                codes=codes.codes.tobytes(),
                frames=codes.frame.astype(np.int32).tobytes(),
                times=times.astype(np.float32).tobytes(),
                points=codes.points.astype(np.float32).tobytes() if len(codes.points) else None,
            )
        )
    return rows


class OwnOutputs:
    """Fingerprints of the clips this install generated, matched apart from protected works."""

    def __init__(self, engine: Engine, settings: Settings, *, config: MatchConfig | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.config = config or MatchConfig()
        self.indexes = origin_indexes(Path(settings.cache_path), ORIGIN_GENERATED)

    @staticmethod
    def fingerprint_frames(frames: np.ndarray, *, fps: float) -> ClipFingerprints:
        """The fingerprints to store for a clip about to be released (slow: run it outside the
        transaction that stores them)."""
        return extract(frames, fps=fps, config=OWN_EXTRACT)

    def add(
        self, session: Session, *, content_id: str, file_sha256: str, name: str, owner: str, clip: ClipFingerprints
    ) -> str:
        """Store ``clip`` as the fingerprints of generation ``content_id`` in the caller's
        transaction; returns the work id (the caller logs it)."""
        work = Work(title=f"generated {content_id}", owner=owner, origin=ORIGIN_GENERATED, content_id=content_id)
        session.add(work)
        session.flush()
        asset = Asset(
            work_id=work.id,
            name=name,
            sha256=file_sha256,
            kind="video",
            fps=clip.fps,
            duration_s=clip.duration,
            width=clip.width,
            height=clip.height,
            frames=clip.frames_seen,
        )
        session.add(asset)
        session.flush()
        for row in fingerprint_rows(flushed_id(asset.id), clip):
            session.add(row)
        return work.id

    def is_empty(self) -> bool:
        return not has_works(self.engine, ORIGIN_GENERATED)

    def sync(self) -> None:
        sync_indexes(self.indexes, self.engine)

    def match_fingerprints(
        self, clip: ClipFingerprints, *, keyframes: Callable[[], ClipFingerprints] | None = None
    ) -> list[OwnMatch]:
        """Our clips in the query, best first; [] when none passes the registry's decision rules.

        Searched in stages (``cascade_best``): the PDQ codes as given, then the mirrored ones,
        then ORB and layout keyframes (from ``keyframes``, called only if PDQ decided nothing,
        when ``clip`` was fingerprinted without them). At a million clips a stage costs a
        few hundred milliseconds, and most copies are decided by the first."""
        self.sync()
        best = cascade_best(self.indexes, clip, self.config, keyframes=keyframes).best
        if not best:
            return []
        with Session(self.engine) as session:
            ids = dict(session.exec(select(Work.id, Work.content_id).where(col(Work.id).in_(list(best)))).all())
        out = []
        for work_id, (score, ev) in best.items():
            content_id = ids.get(work_id)
            if content_id:  # None: removed between the index sync and now
                out.append(_own_match(content_id, score, ev))
        return sorted(out, key=lambda m: -m.score)

    def match_pending(self, pending: PendingKeyframes) -> list[OwnMatch]:
        """``match_fingerprints`` on a clip whose keyframes are computed only if needed."""
        return self.match_fingerprints(pending.pdq_only, keyframes=pending.complete)


def _own_match(content_id: str, score: float, ev: Evidence) -> OwnMatch:
    return OwnMatch(content_id=content_id, **span_fields(score, ev))
