"""Decode only what a sampled fingerprint pass looks at.

A query is fingerprinted at a few frames a second, yet ``read_frames(step=...)`` decodes every
frame (the RGB conversion is all it skips). H.264/H.265 files from common encoders code about
half their frames as B-frames that no other frame references; FFmpeg can skip decoding those
(``skip_frame = NONREF``) without changing a single pixel of the frames it still decodes. The
sampler then takes, for each sampling tick, the first decoded frame at or after it (by
presentation time), so a sample is at most one reference-frame gap late (a frame or two at
common settings; exactly on time where the tick falls on a reference frame). On a 10 s 720p
CRF 28 x264 file this halves the decode time (measured: docs/recovery.md).

Presentation timestamps are trusted only in MP4/MOV and Matroska/WebM: an AVI's H.264 stream
came out with timestamps out of order (and half its declared frames), so any other container is
read as ``read_frames(step=...)`` reads it, every frame decoded. The header checks are
``probe``'s (size, declared frame count); the frame limit is also checked against the packets
actually read, which skipping does not hide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import av
import numpy as np

from detectors import video_io
from detectors.errors import MediaError, MediaTooLargeError
from detectors.media_limits import check_frames, check_pixels, decode_guard
from detectors.video_io import DEFAULT_MAX_PIXELS, probe, read_frames

__all__ = ["read_sampled"]

# Demuxers (FFmpeg names) whose presentation timestamps order and date the frames reliably.
_TIMED_CONTAINERS = frozenset({"mov", "mp4", "matroska", "webm"})


def read_sampled(
    path: str | os.PathLike[str],
    *,
    step: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    frame_limit: int | None = None,
    skip_nonref: bool = True,
) -> Iterator[np.ndarray]:
    """One RGB frame per ``step`` frames of the stream's nominal rate, as ``read_frames(step=)``
    gives on a constant-rate file, decoding only reference frames when ``skip_nonref``.

    A frame may be yielded for several ticks when the decoded frames are sparser than the ticks
    (the fingerprint pass sees an exact repeat and extends the previous row). MediaError when
    nothing decodes; a stream that breaks later ends the iteration with what was read.
    """
    if step < 1:
        raise ValueError(f"step must be >= 1 but is {step}")
    info = probe(path, max_pixels=max_pixels, frame_limit=frame_limit)  # existence, stream, size
    if not _TIMED_CONTAINERS & set(info.container.split(",")):
        yield from read_frames(path, step=step, max_pixels=max_pixels, frame_limit=frame_limit)
        return
    period = step / info.fps
    slack = 0.5 / info.fps  # timestamps jitter by less than half a frame
    with decode_guard(str(path), "not a readable video"):
        container = av.open(str(path), mode="r")
    yielded = 0
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        # The process-wide decoder thread setting (``set_decode_threads``; workers pin it to 1).
        threads = video_io.decode_threads()
        if threads:
            stream.thread_count = threads
        if skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        packets = container.demux(stream)
        read = 0  # packets with data: one per coded frame, decoded or skipped
        origin: float | None = None
        last_t = -1.0
        tick = 0
        while True:
            try:
                with decode_guard(str(path), "corrupt video stream"):
                    packet = next(packets, None)
                    if packet is None:
                        break
                    if packet.size:
                        read += 1
                        check_frames(read, frame_limit=frame_limit, what=str(path))
                    frames = packet.decode()
            except MediaTooLargeError:
                raise
            except MediaError:
                if yielded == 0:
                    raise
                break  # a truncated upload still carries evidence: keep what decoded
            for frame in frames:
                t = float(frame.time) if frame.time is not None else last_t + 1.0 / info.fps
                t = max(t, last_t)  # never back in time, whatever the stream says
                if origin is None:
                    origin = t
                last_t = t
                t -= origin
                if t + slack < tick * period:
                    continue  # before the next tick: not needed
                check_pixels(frame.width, frame.height, max_pixels=max_pixels, what=f"{path} (decoded frame)")
                with decode_guard(str(path), "corrupt video stream"):
                    rgb = frame.to_ndarray(format="rgb24")
                while tick * period <= t + slack:
                    yield rgb
                    yielded += 1
                    tick += 1
    if yielded == 0:
        raise MediaError(f"{path}: no decodable frames")
