"""The push-style clip scanner and the gate's tracking: faces of confirmed people are not described
again, anything else is; the push form answers exactly what ``scan_frames`` answers."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.errors import MediaError
from detectors.faces import (
    ClipScanner,
    Face,
    FaceBox,
    FaceEmbedder,
    Gallery,
    SamplingConfig,
    continued_match,
    scan_frames,
)
from detectors.faces.clips import box_iou

A, B = np.eye(128, dtype=np.float32)[0], np.eye(128, dtype=np.float32)[1]


class ScriptedEmbedder(FaceEmbedder):
    """Boxes and descriptors read from the frame itself: pixel (0, 0) says who is where, so a test
    can script a clip; ``described`` counts the faces it was asked to describe."""

    name = "scripted"

    def __init__(self, layout: dict[int, list[tuple[FaceBox, np.ndarray]]]) -> None:
        self.layout, self.described = layout, 0

    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        return [box for box, _ in self.layout[int(frame[0, 0, 0])]]

    def describe(self, frame: np.ndarray, boxes: list[FaceBox]) -> list[Face]:
        self.described += len(boxes)
        by_box = {box: vec for box, vec in self.layout[int(frame[0, 0, 0])]}
        return [Face(box, by_box[box]) for box in boxes]


def clip(codes: list[int]) -> list[np.ndarray]:
    """Frames whose first pixel is the layout code (the rest flat grey: no cut between them)."""
    frames = []
    for code in codes:
        frame = np.full((36, 64, 3), 128, np.uint8)
        frame[0, 0, 0] = code
        frames.append(frame)
    return frames


LEFT, RIGHT = FaceBox(0, 0, 20, 20), FaceBox(40, 0, 60, 20)
GALLERY = Gallery(["a", "b"], [A, B])


def test_iou_and_the_continued_match_rule():
    assert box_iou(LEFT, LEFT) == 1.0 and box_iou(LEFT, RIGHT) == 0.0
    assert box_iou(LEFT, FaceBox(10, 0, 30, 20)) == pytest.approx(1 / 3)
    previous = [(LEFT, frozenset({"a"})), (RIGHT, frozenset())]
    assert continued_match(FaceBox(1, 1, 21, 21), previous, {"a"}) == {"a"}
    assert continued_match(FaceBox(1, 1, 21, 21), previous, set()) is None  # not confirmed yet
    assert continued_match(RIGHT, previous, {"a"}) is None  # it matched nobody: describe it
    assert continued_match(FaceBox(100, 0, 120, 20), previous, {"a"}) is None  # no face to continue
    assert continued_match(LEFT, [(LEFT, frozenset({"a", "b"}))], {"a"}) is None  # b still unconfirmed


def test_the_gate_stops_describing_a_confirmed_face_and_decides_the_same():
    layout = {1: [(LEFT, A)]}
    frames = clip([1] * 10)
    full, gate = ScriptedEmbedder(layout), ScriptedEmbedder(layout)
    every = SamplingConfig(every=1, min_frames=2)
    found = scan_frames(frames, full, GALLERY, every)
    gated = scan_frames(frames, gate, GALLERY, SamplingConfig(every=1, min_frames=2, skip_confirmed=True))
    assert full.described == 10 and gate.described == 2  # agreement reached after two frames
    assert [p.person_id for p in gated.present] == [p.person_id for p in found.present] == ["a"]
    assert gated.faces_found == found.faces_found == 10 and gated.faces_tracked == 8
    assert gated.present[0].frames == (0, 1) and found.present[0].frames == tuple(range(10))


def test_a_new_face_beside_a_confirmed_one_is_still_described_and_found():
    layout = {1: [(LEFT, A)], 2: [(LEFT, A), (RIGHT, B)]}
    gate = ScriptedEmbedder(layout)
    found = scan_frames(clip([1, 1, 1, 2, 2, 2]), gate, GALLERY, SamplingConfig(every=1, skip_confirmed=True))
    assert {p.person_id for p in found.present} == {"a", "b"}
    assert gate.described == 2 + 2  # a twice, then b until confirmed; a's box is tracked throughout


def test_a_cut_ends_every_track():
    layout = {1: [(LEFT, A)]}
    frames = clip([1] * 4)
    for frame in frames[2:]:
        frame[1:] = 250  # a different picture from the third frame on: one cut, before it
    gate = ScriptedEmbedder(layout)
    scan_frames(frames, gate, GALLERY, SamplingConfig(every=1, skip_confirmed=True))
    assert gate.described == 3  # frames 0 and 1 confirm; the cut forces frame 2; frame 3 continues it


def test_pushing_frames_answers_what_pulling_them_does_and_stops_at_max_samples():
    layout = {1: [(LEFT, A)], 2: [(RIGHT, B)]}
    frames = clip([1, 2, 1, 2, 1, 2, 1, 2])
    config = SamplingConfig(every=2, max_samples=3)
    pulled = scan_frames(frames, ScriptedEmbedder(layout), GALLERY, config)
    scanner = ClipScanner(ScriptedEmbedder(layout), GALLERY, config)
    for frame in frames:
        scanner.add(frame)
    pushed = scanner.result()
    assert scanner.done and pushed.frames_seen == pulled.frames_seen == 5  # the last sample is frame 4
    assert [f.index for f in pushed.sampled] == [f.index for f in pulled.sampled] == [0, 2, 4]
    assert pushed.people == pulled.people
    with pytest.raises(MediaError):
        ClipScanner(ScriptedEmbedder(layout), GALLERY).add(np.zeros((4, 4), np.uint8))
