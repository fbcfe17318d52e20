"""Video I/O: the decoder thread setting that single-core worker processes use."""

from __future__ import annotations

import numpy as np
import pytest

from detectors import video_io


@pytest.fixture
def restore_threads():
    yield
    video_io.set_decode_threads(0)


def test_pinned_decoder_reads_the_same_frames(tmp_path, restore_threads):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(6)]
    path = video_io.write_video(tmp_path / "c.mp4", frames, fps=6, crf=18)
    auto = list(video_io.read_frames(path))
    video_io.set_decode_threads(1)
    pinned = list(video_io.read_frames(path))
    assert len(auto) == len(pinned) == 6
    assert all(np.array_equal(a, b) for a, b in zip(auto, pinned))


def test_negative_thread_count_is_refused(restore_threads):
    with pytest.raises(ValueError, match=">= 0"):
        video_io.set_decode_threads(-1)


def test_coded_frames_carry_picture_types_and_the_same_pixels(tmp_path):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(12)]
    path = video_io.write_video(tmp_path / "c.mp4", frames, fps=12, crf=23, preset="veryfast")
    coded = list(video_io.read_coded_frames(path))
    plain = list(video_io.read_frames(path))
    assert [c.picture_type for c in coded][0] == "I"
    assert {c.picture_type for c in coded} <= {"I", "P", "B", "?"} and len(coded) == len(plain) == 12
    assert all(np.array_equal(c.frame, p) for c, p in zip(coded, plain))
    image = tmp_path / "still.png"
    import cv2

    cv2.imwrite(str(image), frames[0])
    (still,) = video_io.read_coded_frames(image)
    assert still.picture_type == "I" and still.frame.shape == (64, 96, 3)
