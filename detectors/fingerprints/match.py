"""Pure near-duplicate matching: index hits -> per-frame evidence -> aligned, decided ``Evidence``.

A store is anything with a Hamming ``index`` whose row ids are ``set_id << ROW_BITS | row``, the
``sets`` metadata to interpret hits (``SetInfo``), a ``lock``, and (layout) prepared
``references``; the registry's database-backed ``KindIndex`` is one (governance), a benchmark's
in-memory fill is another. Nothing here reads a database or knows what a "work" means beyond
its id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from detectors.fingerprints.align import Alignment, FrameHits, align
from detectors.fingerprints.extract import ClipFingerprints
from detectors.fingerprints.index import HammingIndex, Hits
from detectors.fingerprints.keypoints import OrbFingerprint, geometric_inliers
from detectors.fingerprints.layout import LayoutFingerprint, compare, prepare_query

__all__ = [
    "ROW_BITS",
    "SetInfo",
    "EvidenceStore",
    "MatchConfig",
    "Evidence",
    "pdq_evidence",
    "pdq_hits",
    "pdq_decide",
    "merge_hits",
    "best_of",
    "Cascade",
    "cascade_best",
    "orb_evidence",
    "layout_evidence",
    "best_per_work",
]

ROW_BITS = 24
_ROW_MASK = (1 << ROW_BITS) - 1


@dataclass(frozen=True)
class SetInfo:
    """What a fingerprint row set needs at query time (everything but the codes)."""

    fingerprint_id: int
    asset_id: int
    work_id: str
    asset_kind: str
    frames: np.ndarray  # (count,) keyframe of each code row
    times: np.ndarray  # (keyframes, 2)
    points: np.ndarray | None


class EvidenceStore(Protocol):
    index: HammingIndex
    sets: dict[int, SetInfo]
    lock: Any


@dataclass(frozen=True)
class MatchConfig:
    pdq_radius: int = 31
    orb_radius: int = 56
    min_inliers: int = OrbFingerprint.min_inliers
    orb_neighbours: int = 6  # nearest reference descriptors per query descriptor
    orb_candidates: int = 4  # reference keyframes verified per query keyframe
    layout_similarity: float = LayoutFingerprint.threshold
    min_coverage: float = 0.25
    min_frames: int = 2  # agreeing query keyframes (fewer only when the query has fewer)


@dataclass(frozen=True)
class Evidence:
    """A decided alignment of the query against one asset."""

    fingerprint_id: int
    asset_id: int
    work_id: str
    kind: str
    alignment: Alignment
    coverage: float
    query_start: float
    query_end: float


def _decide(
    kind: str, store: EvidenceStore, per_set: dict[int, list], q_times: np.ndarray, config: MatchConfig
) -> list[Evidence]:
    weights = q_times[:, 1] - q_times[:, 0]
    total = float(weights.sum()) or 1.0
    need = min(config.min_frames, len(q_times))
    out = []
    for fid, rows in per_set.items():
        info = store.sets.get(fid)
        if info is None:
            continue
        arr = np.asarray(rows, np.float64)  # qkf, ref kf, similarity
        qkf, rkf, sim = arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2]
        hits = FrameHits(
            qkf, q_times[qkf, 0], info.times[rkf, 0].astype(np.float64), info.times[rkf, 1].astype(np.float64), sim
        )
        al = align(hits, still=info.asset_kind == "image")
        if al is None or len(al.query_frames) < need:
            continue
        coverage = float(weights[al.query_frames].sum()) / total
        if coverage < config.min_coverage:
            continue
        out.append(
            Evidence(
                fid,
                info.asset_id,
                info.work_id,
                kind,
                al,
                coverage,
                float(q_times[al.query_frames, 0].min()),
                float(q_times[al.query_frames, 1].max()),
            )
        )
    return out


def pdq_hits(store: EvidenceStore, clip: ClipFingerprints, config: MatchConfig, rows: np.ndarray | None = None) -> Hits:
    """Index hits of the query's PDQ rows ``rows`` (all by default); ``query`` numbers clip rows."""
    if rows is None:
        rows = np.arange(len(clip.pdq))
    if not len(rows) or not len(store.index):
        return Hits.empty()
    hits = store.index.search(clip.pdq.codes[rows], config.pdq_radius)
    return Hits(rows[hits.query].astype(np.int64), hits.ids, hits.distance)


