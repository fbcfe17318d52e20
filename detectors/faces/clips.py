"""Faces over a clip: which frames to look at, and when a person counts as present.

Sampling: a frame is examined every ``every`` frames and, in between, whenever the picture
changes abruptly (mean absolute difference of 32x18 grey thumbnails above ``scene_threshold``:
a cut brings new faces that a fixed stride may step over). Thumbnails cost ~0.5 ms a 720p frame,
so every frame is looked at cheaply and only sampled ones reach the detector.

Agreement: a person counts as present only when a face within ``threshold`` of them is found in
at least ``min_frames`` sampled frames (capped by the number of frames sampled, so a still image
needs one). One frame's chance near-miss does not make a clip match; that is why false matches
are reported per clip.

Gate mode (``skip_confirmed``): the descriptor is most of a sampled frame's cost (dlib's ResNet,
~75 ms a face on one core against ~25 ms for HOG on a 720p frame). A caller that only needs to
know who is present does not describe a face that continues (box IoU >= ``TRACK_IOU``, no cut in
between) a face of the previous sampled frame whose matches are all people already confirmed:
those people are present whatever that face's next descriptor says. ``ClipScanner`` is the
push form (``add`` every frame) that lets one decode pass feed other detectors too.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from detectors.faces.base import Face, FaceBox, FaceEmbedder, check_frame
from detectors.faces.gallery import Candidate, Gallery

__all__ = [
    "SamplingConfig",
    "sample_frames",
    "FrameFaces",
    "PersonPresence",
    "ClipFaces",
    "ClipScanner",
    "scan_frames",
    "box_iou",
    "continued_match",
    "TRACK_IOU",
]

TRACK_IOU = 0.5  # faces 0.5 s apart in a pan/zoom keep IoU ~0.7; two people side by side stay near 0


@dataclass(frozen=True, slots=True)
class SamplingConfig:
    """How a clip is sampled and how much agreement a match needs (defaults chosen on the DEV
    split of ``benchmarks/bench_likeness.py``; see docs/likeness.md)."""

    every: int = 12  # one frame in twelve: 2 a second at 24 fps
    scene_threshold: float = 30.0  # mean |Δ| of 0..255 grey thumbnails that counts as a cut
    max_samples: int | None = None  # cap on frames examined (None: the whole clip)
    min_frames: int = 2  # sampled frames a person must be matched in
    threshold: float = 0.45  # descriptor distance for a match (dlib's own is 0.6; 0.5 false-matched on DEV)
    candidates: int = 3  # nearest people kept per face for reports
    skip_confirmed: bool = False  # gate mode (module docstring): confirmed people's faces are not re-described

    def __post_init__(self) -> None:
        if self.every < 1 or self.min_frames < 1 or not (0 < self.threshold < 2) or self.candidates < 1:
            raise ValueError(
                f"invalid sampling config {self!r}: every, min_frames and candidates must be >= 1, threshold in (0, 2)"
            )


def _thumb(frame: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.int16)


class _Sampler:
    """Decides, frame by frame, which frames are sampled and which follow a cut."""

    def __init__(self, config: SamplingConfig) -> None:
        self.config, self.taken = config, 0
        self.previous: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self.config.max_samples is not None and self.taken >= self.config.max_samples

    def take(self, index: int, frame: np.ndarray) -> tuple[bool, bool]:
        """(sampled, cut) for the ``index``-th frame of the clip."""
        thumb = _thumb(frame)
        previous, self.previous = self.previous, thumb
        cut = previous is not None and float(np.abs(thumb - previous).mean()) > self.config.scene_threshold
        sampled = index % self.config.every == 0 or cut
        self.taken += sampled
        return sampled, cut


def sample_frames(
    frames: Iterable[np.ndarray], config: SamplingConfig = SamplingConfig()
) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` for the frames worth examining: the first, every ``every``-th, and
    each that follows a cut."""
    sampler = _Sampler(config)
    for index, frame in enumerate(frames):
        frame = check_frame(frame)
        if sampler.take(index, frame)[0]:
            yield index, frame
            if sampler.done:
                return


def box_iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes (0 when apart)."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / float(a.width * a.height + b.width * b.height - inter)


def continued_match(
    box: FaceBox, previous: Sequence[tuple[FaceBox, frozenset[str]]], confirmed: Collection[str]
) -> frozenset[str] | None:
    """The people matched by the face of the previous sampled frame that ``box`` continues (the
    best IoU, at least ``TRACK_IOU``) when they are all confirmed present; None when the face must
    be described (no such face, it matched nobody, or someone it matched is not confirmed yet)."""
    best, people = TRACK_IOU, None
    for prev_box, matched in previous:
        iou = box_iou(box, prev_box)
        if iou >= best:
            best, people = iou, matched
    if people and all(p in confirmed for p in people):
        return people
    return None


@dataclass(frozen=True)
class FrameFaces:
    """The faces of one sampled frame, each with its nearest enrolled people."""

    index: int
    faces: tuple[Face, ...]
    candidates: tuple[tuple[Candidate, ...], ...]  # per face, closest first
    # gate mode: faces not described because they continue a confirmed person (box, people)
    tracked: tuple[tuple[FaceBox, frozenset[str]], ...] = ()


