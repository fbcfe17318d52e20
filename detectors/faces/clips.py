"""Faces over a clip: which frames to look at, and when a person counts as present.

Sampling: a frame is examined every ``every`` frames and, in between, whenever the picture
changes abruptly (mean absolute difference of 32x18 grey thumbnails above ``scene_threshold``:
a cut brings new faces that a fixed stride may step over). Thumbnails cost ~50 µs a frame, so
every frame is looked at cheaply and only sampled ones reach the detector.

Agreement: a person counts as present only when a face within ``threshold`` of them is found in
at least ``min_frames`` sampled frames (capped by the number of frames sampled, so a still image
needs one). One frame's chance near-miss does not make a clip match; that is why false matches
are reported per clip.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from detectors.faces.base import Face, FaceEmbedder, check_frame
from detectors.faces.gallery import Candidate, Gallery

__all__ = ["SamplingConfig", "sample_frames", "FrameFaces", "PersonPresence", "ClipFaces", "scan_frames"]


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

    def __post_init__(self) -> None:
        if self.every < 1 or self.min_frames < 1 or not (0 < self.threshold < 2) or self.candidates < 1:
            raise ValueError(
                f"invalid sampling config {self!r}: every, min_frames and candidates must be >= 1, threshold in (0, 2)"
            )


def _thumb(frame: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.int16)


def sample_frames(
    frames: Iterable[np.ndarray], config: SamplingConfig = SamplingConfig()
) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` for the frames worth examining: the first, every ``every``-th, and
    each that follows a cut."""
    previous: np.ndarray | None = None
    taken = 0
    for index, frame in enumerate(frames):
        frame = check_frame(frame)
        thumb = _thumb(frame)
        cut = previous is not None and float(np.abs(thumb - previous).mean()) > config.scene_threshold
        previous = thumb
        if index % config.every == 0 or cut:
            yield index, frame
            taken += 1
            if config.max_samples is not None and taken >= config.max_samples:
                return


@dataclass(frozen=True)
class FrameFaces:
    """The faces of one sampled frame, each with its nearest enrolled people."""

    index: int
    faces: tuple[Face, ...]
    candidates: tuple[tuple[Candidate, ...], ...]  # per face, closest first


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
        return sum(len(f.faces) for f in self.sampled)


class _Counter:
    def __init__(self, frames: Iterable[np.ndarray]) -> None:
        self.frames, self.seen = frames, 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for frame in self.frames:
            self.seen += 1
            yield frame


def scan_frames(
    frames: Iterable[np.ndarray],
    embedder: FaceEmbedder,
    gallery: Gallery,
    config: SamplingConfig = SamplingConfig(),
) -> ClipFaces:
    """Detect and describe faces in the sampled frames; match them against ``gallery``."""
    started = time.perf_counter()
    counter = _Counter(frames)
    sampled: list[FrameFaces] = []
    hits: dict[str, list[tuple[int, float]]] = {}
    for index, frame in sample_frames(counter, config):
        faces = tuple(embedder.faces(frame))
        per_face = tuple(tuple(gallery.nearest(face.descriptor, k=config.candidates)) for face in faces)
        sampled.append(FrameFaces(index, faces, per_face))
        best_here: dict[str, float] = {}
        for candidates in per_face:
            for cand in candidates:
                if cand.distance <= config.threshold:
                    best_here[cand.person_id] = min(cand.distance, best_here.get(cand.person_id, np.inf))
        for person, dist in best_here.items():
            hits.setdefault(person, []).append((index, dist))
    required = max(1, min(config.min_frames, len(sampled)))
    people = [
        PersonPresence(person, min(d for _, d in found), tuple(i for i, _ in found), len(found) >= required)
        for person, found in hits.items()
    ]
    people.sort(key=lambda p: (not p.present, p.distance))
    return ClipFaces(
        frames_seen=counter.seen,
        frames_sampled=len(sampled),
        sampled=tuple(sampled),
        people=tuple(people),
        required_frames=required,
        threshold=config.threshold,
        elapsed_s=time.perf_counter() - started,
    )