def merge_hits(a: Hits, b: Hits) -> Hits:
    """Two searches' hits (over disjoint query rows) in the order one search over both gives:
    by query row, then distance."""
    query, ids, dist = (np.concatenate(p) for p in ((a.query, b.query), (a.ids, b.ids), (a.distance, b.distance)))
    order = np.lexsort((dist, query))
    return Hits(query[order], ids[order], dist[order])


def pdq_decide(store: EvidenceStore, clip: ClipFingerprints, hits: Hits, config: MatchConfig) -> list[Evidence]:
    per_set: dict[int, list] = {}
    qkf = clip.pdq.frame[hits.query]
    fids, rows = hits.ids >> ROW_BITS, hits.ids & _ROW_MASK
    sims = 1.0 - hits.distance / 64.0
    for q, fid, row, sim in zip(qkf, fids, rows, sims, strict=True):
        info = store.sets.get(int(fid))
        if info is not None:
            per_set.setdefault(int(fid), []).append((int(q), int(info.frames[row]), float(sim)))
    return _decide("pdq", store, per_set, clip.pdq_times, config)


def pdq_evidence(store: EvidenceStore, clip: ClipFingerprints, config: MatchConfig) -> list[Evidence]:
    if not len(clip.pdq) or not len(store.index):
        return []
    return pdq_decide(store, clip, pdq_hits(store, clip, config), config)


def orb_evidence(store: EvidenceStore, clip: ClipFingerprints, config: MatchConfig) -> list[Evidence]:
    """Descriptor hits voted per reference keyframe, then RANSAC-verified per query keyframe."""
    if not len(clip.orb) or not len(store.index):
        return []
    hits = store.index.knn(clip.orb.codes, config.orb_neighbours, config.orb_radius)
    if not len(hits):
        return []
    fids, rows = hits.ids >> ROW_BITS, hits.ids & _ROW_MASK
    ref_kf = np.empty(len(hits), np.int64)
    for fid in np.unique(fids):
        sel = fids == fid
        info = store.sets.get(int(fid))
        ref_kf[sel] = info.frames[rows[sel]] if info is not None else -1
    ok = ref_kf >= 0
    q, d, rows, fids, ref_kf = hits.query[ok], hits.distance[ok], rows[ok], fids[ok], ref_kf[ok]
    qkf = clip.orb.frame[q].astype(np.int64)
    mirrored = (clip.orb.variant[q] != 0).astype(np.int64)
    # One key per (query keyframe, as given or mirrored, reference keyframe); votes = distinct
    # query descriptors. Mirrored descriptors are verified apart: their geometry is flipped.
    pk = (qkf << 45) | (mirrored << 44) | (fids << 20) | ref_kf
    order = np.lexsort((d, q, pk))  # by pair, then query row, best distance first
    pk, q, d, rows, fids = pk[order], q[order], d[order], rows[order], fids[order]
    first = np.ones(len(pk), bool)
    first[1:] = (pk[1:] != pk[:-1]) | (q[1:] != q[:-1])
    pk, q, d, rows, fids = pk[first], q[first], d[first], rows[first], fids[first]
    keys, starts, votes = np.unique(pk, return_index=True, return_counts=True)
    per_set: dict[int, list] = {}
    key_q = keys >> 44  # keyframe and variant
    for k in np.unique(key_q):
        idx = np.nonzero(key_q == k)[0]
        idx = idx[votes[idx] >= config.min_inliers]
        idx = idx[np.argsort(-votes[idx])][: config.orb_candidates]
        for i in idx:
            s = slice(starts[i], starts[i] + votes[i])
            r, qq = rows[s], q[s]
            _, uniq = np.unique(r, return_index=True)  # one query row per reference row
            fid = int(fids[starts[i]])
            info = store.sets[fid]
            if info.points is None:  # an ORB row set always has keypoint positions
                continue
            inliers = geometric_inliers(clip.orb.points[qq[uniq]], info.points[r[uniq]])
            if inliers >= config.min_inliers:
                per_set.setdefault(fid, []).append(
                    (int(k >> 1), int(keys[i] & ((1 << 20) - 1)), min(1.0, inliers / 40.0))
                )
    return _decide("orb", store, per_set, clip.orb_times, config)


