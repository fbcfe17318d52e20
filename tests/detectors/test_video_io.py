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