@dataclass(frozen=True)
class PersonPresence:
    """An enrolled person matched in ``len(frames)`` sampled frames."""

    person_id: str
    distance: float  # the best (smallest) over the frames
    frames: tuple[int, ...]  # sampled frame indices where they matched
    present: bool  # matched in enough frames to count


@dataclass(frozen=True)
class ClipFaces:
    """Every face found in the sampled frames and the people present."""

    frames_seen: int
    frames_sampled: int
    sampled: tuple[FrameFaces, ...]
    people: tuple[PersonPresence, ...]  # every enrolled person matched at least once, best first
    required_frames: int
    threshold: float
    elapsed_s: float = field(default=0.0, compare=False)

    @property
    def present(self) -> tuple[PersonPresence, ...]:
        return tuple(p for p in self.people if p.present)

    @property
    def faces_found(self) -> int:
        return sum(len(f.faces) + len(f.tracked) for f in self.sampled)

    @property
    def faces_tracked(self) -> int:
        return sum(len(f.tracked) for f in self.sampled)


class ClipScanner:
    """Faces over a clip, fed one frame at a time: ``add`` each frame in order, then ``result``.
    ``done`` turns true once ``max_samples`` frames were examined (later frames are ignored)."""

    def __init__(self, embedder: FaceEmbedder, gallery: Gallery, config: SamplingConfig = SamplingConfig()) -> None:
        self.embedder, self.gallery, self.config = embedder, gallery, config
        self._sampler = _Sampler(config)
        self._seen, self._elapsed = 0, 0.0
        self._sampled: list[FrameFaces] = []
        self._hits: dict[str, list[tuple[int, float]]] = {}
        self._previous: list[tuple[FaceBox, frozenset[str]]] = []
        self._confirmed: set[str] = set()

    @property
    def done(self) -> bool:
        return self._sampler.done

    @property
    def frames_seen(self) -> int:
        return self._seen

    @property
    def required(self) -> int:
        return max(1, min(self.config.min_frames, len(self._sampled)))

    def add(self, frame: np.ndarray) -> None:
        if self.done:
            return
        started = time.perf_counter()
        index, self._seen = self._seen, self._seen + 1
        frame = check_frame(frame)
        sampled, cut = self._sampler.take(index, frame)
        if sampled:
            self._examine(index, frame, cut)
        self._elapsed += time.perf_counter() - started

    def _examine(self, index: int, frame: np.ndarray, cut: bool) -> None:
        config = self.config
        if cut:
            self._previous = []  # a cut: no face continues across it
        boxes = self.embedder.detect(frame)
        tracked: list[tuple[FaceBox, frozenset[str]]] = []
        to_describe: list[FaceBox] = []
        for box in boxes:
            carried = continued_match(box, self._previous, self._confirmed) if config.skip_confirmed else None
            (to_describe.append(box) if carried is None else tracked.append((box, carried)))
        faces = tuple(self.embedder.describe(frame, to_describe)) if to_describe else ()
        per_face = tuple(tuple(self.gallery.nearest(face.descriptor, k=config.candidates)) for face in faces)
        self._sampled.append(FrameFaces(index, faces, per_face, tuple(tracked)))
        best_here: dict[str, float] = {}
        current = list(tracked)
        for face, candidates in zip(faces, per_face, strict=True):
            matched = frozenset(c.person_id for c in candidates if c.distance <= config.threshold)
            current.append((face.box, matched))
            for cand in candidates:
                if cand.distance <= config.threshold:
                    best_here[cand.person_id] = min(cand.distance, best_here.get(cand.person_id, np.inf))
        for person, dist in best_here.items():
            found = self._hits.setdefault(person, [])
            found.append((index, dist))
            if len(found) >= config.min_frames:
                self._confirmed.add(person)
        self._previous = current

    def result(self) -> ClipFaces:
        required = self.required
        people = [
            PersonPresence(person, min(d for _, d in found), tuple(i for i, _ in found), len(found) >= required)
            for person, found in self._hits.items()
        ]
        people.sort(key=lambda p: (not p.present, p.distance))
        return ClipFaces(
            frames_seen=self._seen,
            frames_sampled=len(self._sampled),
            sampled=tuple(self._sampled),
            people=tuple(people),
            required_frames=required,
            threshold=self.config.threshold,
            elapsed_s=self._elapsed,
        )


def scan_frames(
    frames: Iterable[np.ndarray],
    embedder: FaceEmbedder,
    gallery: Gallery,
    config: SamplingConfig = SamplingConfig(),
) -> ClipFaces:
    """Detect and describe faces in the sampled frames; match them against ``gallery``."""
    started = time.perf_counter()
    scanner = ClipScanner(embedder, gallery, config)
    for frame in frames:
        scanner.add(frame)
        if scanner.done:
            break
    return dataclasses.replace(scanner.result(), elapsed_s=time.perf_counter() - started)  # with the frames' own cost
