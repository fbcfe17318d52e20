"""Video and image I/O on PyAV: streaming reads, H.264/H.265 MP4 writes, clear errors.

Frames are ``(H, W, 3)`` uint8 RGB arrays. Reads are generators, so long clips stream with
bounded memory; writes (``detectors.video_write``, re-exported here) go to a temporary file in
the target folder and are renamed into place only once complete, so a crash never leaves a
half-written video.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from detectors.errors import MediaError, MediaTooLargeError
from detectors.media_limits import check_frames, check_image_bytes, check_pixels, decode_guard
from detectors.video_write import VideoWriter, as_rgb_frame, write_video

__all__ = [
    "CodedFrame",
    "read_coded_frames",
    "VideoInfo",
    "probe",
    "read_frames",
    "read_clip",
    "write_video",
    "VideoWriter",
    "IMAGE_SUFFIXES",
    "is_image_path",
    "set_decode_threads",
    "decode_threads",
    "read_image",
    "decode_image",
    "as_rgb_frame",
    "remux",
]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
DEFAULT_MAX_PIXELS = 3840 * 2160


@dataclass(frozen=True)
class VideoInfo:
    path: str
    codec: str
    width: int
    height: int
    fps: float
    frame_count: int | None
    duration_s: float | None
    container: str


_DECODE_THREADS = 0  # 0: FFmpeg picks (one per core); worker processes pinned to a core set 1


def set_decode_threads(count: int) -> None:
    """Decoder threads per stream (0 = automatic). A process that is one of N single-core
    workers sets 1, so N processes do not each spread over every core."""
    global _DECODE_THREADS
    if count < 0:
        raise ValueError(f"decoder thread count must be >= 0 but is {count}")
    _DECODE_THREADS = int(count)


def decode_threads() -> int:
    """The decoder thread count ``set_decode_threads`` set (0 = automatic)."""
    return _DECODE_THREADS


def is_image_path(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _open(path: str | os.PathLike[str]) -> av.container.InputContainer:
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a folder, not a media file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: empty file")
    with decode_guard(str(p), "not a readable video"):
        container = av.open(str(p), mode="r")
    try:
        with decode_guard(str(p), "not a readable video"):
            has_video = bool(container.streams.video)
        if not has_video:
            raise MediaError(f"{p}: contains no video stream")
        if container.streams.video[0].codec_context is None:  # a codec tag FFmpeg has no decoder for
            raise MediaError(f"{p}: the video stream's codec is unknown or unsupported")
    except BaseException:
        container.close()
        raise
    return container


def probe(
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS, frame_limit: int | None = None
) -> VideoInfo:
    """Describe a video from its container and stream metadata, without decoding a frame.

    Refuses (MediaTooLargeError) a declared size above ``max_pixels`` and, when ``frame_limit``
    is given, a declared frame count (or duration x rate) above it; MediaError for anything the
    demuxer cannot make sense of.
    """
    with _open(path) as container, decode_guard(str(path), "unreadable video metadata"):
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise MediaError(f"{path}: video stream has no valid size")
        check_pixels(width, height, max_pixels=max_pixels, what=str(path))
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        fps = float(rate)
        if not (fps > 0 and fps < 1e6):
            raise MediaError(f"{path}: implausible frame rate {rate}")
        frame_count = stream.frames or None
        declared = frame_count
        if declared is None and duration is not None and duration > 0:
            declared = int(duration * fps)
        check_frames(declared, frame_limit=frame_limit, what=str(path))
        return VideoInfo(
            path=str(path),
            codec=stream.codec_context.name,
            width=width,
            height=height,
            fps=fps,
            frame_count=frame_count,
            duration_s=duration,
            container=container.format.name,
        )


def read_frames(
    path: str | os.PathLike[str],
    *,
    max_frames: int | None = None,
    step: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    frame_limit: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield RGB frames one at a time (every ``step``-th, at most ``max_frames``).

    Raises MediaError when the file is not a video or the stream is corrupt before any frame
    decodes; a stream that breaks after some frames ends the iteration with what was decoded
    (truncated uploads are common and still carry evidence). ``frame_limit`` refuses clips that
    declare, or turn out to have, more frames (MediaTooLargeError).
    """
    for coded in read_coded_frames(
        path, max_frames=max_frames, step=step, max_pixels=max_pixels, frame_limit=frame_limit
    ):
        yield coded.frame


