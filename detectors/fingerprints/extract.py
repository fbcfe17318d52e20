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
from detectors.fingerprints.layout import THUMB_BYTES, LayoutFingerprint
from detectors.fingerprints.pdq import MIRROR, PdqFingerprint
from detectors.fingerprints.phash import PHashFingerprint

__all__ = [
    "ExtractConfig",
    "REFERENCE",
    "QUERY",
    "ClipFingerprints",
    "PendingKeyframes",
    "extract",
    "extract_pdq_first",
    "work_frame",
]

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


REFERENCE = ExtractConfig(
    sample_fps=8.0, prune=10, orb_interval=1.0, orb_features=200, orb_max_frames=None, pdq_variants=(0,)
)
QUERY = ExtractConfig(
    sample_fps=4.0,
    prune=4,
    orb_interval=1.0,
    orb_features=300,
    orb_max_frames=10,
    pdq_variants=(0, MIRROR),
    orb_mirror=True,
    orb_scene_cuts=False,
    layout_below=1 << 30,
)


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

    def scaled_times(self, factor: float) -> ClipFingerprints:
        """The same codes with every time multiplied by ``factor`` (a container's rate was wrong)."""
        return replace(
            self,
            fps=self.fps / factor,
            duration=self.duration * factor,
            pdq_times=self.pdq_times * factor,
            orb_times=self.orb_times * factor,
            layout_times=self.layout_times * factor,
        )


