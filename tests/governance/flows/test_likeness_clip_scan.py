"""``ClipScan``, the face scan that verify's decode pass feeds: a face-model or decode error stops
the faces, never the caller's pass; frames are passed through unchanged."""

from __future__ import annotations

import numpy as np

from detectors.errors import MediaError
from detectors.faces import ClipScanner, Face, FaceBox, FaceEmbedder, FaceError, Gallery, SamplingConfig
from detectors.video_io import CodedFrame
from governance.flows.likeness_results import ClipScan

BOX = FaceBox(0, 0, 20, 20)


class OneFace(FaceEmbedder):
    name = "one-face"

    def __init__(self, *, fail_after: int | None = None) -> None:
        self.fail_after, self.calls = fail_after, 0

    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        return [BOX]

    def describe(self, frame: np.ndarray, boxes: list[FaceBox]) -> list[Face]:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise FaceError("the model broke")
        return [Face(box, np.eye(128, dtype=np.float32)[0]) for box in boxes]


def scan_of(embedder: FaceEmbedder, max_samples: int | None = None) -> ClipScan:
    config = SamplingConfig(every=1, max_samples=max_samples)
    gallery = Gallery(["a"], [np.eye(128, dtype=np.float32)[0]])
    return ClipScan(ClipScanner(embedder, gallery, config), {"a": "A"}, 8.0, 1)


def frames(n: int) -> list[CodedFrame]:
    return [CodedFrame(np.full((24, 32, 3), 100, np.uint8), "I") for _ in range(n)]


def test_tee_passes_frames_through_and_drain_reads_on_until_the_bound():
    scan = scan_of(OneFace(), max_samples=5)
    source = iter(frames(8))
    passed = [item for _, item in zip(range(3), scan.tee(source), strict=False)]  # the caller stops after 3
    assert all(isinstance(item, CodedFrame) for item in passed) and scan.frames_seen == 3
    scan.drain(source)
    assert scan.done and scan.frames_seen == 5 and next(source, None) is not None  # stopped at the bound
    result = scan.finish()
    assert [m.person_id for m in result.matches] == ["a"] and result.frames_sampled == 5


def test_a_model_error_stops_the_faces_but_not_the_callers_pass():
    scan = scan_of(OneFace(fail_after=2))
    assert len(list(scan.tee(frames(6)))) == 6  # the watermark still saw every frame
    assert scan.error == "the model broke" and scan.done and scan.frames_seen == 3  # failed on the third


def test_a_decode_error_while_draining_is_kept_as_the_reason():
    def broken():
        yield frames(1)[0]
        raise MediaError("corrupt video stream")

    scan = scan_of(OneFace())
    scan.drain(broken())
    assert scan.error == "corrupt video stream" and scan.frames_seen == 1