@dataclass(frozen=True, slots=True)
class CodedFrame:
    """A decoded RGB frame and how the codec coded it: ``"I"`` (intra), ``"P"``, ``"B"`` or
    ``"?"``. Heavy compression keeps least of a picture in B frames, so detectors may weigh
    frames by their picture type."""

    frame: np.ndarray
    picture_type: str


_PICTURE_TYPES = {1: "I", 2: "P", 3: "B"}


def read_coded_frames(
    path: str | os.PathLike[str],
    *,
    max_frames: int | None = None,
    step: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    frame_limit: int | None = None,
) -> Iterator[CodedFrame]:
    """``read_frames`` with each frame's picture type (a still image counts as intra)."""
    if step < 1:
        raise ValueError(f"step must be >= 1 but is {step}")
    if is_image_path(path):
        yield CodedFrame(read_image(path, max_pixels=max_pixels), "I")
        return
    probe(path, max_pixels=max_pixels, frame_limit=frame_limit)
    yielded = 0
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if _DECODE_THREADS:
            stream.thread_count = _DECODE_THREADS
        frames = container.decode(stream)
        index = -1
        while True:
            try:
                # The codec's own headers may disagree with the container's: check every frame.
                with decode_guard(str(path), "corrupt video stream"):
                    frame = next(frames, None)
                    if frame is None:
                        break
                    index += 1
                    check_frames(index + 1, frame_limit=frame_limit, what=str(path))
                    if index % step:
                        continue
                    check_pixels(frame.width, frame.height, max_pixels=max_pixels, what=f"{path} (decoded frame)")
                    kind = _PICTURE_TYPES.get(int(frame.pict_type), "?")
                    rgb = frame.to_ndarray(format="rgb24")
            except MediaTooLargeError:
                raise
            except MediaError:
                if yielded == 0:
                    raise
                break  # a stream that breaks after some frames: keep what decoded
            yield CodedFrame(rgb, kind)
            yielded += 1
            if max_frames is not None and yielded >= max_frames:
                return
    if yielded == 0:
        raise MediaError(f"{path}: no decodable frames")


def read_clip(path: str | os.PathLike[str], *, max_frames: int | None = None) -> np.ndarray:
    """Read a short clip into one ``(F, H, W, 3)`` array (use ``read_frames`` for long ones)."""
    return np.stack(list(read_frames(path, max_frames=max_frames)))


def read_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode a still image to RGB; its header's declared size is checked before decoding."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: no such file")
    with decode_guard(str(p), "cannot read"):
        data = p.read_bytes()
    if not data:
        raise MediaError(f"{p}: empty file")
    return decode_image(data, max_pixels=max_pixels, what=str(p))


def decode_image(data: bytes | np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS, what: str = "image") -> np.ndarray:
    """Decode encoded image bytes to RGB: the one entry to OpenCV's image decoders. The header
    is read first (MediaTooLargeError for a declared size over ``max_pixels``, MediaError for a
    format ReelGuard does not read); decoder failures become MediaError."""
    import cv2

    raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else np.asarray(data, np.uint8).tobytes()
    check_image_bytes(raw, max_pixels=max_pixels, what=what)
    buffer = np.frombuffer(raw, dtype=np.uint8)
    with decode_guard(what, "not a readable image"):
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
        if image is None:
            raise MediaError(f"{what}: not a readable image")
        check_pixels(image.shape[1], image.shape[0], max_pixels=max_pixels, what=what)
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def remux(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Copy the video packets into a fresh MP4 without re-encoding (what ``ffmpeg -c copy``
    does; like any re-upload it drops C2PA manifests and other metadata boxes)."""
    dst = Path(dst)
    with _open(src) as source:
        in_stream = source.streams.video[0]
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=".mp4", dir=dst.parent)
        os.close(fd)
        try:
            with av.open(tmp, mode="w", format="mp4") as target:
                out_stream = target.add_stream_from_template(in_stream)
                for packet in source.demux(in_stream):
                    if packet.dts is None:
                        continue
                    packet.stream = out_stream
                    target.mux(packet)
            os.replace(tmp, dst)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return dst