def work_frame(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = _WORK_SIDE / max(h, w)
    if scale >= 1.0:
        return frame
    return cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def extract(
    frames: Iterable[np.ndarray] | np.ndarray, *, fps: float, config: ExtractConfig, orb: bool = True
) -> ClipFingerprints:
    """Fingerprint a clip (streamed once). ``fps`` dates the frames; stills use any value."""
    scan = _PdqPass(fps, config, _Keyframes(fps, config) if orb else None)
    for frame in iter_frames(frames):
        scan.feed(frame)
    return scan.result()


def extract_pdq_first(
    frames: Iterable[np.ndarray] | np.ndarray, *, fps: float, config: ExtractConfig
) -> PendingKeyframes:
    """PDQ codes now, ORB and layout keyframes only if asked for (``PendingKeyframes.complete``).

    A lookup that PDQ decides (most copies of a clip) never pays for keypoints. The shrunk frames
    the keyframe pass needs are kept until then, up to ``_KEEP_BYTES``; a longer clip gets its
    keyframes during the same pass instead, so memory stays bounded and the result is the same.
    """
    scan = _PdqPass(fps, config, _Keyframes(fps, config), keep=True)
    for frame in iter_frames(frames):
        scan.feed(frame)
    return PendingKeyframes(scan)


class PendingKeyframes:
    """A clip fingerprinted for PDQ whose keyframes (ORB, layout) are computed on first use."""

    def __init__(self, scan: _PdqPass) -> None:
        self._scan = scan
        self._factor = 1.0
        self.pdq_only = scan.result(keyframes=False)
        self._complete: ClipFingerprints | None = None

    @property
    def computed(self) -> bool:
        return self._complete is not None

    def scale_times(self, factor: float) -> None:
        """Multiply every time by ``factor``, now and in the keyframes to come (``scaled_times``)."""
        self._factor *= factor
        self.pdq_only = self.pdq_only.scaled_times(factor)
        if self._complete is not None:
            self._complete = self._complete.scaled_times(factor)

    def complete(self) -> ClipFingerprints:
        """The same fingerprints ``extract`` gives (PDQ, ORB and layout)."""
        if self._complete is None:
            clip = self._scan.result()  # feeds and then drops the kept frames
            self._complete = clip.scaled_times(self._factor) if self._factor != 1.0 else clip
        return self._complete


_KEEP_BYTES = 128 << 20  # shrunk frames a pending keyframe pass may hold (~180 frames at 640x360)


class _Keyframes:
    """ORB and layout keyframes: one every ``orb_interval`` s (or on a scene cut), fed the sampled
    frames in order, now (``extract``) or later from kept frames (``extract_pdq_first``)."""

    def __init__(self, fps: float, config: ExtractConfig) -> None:
        self.fps, self.config = fps, config
        self.orb_fp = OrbFingerprint(max_features=config.orb_features, strip_borders=False)
        self.layout = LayoutFingerprint(strip_borders=False)
        self.orb_parts: list = []
        self.orb_times: list = []
        self.layout_parts: list = []
        self.layout_times: list = []
        self.count = 0  # ORB or layout keyframes taken (the query's cap counts both)
        self.last_kinds: tuple[list, ...] = ()  # the time lists the latest keyframe went into
        self.last_t = -1e9
        self.last_code: np.ndarray | None = None

    def _extend(self, t: float) -> None:
        if self.config.orb_max_frames is None or self.count < self.config.orb_max_frames:
            for times in self.last_kinds:
                _extend(times, t, self.fps)

    def feed(self, t: float, small: np.ndarray | None, ident: np.ndarray | None, textured: bool) -> None:
        """One sampled frame; ``small`` is None for an exact repeat of the previous one."""
        if small is None or ident is None:
            self._extend(t)
            return
        config = self.config
        scene_change = self.last_code is None or (config.orb_scene_cuts and hamming(ident, self.last_code) > 48)
        capped = config.orb_max_frames is not None and self.count >= config.orb_max_frames
        if (t - self.last_t >= config.orb_interval or scene_change) and not capped:
            kp = self.orb_fp.hash_frame(small) if textured else FrameCodes.empty("orb", 32)
            kinds = []
            if len(kp) >= 8:
                if config.orb_mirror:
                    flipped = self.orb_fp.hash_frame(np.ascontiguousarray(small[:, ::-1]))
                    if len(flipped) >= 8:
                        variant = np.full(len(flipped), MIRROR, np.int16)
                        self.orb_parts.append((len(self.orb_times), replace(flipped, variant=variant)))
                self.orb_parts.append((len(self.orb_times), kp))
                kinds.append(self.orb_times)
            if len(kp) < config.layout_below:
                thumb = self.layout.hash_frame(small)
                if len(thumb):
                    self.layout_parts.append((len(self.layout_times), thumb))
                    kinds.append(self.layout_times)
            if kinds:
                for times in kinds:
                    times.append([t, t + 1.0 / self.fps])
                self.count += 1
                self.last_kinds = tuple(kinds)
                self.last_t, self.last_code = t, ident
                return
        if textured:
            self._extend(t)


class _PdqPass:
    """The streamed pass: sampling, the pHash repeat check, PDQ rows; keyframes fed or kept."""

    def __init__(self, fps: float, config: ExtractConfig, keyframes: _Keyframes | None, *, keep: bool = False) -> None:
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self.config = config
        # Bars are stripped once here, so the fingerprints are told not to look for them again.
        self.pdq = PdqFingerprint(variants=config.pdq_variants, strip_borders=False)
        self.phash = PHashFingerprint(strip_borders=False)
        self.keyframes = keyframes
        self.kept: list | None = [] if keep else None  # (t, small, ident, textured) not yet fed
        self.kept_bytes = 0
        self.step = max(1.0, self.fps / config.sample_fps)
        self.pdq_parts: list = []
        self.pdq_times: list = []
        self.last_phash: np.ndarray | None = None
        self.last_pdq: np.ndarray | None = None
        self.seen = self.sampled = self.width = self.height = 0
        self.next_pick = 0.0

    def feed(self, frame: np.ndarray) -> None:
        index = self.seen
        self.seen += 1
        if index < self.next_pick:
            return
        self.next_pick += self.step
        self.sampled += 1
        t = index / self.fps
        self.height, self.width = frame.shape[:2]
        small = remove_borders(work_frame(frame))
        ph = self.phash.hash_frame(small).codes[0]
        if self.last_phash is not None and hamming(ph, self.last_phash) <= 1:
            _extend(self.pdq_times, t, self.fps)
            self._keyframe(t, None, None, False)
            return
        self.last_phash = ph
        codes = self.pdq.hash_frame(small)
        ident = codes.codes[0]
        # A low-quality frame (black, or a very smooth wash) gets no PDQ row and no ORB
        # keypoints (they would be noise), but it may still have a layout.
        textured = bool(codes.quality[0] >= self.config.min_quality)
        if textured and self.last_pdq is not None and hamming(ident, self.last_pdq) <= self.config.prune:
            _extend(self.pdq_times, t, self.fps)
        elif textured:
            self.last_pdq = ident
            self.pdq_parts.append((len(self.pdq_times), codes))
            self.pdq_times.append([t, t + 1.0 / self.fps])
        self._keyframe(t, small, ident, textured)

    def _keyframe(self, t: float, small: np.ndarray | None, ident: np.ndarray | None, textured: bool) -> None:
        if self.keyframes is None:
            return
        if self.kept is None:
            self.keyframes.feed(t, small, ident, textured)
            return
        self.kept.append((t, small, ident, textured))
        self.kept_bytes += small.nbytes if small is not None else 0
        if self.kept_bytes > _KEEP_BYTES:
            self._flush()

    def _flush(self) -> None:
        """Feed the kept frames to the keyframe pass and stop keeping (same result, less memory)."""
        if self.kept is not None and self.keyframes is not None:
            for item in self.kept:
                self.keyframes.feed(*item)
        self.kept = None

    def result(self, *, keyframes: bool = True) -> ClipFingerprints:
        if keyframes:
            self._flush()
        k = self.keyframes if keyframes else None
        empty: list = []
        return ClipFingerprints(
            fps=self.fps,
            frames_seen=self.seen,
            frames_sampled=self.sampled,
            duration=self.seen / self.fps,
            width=self.width,
            height=self.height,
            pdq=concat("pdq", 32, self.pdq_parts),
            pdq_times=np.asarray(self.pdq_times, np.float32).reshape(-1, 2),
            orb=concat("orb", 32, k.orb_parts if k else empty),
            orb_times=np.asarray(k.orb_times if k else empty, np.float32).reshape(-1, 2),
            layout=concat("layout", THUMB_BYTES, k.layout_parts if k else empty),
            layout_times=np.asarray(k.layout_times if k else empty, np.float32).reshape(-1, 2),
        )


def _extend(times: list, t: float, fps: float) -> None:
    if times:
        times[-1][1] = t + 1.0 / fps
