"""From a stream of frames to the fingerprints the registry stores or searches.

Reference side (dense): up to ``sample_fps`` frames a second are considered; a cheap pHash pass
drops exact repeats, then a frame gets a PDQ row only if it differs from the last kept one by
more than ``prune`` bits, and each kept row remembers the run of time it stands for. ORB
keyframes are taken at most every ``orb_interval`` seconds (or on a scene change).
Query side: the same, sparser, with mirrored PDQ codes and ORB descriptors of the mirrored
keyframe added (a flipped copy matches through them), and a cap on ORB keyframes.
Layout thumbnails (``layout.py``) go with keyframes that ORB cannot describe (fewer than
``layout_below`` keypoints) on the reference side and with every keyframe on the query side.
Frames are shrunk to 640 px first, so 1080p and 360p copies are hashed from similar pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from detectors.fingerprints.base import FrameCodes, concat, hamming, iter_frames
from detectors.fingerprints.borders import remove_borders
from detectors.fingerprints.keypoints import OrbFingerprint
from detectors.fingerprints.layout import LayoutFingerprint
from detectors.fingerprints.pdq import MIRROR, PdqFingerprint
from detectors.fingerprints.phash import PHashFingerprint

__all__ = ["ExtractConfig", "REFERENCE", "QUERY", "ClipFingerprints", "extract", "work_frame"]

_WORK_SIDE = 640


@dataclass(frozen=True)
class ExtractConfig:
    sample_fps: float
    prune: int  # PDQ bits below which a frame repeats the last kept one
    orb_interval: float  # seconds between ORB keyframes (a scene change forces one)
    orb_features: int
    orb_max_frames: int | None
    pdq_variants: tuple[int, ...]
    min_quality: int = 20  # PDQ quality below this (flat/black frames) says nothing
    orb_mirror: bool = False  # also describe the mirrored keyframe (ORB is not mirror-invariant)
    orb_scene_cuts: bool = True  # a PDQ jump forces an ORB keyframe (off for capped queries:
    #                              there the few keyframes must spread over the whole clip)
    layout_below: int = 50  # a keyframe with fewer ORB keypoints also gets a layout thumbnail


REFERENCE = ExtractConfig(sample_fps=8.0, prune=10, orb_interval=1.0, orb_features=200,
                          orb_max_frames=None, pdq_variants=(0,))
QUERY = ExtractConfig(sample_fps=4.0, prune=4, orb_interval=1.0, orb_features=300,
                      orb_max_frames=10, pdq_variants=(0, MIRROR), orb_mirror=True, orb_scene_cuts=False,
                      layout_below=1 << 30)


@dataclass(frozen=True)
class ClipFingerprints:
    """PDQ, ORB and layout codes of a clip; ``*_times`` (K, 2) give each keyframe's [start, end] s."""

    fps: float
    frames_seen: int
    frames_sampled: int
    duration: float
    width: int
    height: int
    pdq: FrameCodes
    pdq_times: np.ndarray
    orb: FrameCodes
    orb_times: np.ndarray
    layout: FrameCodes
    layout_times: np.ndarray

    @property
    def pdq_frames(self) -> int:
        return int(self.pdq_times.shape[0])

    @property
    def orb_frames(self) -> int:
        return int(self.orb_times.shape[0])

    def scaled_times(self, factor: float) -> "ClipFingerprints":
        """The same codes with every time multiplied by ``factor`` (a container's rate was wrong)."""
        return replace(self, fps=self.fps / factor, duration=self.duration * factor,
                       pdq_times=self.pdq_times * factor, orb_times=self.orb_times * factor,
                       layout_times=self.layout_times * factor)


