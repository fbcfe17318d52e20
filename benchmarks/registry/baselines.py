"""Fingerprint baselines at full strength, run on the same queries as ReelGuard.

* **vPDQ as its authors ship it** (ThreatExchange ``vpdq/README.md`` and python-threatexchange's
  ``VideoVPDQSignal``; written here from that description): one PDQ hash of the whole frame per
  second of video (``seconds_per_hash`` 1.0), a clip's hashes taken as a set, hashes of quality
  below 50 never compared, two hashes matching within 31 bits, and a query matching a work when
  the larger of the two shares (of the query's hashes that match some work hash, of the work's
  hashes that match some query hash) reaches 80 %. No bars are cut and no mirror is tried.
* **vPDQ + bars + mirror**: the same rule on frames with bars cut, the query's mirrored hashes
  scored as a second bag: what a vPDQ user facing letterboxed and flipped re-uploads would add.
* **PDQ and pHash at full strength**: bars cut (production's ``remove_borders``), the query's
  mirror added, sampled as production samples (references up to 8 frames/s, queries 4 frames/s
  thinned to ~120), decided by production's temporal alignment and ``MatchConfig`` (min_frames
  2, min_coverage 0.25) through ``detectors.fingerprints.match.pdq_evidence`` over an in-memory
  store. PDQ at full strength is ReelGuard's own PDQ channel alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from detectors.fingerprints.base import FrameCodes, hamming, hamming_matrix
from detectors.fingerprints.borders import remove_borders
from detectors.fingerprints.extract import ClipFingerprints, ExtractConfig, extract, work_frame
from detectors.fingerprints.index import FlatIndex, HammingIndex
from detectors.fingerprints.match import ROW_BITS, MatchConfig, SetInfo, pdq_evidence
from detectors.fingerprints.pdq import MIRROR, PdqFingerprint
from detectors.fingerprints.phash import PHashFingerprint
from detectors.video_io import probe, read_frames

# A permissive decision: every aligned candidate, so the closest false candidate is measurable.
PERMISSIVE = MatchConfig(min_coverage=0.0, min_frames=1)


@dataclass(frozen=True)
class Decision:
    """What a method concluded about one query: the works it declared present, and its decision
    statistic for every work it scored (coverage, or vPDQ's larger match share), permissively."""

    decided: frozenset[str]
    score: dict[str, float]


# -- vPDQ ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VpdqRule:
    """The defaults vPDQ ships with."""

    distance: int = 31
    quality: int = 50
    match_percent: float = 80.0
    seconds_per_hash: float = 1.0


@dataclass(frozen=True)
class VpdqHash:
    """One bag of frame hashes: ``codes`` (n, 32) uint8 and their PDQ ``quality`` (n,)."""

    codes: np.ndarray
    quality: np.ndarray

    def usable(self, rule: VpdqRule) -> np.ndarray:
        """The distinct hashes of at least the rule's quality (vPDQ compares sets)."""
        kept = self.codes[self.quality >= rule.quality]
        return np.unique(kept, axis=0) if len(kept) else kept


@dataclass(frozen=True)
class VpdqScore:
    query_percent: float
    compared_percent: float

    @property
    def percent(self) -> float:
        return max(self.query_percent, self.compared_percent)

    def matched(self, rule: VpdqRule) -> bool:
        return self.percent >= rule.match_percent


def vpdq_compare(query: VpdqHash, compared: VpdqHash, rule: VpdqRule = VpdqRule()) -> VpdqScore:
    """vPDQ's brute-force comparison of two bags of hashes."""
    q, c = query.usable(rule), compared.usable(rule)
    if not len(q) or not len(c):
        return VpdqScore(0.0, 0.0)
    close = hamming_matrix(q, c) <= rule.distance
    return VpdqScore(float(100.0 * close.any(axis=1).mean()), float(100.0 * close.any(axis=0).mean()))


def vpdq_bags(frames: Iterable[np.ndarray], *, strip_borders: bool, mirror: bool) -> list[VpdqHash]:
    """The bag of a clip's hashes (frames already sampled), plus the mirrored bag if asked."""
    fp = PdqFingerprint(variants=(0, MIRROR) if mirror else (0,), strip_borders=strip_borders)
    rows = [fp.hash_frame(f) for f in frames]
    if not rows:
        empty = VpdqHash(np.zeros((0, 32), np.uint8), np.zeros(0, np.int16))
        return [empty, empty] if mirror else [empty]
    bags = []
    for v in range(2 if mirror else 1):
        bags.append(VpdqHash(np.stack([r.codes[v] for r in rows]), np.asarray([r.quality[v] for r in rows])))
    return bags


def per_second(path: Path, rule: VpdqRule = VpdqRule()) -> list[np.ndarray]:
    """Frames at vPDQ's default rate (one hash per ``seconds_per_hash``), decoded once for both
    vPDQ variants."""
    info = probe(path)
    return list(read_frames(path, step=max(1, round(info.fps * rule.seconds_per_hash))))


class Vpdq:
    """vPDQ over the benchmark's works (brute force, as the reference matcher does)."""

    def __init__(self, name: str, *, strip_borders: bool, mirror: bool, rule: VpdqRule = VpdqRule()) -> None:
        self.name, self.strip_borders, self.mirror, self.rule = name, strip_borders, mirror, rule
        self.refs: dict[str, VpdqHash] = {}

    def add(self, work: str, frames: list[np.ndarray]) -> None:
        self.refs[work] = vpdq_bags(frames, strip_borders=self.strip_borders, mirror=False)[0]

    def decide(self, frames: list[np.ndarray]) -> Decision:
        bags = vpdq_bags(frames, strip_borders=self.strip_borders, mirror=self.mirror)
        score, decided = {}, set()
        for work, ref in self.refs.items():
            best = max((vpdq_compare(b, ref, self.rule) for b in bags), key=lambda s: s.percent)
            score[work] = float(best.percent / 100.0)
            if best.matched(self.rule):
                decided.add(work)
        return Decision(frozenset(decided), score)


# -- PDQ / pHash at full strength ----------------------------------------------------------------
def sampled_frames(path: Path, config: ExtractConfig) -> tuple[Iterable[np.ndarray], float]:
    """The file's frames thinned by the decoder as production's ``fingerprint_file`` thins them."""
    info = probe(path)
    step = max(1, int(info.fps / config.sample_fps)) if info.fps > 0 else 1
    return read_frames(path, step=step), info.fps / step


def pdq_codes(path: Path, config: ExtractConfig) -> tuple[FrameCodes, np.ndarray]:
    """Production's PDQ rows of a file (bars cut, pruned, mirrored on the query side) and times."""
    frames, fps = sampled_frames(path, config)
    clip = extract(frames, fps=fps, config=config, orb=False)
    return clip.pdq, clip.pdq_times


def phash_codes(frames: Iterable[np.ndarray], fps: float, config: ExtractConfig) -> tuple[FrameCodes, np.ndarray]:
    """pHash rows sampled as production samples PDQ: at ``config.sample_fps``, bars cut, a frame
    within 1 bit of the last kept one extends its time (production's repeat rule: pHash has no
    quality score and no finer pruning), and on the query side (mirror among the config's
    variants) the mirrored frame adds a second row."""
    fp = PHashFingerprint(strip_borders=False)
    mirror = MIRROR in config.pdq_variants
    step = max(1.0, fps / config.sample_fps)
    codes: list[np.ndarray] = []
    keyframe: list[int] = []
    variant: list[int] = []
    times: list[list[float]] = []
    last = None
    next_pick = 0.0
    for index, frame in enumerate(frames):
        if index < next_pick:
            continue
        next_pick += step
        t = index / fps
        small = remove_borders(work_frame(frame))
        code = fp.hash_frame(small).codes[0]
        if last is not None and hamming(code, last) <= 1:
            times[-1][1] = t + 1.0 / fps
            continue
        last = code
        for v, picture in ((0, small), (MIRROR, small[:, ::-1])) if mirror else ((0, small),):
            codes.append(code if v == 0 else fp.hash_frame(np.ascontiguousarray(picture)).codes[0])
            keyframe.append(len(times))
            variant.append(v)
        times.append([t, t + 1.0 / fps])
    n = len(codes)
    out = FrameCodes(
        "phash",
        np.stack(codes) if n else np.zeros((0, 8), np.uint8),
        np.asarray(keyframe, np.int32),
        np.asarray(variant, np.int16),
        np.full(n, 100, np.int16),
    )
    return out, np.asarray(times, np.float32).reshape(-1, 2)


class AlignedBaseline:
    """Frame hashes in an in-memory evidence store (``detectors.fingerprints.match.EvidenceStore``),
    decided by production's alignment and ``MatchConfig`` with the hash's own radius."""

    def __init__(self, name: str, *, bits: int, radius: int, config: MatchConfig = MatchConfig()) -> None:
        self.name, self.radius = name, radius
        self.config = replace(config, pdq_radius=radius)
        self.index: HammingIndex = FlatIndex(bits)
        self.sets: dict[int, SetInfo] = {}
        self.lock = threading.Lock()
        self.nbytes = bits // 8

    def add(self, work: str, codes: FrameCodes, times: np.ndarray) -> None:
        fid = len(self.sets) + 1
        self.index.add(codes.codes, (fid << ROW_BITS) | np.arange(len(codes), dtype=np.int64))
        self.sets[fid] = SetInfo(fid, fid, work, "video", codes.frame.astype(np.int32), times.astype(np.float32), None)

    def _best(self, codes: FrameCodes, times: np.ndarray, config: MatchConfig) -> dict[str, float]:
        empty = FrameCodes.empty("none", 32)
        clip = ClipFingerprints(
            fps=25.0, frames_seen=0, frames_sampled=0, duration=float(times[:, 1].max()) if len(times) else 0.0,
            width=0, height=0, pdq=codes, pdq_times=times, orb=empty, orb_times=np.zeros((0, 2), np.float32),
            layout=empty, layout_times=np.zeros((0, 2), np.float32),
        )  # fmt: skip
        best: dict[str, float] = {}
        for ev in pdq_evidence(self, clip, config):
            best[ev.work_id] = max(best.get(ev.work_id, 0.0), ev.coverage)
        return best

    def decide(self, codes: FrameCodes, times: np.ndarray) -> Decision:
        decided = frozenset(self._best(codes, times, self.config))
        return Decision(decided, self._best(codes, times, replace(PERMISSIVE, pdq_radius=self.radius)))
