"""The registry benchmark's transform suite: every work of both splits registered in one registry,
then each transform of a window of each work queried through ReelGuard (production ``MatchConfig``)
and every baseline (``baselines``) in the same run."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detectors.fingerprints.extract import REFERENCE, ClipFingerprints
from detectors.fingerprints.layout import LayoutFingerprint, compare, prepare_query
from detectors.video_io import probe
from registry.baselines import (
    PERMISSIVE,
    AlignedBaseline,
    Decision,
    Vpdq,
    pdq_codes,
    per_second,
    phash_codes,
    sampled_frames,
)
from registry.data import Split, WorkSpec, build_works, load
from registry.transforms import make_query, window

# Display name of each method, in the order of every table; "reelguard" first, then the baselines.
METHODS = {
    "reelguard": "ReelGuard",
    "pdq": "PDQ (bars cut, mirror, production sampling and decision)",
    "phash": "pHash (bars cut, mirror, production sampling and decision)",
    "vpdq": "vPDQ (as shipped: 1 hash/s, quality >= 50, 31 bits, 80 %)",
    "vpdq_bm": "vPDQ + bars cut + mirror",
}


@dataclass(frozen=True)
class Outcome:
    """One method on one query: was the right work decided, which others were, the method's
    decision statistic for the right work and the highest one among the others."""

    hit: bool
    false: list[str]
    coverage: float
    closest_false: float
    fired: str | None = None  # ReelGuard: the fingerprint that decided


@dataclass(frozen=True)
class QueryRow:
    work: str
    split: str
    transform: str
    window: int
    outcomes: dict[str, Outcome]
    layout: dict[str, float]  # best layout similarity to each flat work (threshold 0)


@dataclass
class SuiteResult:
    rows: list[QueryRow]
    works: dict[str, int]  # split -> works registered
    registration_frames: int
    registration_s: float
    match_s: list[float] = field(default_factory=list)  # per query: fingerprinting + production match
    registry: object = None  # the ProtectedRegistry, for the 60 s end-to-end query

    @property
    def registration_fps(self) -> float:
        return self.registration_frames / self.registration_s if self.registration_s else 0.0


def outcome(decision: Decision, truth: str, fired: str | None = None) -> Outcome:
    others = [v for n, v in decision.score.items() if n != truth]
    return Outcome(truth in decision.decided, sorted(decision.decided - {truth}), decision.score.get(truth, 0.0),
                   max(others, default=0.0), fired)  # fmt: skip


def flat_references(engine, ids: dict[str, str]) -> dict[str, list]:
    """work name -> prepared layout thumbnails of its flat reference keyframes, as the registry
    loads them from the database."""
    from governance.records.registry.index_store import LayoutStore

    store = LayoutStore(Path(tempfile.gettempdir()))
    store.sync(engine)
    out: dict[str, list] = {}
    for fid, refs in store.references.items():
        out.setdefault(ids[store.sets[fid].work_id], []).extend(refs)
    return out


# Layout similarities are only resolved from here up (0 below): a comparison scores cells and
# colour only for hypotheses past this global correlation, which keeps the margin affordable.
LAYOUT_FLOOR = 0.8


def layout_scores(clip: ClipFingerprints, flat: dict[str, list]) -> dict[str, float]:
    """Best layout similarity of the query's keyframes to each flat work: the margin."""
    queries = [prepare_query(LayoutFingerprint.thumb(clip.layout, i)) for i in range(len(clip.layout))]
    best = {}
    for name, refs in flat.items():
        sims = [m.similarity for q in queries for r in refs if (m := compare(q, r, LAYOUT_FLOOR)) is not None]
        best[name] = max(sims, default=0.0)
    return best


