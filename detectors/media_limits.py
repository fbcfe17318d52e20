"""Limits checked before any decoder runs, and the one guard every decode goes through.

A 691-byte JPEG can declare 30000x30000 pixels; decoding it first and checking afterwards
costs gigabytes. So image sizes are read from the file's header (PNG IHDR, JPEG SOFn, WebP
VP8/VP8L/VP8X, GIF, BMP, TIFF) and refused before OpenCV sees a byte; video sizes and frame
counts come from PyAV's container and stream metadata (no frame is decoded), and every decoded
frame is checked again (a bit flip in the codec's own headers can disagree with the container).

``decode_guard`` turns whatever a decoder raises on hostile input (``cv2.error``, PyAV's
``FFmpegError`` tree, ``ValueError``, ``MemoryError``, ``OverflowError``, ``struct.error``, …)
into ``MediaError`` with the file's name, so callers see one error type and the CLI one exit code.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from detectors.errors import MediaError, MediaTooLargeError

__all__ = [
    "ImageHeader",
    "image_header",
    "check_pixels",
    "check_frames",
    "check_image_bytes",
    "decode_guard",
    "decode_errors",
    "IMAGE_FORMATS",
]

IMAGE_FORMATS = ("PNG", "JPEG", "WebP", "GIF", "BMP", "TIFF")
# JPEG start-of-frame markers (C4 = DHT, C8 = JPG extension and CC = DAC are not frames).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers that stand alone (no length field): TEM, RST0-7, SOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """What an image file declares about itself before any pixel is decoded."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def image_header(data: bytes) -> ImageHeader | None:
    """The declared format and size of an image, from its header alone; None when the bytes are
    none of ``IMAGE_FORMATS``. MediaError when the header is there but broken (truncated, a size
    of zero, a JPEG with no frame header)."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _gif(data)
        if data[:2] == b"BM":
            return _bmp(data)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff(data)
    except (struct.error, IndexError) as exc:
        raise MediaError(f"truncated image header ({exc})") from exc
    return None


def _sized(fmt: str, width: int, height: int) -> ImageHeader:
    if width <= 0 or height <= 0:
        raise MediaError(f"{fmt} header declares an empty image ({width}x{height})")
    return ImageHeader(fmt, width, height)


def _png(data: bytes) -> ImageHeader:
    length, kind, width, height = struct.unpack_from(">I4sII", data, 8)
    if kind != b"IHDR" or length < 13:
        raise MediaError("PNG without an IHDR chunk first")
    return _sized("PNG", width, height)


def _jpeg(data: bytes) -> ImageHeader:
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise MediaError(f"JPEG marker expected at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker == 0xD9 or marker == 0xDA:  # EOI, or scan data before any frame header
            break
        (length,) = struct.unpack_from(">H", data, pos)
        if marker in _SOF:
            height, width = struct.unpack_from(">HH", data, pos + 3)
            if height == 0:
                raise MediaError("JPEG height deferred to a DNL marker is not supported")
            return _sized("JPEG", width, height)
        if length < 2:
            raise MediaError(f"JPEG segment with length {length}")
        pos += length
    raise MediaError("JPEG without a frame header (SOFn)")


def _webp(data: bytes) -> ImageHeader:
    chunk = data[12:16]
    body = 20
    if chunk == b"VP8 ":
        if data[body + 3 : body + 6] != b"\x9d\x01\x2a":
            raise MediaError("WebP VP8 chunk without its start code")
        width, height = struct.unpack_from("<HH", data, body + 6)
        return _sized("WebP", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if data[body] != 0x2F:
            raise MediaError("WebP VP8L chunk without its signature")
        (bits,) = struct.unpack_from("<I", data, body + 1)
        return _sized("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        raw = data[body + 4 : body + 10]
        if len(raw) < 6:
            raise MediaError("truncated WebP VP8X chunk")
        width = int.from_bytes(raw[0:3], "little") + 1
        height = int.from_bytes(raw[3:6], "little") + 1
        return _sized("WebP", width, height)
    raise MediaError(f"WebP with an unknown first chunk {chunk!r}")


def _gif(data: bytes) -> ImageHeader:
    """The logical screen, grown to the first frame when that frame reaches beyond it."""
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data):
        block = data[pos]
        if block == 0x2C:  # image descriptor: left, top, width, height
            left, top, fw, fh = struct.unpack_from("<HHHH", data, pos + 1)
            width, height = max(width, left + fw), max(height, top + fh)
            break
        if block != 0x21:  # trailer or garbage: the screen is all there is
            break
        pos += 2  # extension introducer and label, then sub-blocks up to a zero length
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    return _sized("GIF", width, height)


def _bmp(data: bytes) -> ImageHeader:
    (dib,) = struct.unpack_from("<I", data, 14)
    if dib == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)
    return _sized("BMP", abs(width), abs(height))


def _tiff(data: bytes) -> ImageHeader:
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, ifd)
    size: dict[int, int] = {}
    for i in range(count):
        tag, kind, _n = struct.unpack_from(order + "HHI", data, ifd + 2 + 12 * i)
        if tag in (256, 257):
            fmt = order + ("H" if kind == 3 else "I")
            (size[tag],) = struct.unpack_from(fmt, data, ifd + 2 + 12 * i + 8)
    if 256 not in size or 257 not in size:
        raise MediaError("TIFF without ImageWidth/ImageLength in its first directory")
    return _sized("TIFF", size[256], size[257])


def check_pixels(width: int, height: int, *, max_pixels: int, what: str) -> None:
    """MediaTooLargeError (a MediaError) naming the declared size when it is over ``max_pixels``."""
    if width <= 0 or height <= 0:
        raise MediaError(f"{what}: declares an empty picture ({width}x{height})")
    if width * height > max_pixels:
        raise MediaTooLargeError(
            f"{what}: declared size {width}x{height} exceeds the limit of {max_pixels} pixels per frame"
        )


def check_frames(frames: int | None, *, frame_limit: int | None, what: str) -> None:
    """MediaTooLargeError when a clip declares (or reaches) more than ``frame_limit`` frames."""
    if frame_limit is not None and frames is not None and frames > frame_limit:
        raise MediaTooLargeError(f"{what}: declares {frames} frames, over the limit of {frame_limit}")


def check_image_bytes(data: bytes, *, max_pixels: int, what: str) -> ImageHeader:
    """The header of an image about to be decoded, refused when unknown or over the limit."""
    try:
        header = image_header(data)
    except MediaError as exc:
        raise MediaError(f"{what}: {exc}") from exc
    if header is None:
        raise MediaError(f"{what}: not an image format ReelGuard reads ({', '.join(IMAGE_FORMATS)})")
    check_pixels(header.width, header.height, max_pixels=max_pixels, what=f"{what} ({header.format})")
    return header


@lru_cache(maxsize=1)
def decode_errors() -> tuple[type[BaseException], ...]:
    """What decoders raise on hostile input (their own error types and Python's)."""
    import av
    import cv2

    return (
        cv2.error,
        av.error.FFmpegError,
        ValueError,
        TypeError,
        ArithmeticError,  # OverflowError, ZeroDivisionError from corrupt rates and sizes
        MemoryError,
        struct.error,
        EOFError,
        IndexError,
        OSError,
    )


@contextmanager
def decode_guard(what: str, action: str = "cannot decode") -> Iterator[None]:
    """Run a decoder call; whatever it raises on bad input becomes one MediaError naming ``what``.

    MediaError itself passes through unchanged, so limits raised inside keep their message.
    """
    try:
        yield
    except MediaError:
        raise
    except decode_errors() as exc:
        raise MediaError(f"{what}: {action} ({exc.__class__.__name__}: {exc})") from exc
