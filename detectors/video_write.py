"""Video writes on PyAV: frames to H.264/H.265 MP4 through a temporary file renamed into place.

The writer half of ``detectors.video_io`` (which re-exports everything here): a crash or an
exception mid-write never leaves a half-written video at the target path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.container
import av.video.stream
import numpy as np

from detectors.errors import MediaError

__all__ = ["as_rgb_frame", "VideoWriter", "write_video"]


def as_rgb_frame(frame: np.ndarray) -> np.ndarray:
    """Normalise grayscale, RGBA and 16-bit frames to (H, W, 3) uint8; reject anything else."""
    array = np.asarray(frame)
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif array.dtype != np.uint8:
        if np.issubdtype(array.dtype, np.floating):
            array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
        else:
            raise MediaError(f"unsupported frame dtype {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise MediaError(f"frames must be (H, W, 3) RGB but have shape {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


class VideoWriter:
    """Encode frames to MP4 (H.264 by default) through a temp file renamed on ``close``.

    Use as a context manager; an exception inside the block removes the temp file and leaves
    no output.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fps: float,
        codec: str = "libx264",
        crf: int = 18,
        preset: str = "medium",
        pix_fmt: str = "yuv420p",
    ) -> None:
        self.path = Path(path)
        self.fps = fps
        self.codec = codec
        self.crf = crf
        self.preset = preset
        self.pix_fmt = pix_fmt
        self.frames_written = 0
        # Both set together by the first ``write`` and cleared together by ``close``/``abort``.
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        parent = self.path.parent
        if not parent.is_dir():
            raise MediaError(f"{self.path}: folder {parent} does not exist")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix or ".mp4", dir=parent)
        except OSError as exc:
            raise MediaError(f"{self.path}: cannot write here ({exc.strerror})") from exc
        os.close(fd)
        self._tmp = Path(tmp)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _open(self, width: int, height: int) -> tuple[av.container.OutputContainer, av.video.stream.VideoStream]:
        """Open the temp file's container with a video stream sized for the first frame."""
        if (width % 2 or height % 2) and self.pix_fmt == "yuv420p":
            raise MediaError(f"H.264 4:2:0 needs even dimensions but the frames are {width}x{height}")
        container = av.open(str(self._tmp), mode="w", format="mp4")
        try:
            stream = container.add_stream(self.codec, rate=Fraction(self.fps).limit_denominator(1001))
            if not isinstance(stream, av.video.stream.VideoStream):
                raise MediaError(f"{self.path}: {self.codec} is not a video codec")
            stream.width, stream.height = width, height
            stream.pix_fmt = self.pix_fmt
            stream.options = {"crf": str(self.crf), "preset": self.preset}
            if self.codec == "libx265":
                stream.options["x265-params"] = "log-level=error"
        except BaseException:
            with contextlib.suppress(Exception):  # must not hide the original error
                container.close()
            raise
        self._container, self._stream = container, stream
        return container, stream

    def write(self, frame: np.ndarray) -> None:
        frame = as_rgb_frame(frame)
        height, width = frame.shape[:2]
        if self._container is None or self._stream is None:
            container, stream = self._open(width, height)
        else:
            container, stream = self._container, self._stream
            if (width, height) != (stream.width, stream.height):
                raise MediaError(
                    f"all frames must share one size: got {width}x{height} after {stream.width}x{stream.height}"
                )
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in stream.encode(video_frame):
            container.mux(packet)
        self.frames_written += 1

    def close(self) -> Path:
        container, stream = self._container, self._stream
        if container is None or stream is None:
            self.abort()
            raise MediaError(f"{self.path}: no frames to write")
        for packet in stream.encode():
            container.mux(packet)
        container.close()
        self._container = self._stream = None
        with open(self._tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._container is not None:
            # closing a broken container must not hide the original error
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = self._stream = None
        self._tmp.unlink(missing_ok=True)


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    codec: str = "libx264",
    crf: int = 18,
    preset: str = "medium",
) -> Path:
    """Encode ``frames`` to ``path`` atomically; returns the path."""
    with VideoWriter(path, fps=fps, codec=codec, crf=crf, preset=preset) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)