class Methods:
    """ReelGuard (production decision, plus a permissive twin for margins) and the baselines."""

    def __init__(self, tmp: Path) -> None:
        from governance.core.settings import get_settings
        from governance.records.registry import ProtectedRegistry
        from governance.records.storage.db import get_engine

        self.settings = get_settings(home=tmp / "home")
        self.settings.ensure_dirs()
        self.engine = get_engine(self.settings.resolved_database_url)
        self.registry = ProtectedRegistry(self.engine, self.settings)  # production MatchConfig
        self.permissive = ProtectedRegistry(self.engine, self.settings, config=PERMISSIVE)
        self.pdq = AlignedBaseline("pdq", bits=256, radius=31)
        self.phash = AlignedBaseline("phash", bits=64, radius=10)
        self.vpdq = Vpdq("vpdq", strip_borders=False, mirror=False)
        self.vpdq_bm = Vpdq("vpdq_bm", strip_borders=True, mirror=True)
        self.ids: dict[str, str] = {}

    def register(self, work: WorkSpec) -> float:
        """Add a work to the registry (timed) and to every baseline (not timed)."""
        t0 = time.perf_counter()
        self.ids[self.registry.add_path(work.path, owner="bench", title=work.name).work_id] = work.name
        spent = time.perf_counter() - t0
        self.pdq.add(work.name, *pdq_codes(work.path, REFERENCE))
        self.phash.add(work.name, *phash_codes(*sampled_frames(work.path, REFERENCE), REFERENCE))
        seconds = per_second(work.path)
        self.vpdq.add(work.name, seconds)
        self.vpdq_bm.add(work.name, seconds)
        return spent

    def reelguard(self, qpath: Path, truth: str) -> tuple[ClipFingerprints, Outcome, float]:
        """Fingerprinted and matched exactly as ``ProtectedRegistry.match_path`` does (timed);
        the permissive twin then scores the same fingerprints for the margins (not timed)."""
        from governance.records.registry.service import fingerprint_file, query_config

        t0 = time.perf_counter()
        info = probe(qpath, max_pixels=self.settings.max_pixels, frame_limit=self.settings.max_frames)
        clip, _ = fingerprint_file(qpath, query_config(info.duration_s or 0.0), max_pixels=self.settings.max_pixels,
                                   frame_limit=self.settings.max_frames)  # fmt: skip
        decided = {self.ids[m.work_id]: m for m in self.registry.match_fingerprints(clip)}
        spent = time.perf_counter() - t0
        scores = {self.ids[m.work_id]: m.query_coverage for m in self.permissive.match_fingerprints(clip)}
        fired = decided[truth].fingerprint if truth in decided else None
        return clip, outcome(Decision(frozenset(decided), scores), truth, fired), spent

    def query(self, qpath: Path, truth: str) -> tuple[dict[str, Outcome], ClipFingerprints, float]:
        from governance.records.registry.service import query_config

        clip, rg, spent = self.reelguard(qpath, truth)
        qcfg = query_config(probe(qpath).duration_s or 0.0)
        seconds = per_second(qpath)
        outcomes = {
            "reelguard": rg,
            "pdq": outcome(self.pdq.decide(clip.pdq, clip.pdq_times), truth),
            "phash": outcome(self.phash.decide(*phash_codes(*sampled_frames(qpath, qcfg), qcfg)), truth),
            "vpdq": outcome(self.vpdq.decide(seconds), truth),
            "vpdq_bm": outcome(self.vpdq_bm.decide(seconds), truth),
        }
        return outcomes, clip, spent


def run_suite(
    tmp: Path, splits: list[tuple[Split, list[str]]], windows: int, transforms: list[str], log
) -> SuiteResult:
    methods = Methods(tmp)
    log(f"building {sum(len(n) for _, n in splits)} works ({', '.join(f'{s.name}: {len(n)}' for s, n in splits)}) ...")
    works = build_works(tmp, splits)
    reg_s = sum(methods.register(w) for w in works)
    frames_in = sum(w.frames for w in works)
    log(f"registered {frames_in} frames in {reg_s:.1f} s ({frames_in / reg_s:.1f} frames/s)")
    flat = flat_references(methods.engine, methods.ids)
    log(f"flat reference keyframes (layout rows): { ({n: len(r) for n, r in flat.items()}) }")
    result = SuiteResult([], {s.name: len(n) for s, n in splits}, frames_in, reg_s, registry=methods.registry)
    rng = np.random.default_rng(7)
    for w in works:
        frames = load(w)
        for t in transforms:
            for k in range(windows):
                clip = window(frames, w.fps, 6.0, rng)  # <= 6 s of the work, at a random offset
                qpath = make_query(clip, w.fps, t, rng, tmp / "q.mp4")
                outcomes, fingerprints, spent = methods.query(qpath, w.name)
                result.match_s.append(spent)
                result.rows.append(QueryRow(w.name, w.split, t, k, outcomes, layout_scores(fingerprints, flat)))
        mine = [r for r in result.rows if r.work == w.name]
        log(f"  [{w.split}] {w.name}: " + ", ".join(
            f"{m} {sum(r.outcomes[m].hit for r in mine)}/{len(mine)}" for m in METHODS))  # fmt: skip
    return result