def layout_evidence(store: Any, clip: ClipFingerprints, config: MatchConfig) -> list[Evidence]:
    """Every query keyframe against every flat reference keyframe (brute force: references with
    a layout row are the few that ORB cannot describe)."""
    if not len(clip.layout) or not store.references:
        return []
    queries = [
        (int(clip.layout.frame[i]), prepare_query(LayoutFingerprint.thumb(clip.layout, i)))
        for i in range(len(clip.layout))
    ]
    per_set: dict[int, list] = {}
    for fid, refs in store.references.items():
        info = store.sets.get(fid)
        if info is None:
            continue
        for row, ref in enumerate(refs):
            for qkf, query in queries:
                found = compare(query, ref, config.layout_similarity)
                if found is not None:
                    per_set.setdefault(fid, []).append((qkf, int(info.frames[row]), found.similarity))
    return _decide("layout", store, per_set, clip.layout_times, config)


def best_per_work(
    indexes: dict[str, Any], clip: ClipFingerprints, config: MatchConfig
) -> dict[str, tuple[float, Evidence]]:
    """Every decided alignment over the PDQ, ORB and layout indexes, the best one per work
    (score = coverage x mean frame similarity)."""
    evidence: list[Evidence] = []
    for kind, finder in (("pdq", pdq_evidence), ("orb", orb_evidence), ("layout", layout_evidence)):
        store = indexes[kind]
        with store.lock:
            evidence += finder(store, clip, config)
    return best_of(evidence)


def best_of(evidence: list[Evidence]) -> dict[str, tuple[float, Evidence]]:
    """The best decided alignment per work (score = coverage x mean frame similarity)."""
    best: dict[str, tuple[float, Evidence]] = {}
    for ev in evidence:
        score = ev.coverage * ev.alignment.similarity
        if ev.work_id not in best or score > best[ev.work_id][0]:
            best[ev.work_id] = (score, ev)
    return best


@dataclass(frozen=True)
class Cascade:
    """What ``cascade_best`` found and the stage that decided: "pdq" (the query's codes as
    given), "pdq-mirror" (with its mirrored codes), "keyframes" (ORB or layout) or "none"."""

    best: dict[str, tuple[float, Evidence]]
    stage: str


def cascade_best(
    indexes: dict[str, Any],
    clip: ClipFingerprints,
    config: MatchConfig,
    *,
    keyframes: Callable[[], ClipFingerprints] | None = None,
) -> Cascade:
    """``best_per_work`` in stages, stopping at the first that decides anything.

    1. The query's PDQ codes as given: most copies of a clip are not mirrored, and this is half
       the PDQ search.
    2. Its mirrored codes too, decided over the hits of both stages: the same decision as one
       PDQ search over every code.
    3. ORB and layout, on keyframes from ``keyframes`` (called only now, so a lookup PDQ decides
       never computes keypoints) or the clip's own; skipped when those indexes are empty.

    A later stage only runs when the earlier ones decided nothing, so the work found differs
    from ``best_per_work``'s only when the query matches several works and a later stage would
    have scored another one higher (for our own outputs: two near-identical clips of ours). The
    evidence reported is the deciding stage's: a copy PDQ decides is reported with its PDQ
    alignment and score even where ORB would have scored it higher.
    """
    pdq = indexes["pdq"]
    with pdq.lock:
        direct = np.nonzero(clip.pdq.variant == 0)[0]
        hits = pdq_hits(pdq, clip, config, direct)
        found = pdq_decide(pdq, clip, hits, config)
        if found:
            return Cascade(best_of(found), "pdq")
        others = np.nonzero(clip.pdq.variant != 0)[0]
        if len(others):
            more = pdq_hits(pdq, clip, config, others)
            found = pdq_decide(pdq, clip, merge_hits(hits, more), config) if len(more) else []
            if found:
                return Cascade(best_of(found), "pdq-mirror")
    orb, layout = indexes["orb"], indexes["layout"]
    if not len(orb.index) and not layout.references:
        return Cascade({}, "none")
    full = keyframes() if keyframes is not None else clip
    evidence: list[Evidence] = []
    with orb.lock:
        evidence += orb_evidence(orb, full, config)
    with layout.lock:
        evidence += layout_evidence(layout, full, config)
    return Cascade(best_of(evidence), "keyframes" if evidence else "none")
