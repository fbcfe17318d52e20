"""Header readers and the decode guard of ``detectors.media_limits``."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from detectors.errors import MediaError, MediaTooLargeError
from detectors.media_limits import (
    ImageHeader,
    check_frames,
    check_image_bytes,
    check_pixels,
    decode_guard,
    image_header,
)


def _encoded(ext: str, width: int = 13, height: int = 7, **params: int) -> bytes:
    flags = [value for pair in params.items() for value in (getattr(cv2, pair[0]), pair[1])]
    ok, data = cv2.imencode(ext, np.full((height, width, 3), 99, np.uint8), flags)
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("ext, fmt", [(".png", "PNG"), (".jpg", "JPEG"), (".bmp", "BMP"), (".tif", "TIFF"),
                                      (".webp", "WebP")])
def test_every_header_reader_matches_the_encoder(ext, fmt):
    """Each reader returns the size OpenCV encoded."""
    assert image_header(_encoded(ext)) == ImageHeader(fmt, 13, 7)


def test_webp_lossless_and_extended_headers():
    """VP8L (lossless) and VP8X (extended canvas) are read as well as lossy VP8."""
    lossless = _encoded(".webp", IMWRITE_WEBP_QUALITY=101)
    assert lossless[12:16] == b"VP8L" and image_header(lossless) == ImageHeader("WebP", 13, 7)
    body = b"\x00" * 4 + (999).to_bytes(3, "little") + (499).to_bytes(3, "little")
    vp8x = b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", 10) + body
    assert image_header(vp8x) == ImageHeader("WebP", 1000, 500)


def test_progressive_jpeg_with_app_segments_and_fill_bytes():
    """The SOFn of a progressive JPEG is found past APPn segments and 0xFF fill bytes."""
    data = _encoded(".jpg", 40, 30, IMWRITE_JPEG_PROGRESSIVE=1)
    app = b"\xff\xe1" + struct.pack(">H", 2 + 5000) + b"E" * 5000
    padded = data[:2] + app + b"\xff\xff" + data[2:]
    assert image_header(padded) == ImageHeader("JPEG", 40, 30)


def test_gif_and_os2_bmp_headers():
    """GIF's logical screen and the 12-byte OS/2 bitmap header."""
    assert image_header(b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 8) == ImageHeader("GIF", 640, 480)
    os2 = b"BM" + b"\x00" * 12 + struct.pack("<IHH", 12, 300, 200) + b"\x00" * 8
    assert image_header(os2) == ImageHeader("BMP", 300, 200)


def test_gif_frame_beyond_the_screen_counts():
    """A 1x1 screen whose first frame (after a colour table and an extension) is 60000x60000."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00" * 6  # 2-entry colour table
    extension = b"\x21\xf9\x04" + b"\x00" * 4 + b"\x00"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 60000, 60000, 0)
    assert image_header(screen + extension + frame) == ImageHeader("GIF", 60000, 60000)
    with pytest.raises(MediaError):
        image_header(screen + b"\x21\xf9\x04\x00")  # truncated inside the extension


def test_big_endian_tiff_and_top_down_bmp():
    """Motorola byte order TIFF, and a BMP with a negative (top-down) height."""
    ifd = struct.pack(">H", 2) + struct.pack(">HHIHH", 256, 3, 1, 5000, 0) + struct.pack(">HHII", 257, 4, 1, 7000)
    tiff = b"MM\x00*" + struct.pack(">I", 8) + ifd + b"\x00" * 4
    assert image_header(tiff) == ImageHeader("TIFF", 5000, 7000)
    bmp = bytearray(_encoded(".bmp"))
    struct.pack_into("<i", bmp, 22, -7)
    assert image_header(bytes(bmp)) == ImageHeader("BMP", 13, 7)


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00",                      # truncated IHDR
    b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sII", 13, b"IHDR", 0, 5),  # zero width
    b"\xff\xd8\xff\xe0\x00\x10JFIF",                   # no SOF before the end
    b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x10",    # height deferred to DNL
    b"\xff\xd8\x00\x00",                               # not a marker
    b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x00\x00",  # no start code
    b"RIFF\x00\x00\x00\x00WEBPABCD",                   # unknown chunk
    b"II*\x00\x08\x00\x00\x00\x00\x00",                # TIFF without a size
])
def test_broken_headers_are_media_errors(data):
    """A recognised but broken header is a MediaError, never struct.error or IndexError."""
    with pytest.raises(MediaError):
        image_header(data)


def test_unknown_bytes_have_no_header():
    assert image_header(b"") is None and image_header(b"\x00" * 64) is None
    with pytest.raises(MediaError, match="not an image format"):
        check_image_bytes(b"P6\n1 1\n255\n\x00\x00\x00", max_pixels=100, what="x.ppm")


def test_limits_name_the_declared_size():
    """Over the limit: MediaTooLargeError (a MediaError) naming the size and the limit."""
    with pytest.raises(MediaTooLargeError, match=r"30000x30000 exceeds the limit of 100 pixels"):
        check_pixels(30000, 30000, max_pixels=100, what="bomb.jpg")
    check_pixels(10, 10, max_pixels=100, what="ok")
    with pytest.raises(MediaError, match="empty"):
        check_pixels(0, 10, max_pixels=100, what="zero")
    with pytest.raises(MediaTooLargeError, match="declares 11 frames, over the limit of 10"):
        check_frames(11, frame_limit=10, what="long.mp4")
    check_frames(10**9, frame_limit=None, what="unlimited")
    check_frames(None, frame_limit=10, what="unknown count")


def test_decode_guard_converts_decoder_errors_and_passes_media_errors():
    """cv2.error, PyAV's FFmpegError, MemoryError, struct.error, OverflowError become MediaError;
    a MediaError raised inside keeps its type and message."""
    import av

    for exc in (cv2.error("boom"), av.error.InvalidDataError(1094995529, "bad"), MemoryError(),
                struct.error("short"), OverflowError("big"), ValueError("v")):
        with pytest.raises(MediaError, match=f"clip.mp4: cannot decode \\({type(exc).__name__}") as caught:
            with decode_guard("clip.mp4"):
                raise exc
        assert caught.value.__cause__ is exc
    with pytest.raises(MediaTooLargeError, match="^limit$"):
        with decode_guard("clip.mp4"):
            raise MediaTooLargeError("limit")
    with pytest.raises(KeyError):  # programming errors are not hidden
        with decode_guard("clip.mp4"):
            raise KeyError("bug")


def test_read_image_refuses_before_decoding(tmp_path, monkeypatch):
    """``read_image`` never calls the decoder for a file whose header is over the limit."""
    import detectors.video_io as video_io

    path = tmp_path / "big.png"
    path.write_bytes(_encoded(".png", 200, 100))
    calls = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a: calls.append(a))
    with pytest.raises(MediaTooLargeError, match="200x100"):
        video_io.read_image(path, max_pixels=200 * 99)
    assert calls == []


def test_decode_image_round_trip_and_opencv_errors(monkeypatch):
    """``decode_image`` returns RGB; an OpenCV failure inside is a MediaError."""
    from detectors.video_io import decode_image

    data = _encoded(".png", 4, 3)
    frame = decode_image(data)
    assert frame.shape == (3, 4, 3) and frame.dtype == np.uint8

    def broken(*_args):
        raise cv2.error("OpenCV(5) error: (-215:Assertion failed) pixels <= CV_IO_MAX_IMAGE_PIXELS")

    monkeypatch.setattr(cv2, "imdecode", broken)
    with pytest.raises(MediaError, match="CV_IO_MAX_IMAGE_PIXELS"):
        decode_image(data, what="x.png")