def work_frame(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = _WORK_SIDE / max(h, w)
    if scale >= 1.0:
        return frame
    return cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def extract(frames: Iterable[np.ndarray] | np.ndarray, *, fps: float, config: ExtractConfig,
            orb: bool = True) -> ClipFingerprints:
    """Fingerprint a clip (streamed once). ``fps`` dates the frames; stills use any value."""
    fps = float(fps) if fps and fps > 0 else 25.0
    # Bars are stripped once here, so the fingerprints are told not to look for them again.
    pdq = PdqFingerprint(variants=config.pdq_variants, strip_borders=False)
    phash = PHashFingerprint(strip_borders=False)
    orb_fp = OrbFingerprint(max_features=config.orb_features, strip_borders=False) if orb else None
    layout = LayoutFingerprint(strip_borders=False)
    step = max(1.0, fps / config.sample_fps)
    pdq_parts, pdq_times, orb_parts, orb_times = [], [], [], []
    layout_parts: list = []
    layout_times: list = []
    keyframes = 0  # ORB or layout keyframes taken (the query's cap counts both)
    last_kinds: tuple[list, ...] = ()  # the time lists the latest keyframe went into

    def extend_keyframe(t: float) -> None:
        if config.orb_max_frames is None or keyframes < config.orb_max_frames:
            for times in last_kinds:
                _extend(times, t, fps)
    last_phash = last_pdq = last_orb_code = None
    last_orb_t = -1e9
    seen = sampled = 0
    width = height = 0
    next_pick = 0.0
    for index, frame in enumerate(iter_frames(frames)):
        seen += 1
        if index < next_pick:
            continue
        next_pick += step
        sampled += 1
        t = index / fps
        height, width = frame.shape[:2]
        small = remove_borders(work_frame(frame))
        ph = phash.hash_frame(small).codes[0]
        if last_phash is not None and hamming(ph, last_phash) <= 1:
            _extend(pdq_times, t, fps)
            extend_keyframe(t)
            continue
        last_phash = ph
        codes = pdq.hash_frame(small)
        ident = codes.codes[0]
        # A low-quality frame (black, or a very smooth wash) gets no PDQ row and no ORB
        # keypoints (they would be noise), but it may still have a layout.
        textured = codes.quality[0] >= config.min_quality
        if textured and last_pdq is not None and hamming(ident, last_pdq) <= config.prune:
            _extend(pdq_times, t, fps)
        elif textured:
            last_pdq = ident
            pdq_parts.append((len(pdq_times), codes))
            pdq_times.append([t, t + 1.0 / fps])
        if orb_fp is None:
            continue
        scene_change = last_orb_code is None or (
            config.orb_scene_cuts and hamming(ident, last_orb_code) > 48)
        capped = config.orb_max_frames is not None and keyframes >= config.orb_max_frames
        if (t - last_orb_t >= config.orb_interval or scene_change) and not capped:
            kp = orb_fp.hash_frame(small) if textured else FrameCodes.empty("orb", 32)
            kinds = []
            if len(kp) >= 8:
                if config.orb_mirror:
                    flipped = orb_fp.hash_frame(np.ascontiguousarray(small[:, ::-1]))
                    if len(flipped) >= 8:
                        variant = np.full(len(flipped), MIRROR, np.int16)
                        orb_parts.append((len(orb_times), replace(flipped, variant=variant)))
                orb_parts.append((len(orb_times), kp))
                kinds.append(orb_times)
            if len(kp) < config.layout_below:
                thumb = layout.hash_frame(small)
                if len(thumb):
                    layout_parts.append((len(layout_times), thumb))
                    kinds.append(layout_times)
            if kinds:
                for times in kinds:
                    times.append([t, t + 1.0 / fps])
                keyframes += 1
                last_kinds = tuple(kinds)
                last_orb_t, last_orb_code = t, ident
                continue
        if textured:
            extend_keyframe(t)
    return ClipFingerprints(
        fps=fps, frames_seen=seen, frames_sampled=sampled, duration=seen / fps,
        width=width, height=height,
        pdq=concat("pdq", 32, pdq_parts), pdq_times=np.asarray(pdq_times, np.float32).reshape(-1, 2),
        orb=concat("orb", 32, orb_parts), orb_times=np.asarray(orb_times, np.float32).reshape(-1, 2),
        layout=concat("layout", layout.nbytes, layout_parts),
        layout_times=np.asarray(layout_times, np.float32).reshape(-1, 2),
    )


def _extend(times: list, t: float, fps: float) -> None:
    if times:
        times[-1][1] = t + 1.0 / fps
