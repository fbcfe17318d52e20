"""Which kind of media a file is, from its first bytes (names lie: uploads arrive as ``blob``).

c2pa-rs needs a MIME type to pick its parser; the verifier needs the kind to decide what else
can run (the watermark and the registry need video frames; audio has none).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["MediaFormat", "sniff_format", "format_from_bytes", "MediaKind", "SUFFIX_FOR", "KNOWN_SUFFIXES"]

MediaKind = Literal["video", "image", "audio", "manifest", "other"]

_BY_SUFFIX: dict[str, tuple[str, MediaKind]] = {
    ".mp4": ("video/mp4", "video"),
    ".m4v": ("video/x-m4v", "video"),
    ".mov": ("video/quicktime", "video"),
    ".avi": ("video/avi", "video"),
    ".m4a": ("audio/mp4", "audio"),
    ".wav": ("audio/wav", "audio"),
    ".mp3": ("audio/mpeg", "audio"),
    ".flac": ("audio/flac", "audio"),
    ".jpg": ("image/jpeg", "image"),
    ".jpeg": ("image/jpeg", "image"),
    ".png": ("image/png", "image"),
    ".webp": ("image/webp", "image"),
    ".heic": ("image/heic", "image"),
    ".heif": ("image/heif", "image"),
    ".avif": ("image/avif", "image"),
    ".tif": ("image/tiff", "image"),
    ".tiff": ("image/tiff", "image"),
    ".gif": ("image/gif", "image"),
    ".dng": ("image/dng", "image"),
    ".jxl": ("image/jxl", "image"),
    ".c2pa": ("application/c2pa", "manifest"),
    ".webm": ("video/webm", "video"),
    ".mkv": ("video/x-matroska", "video"),
}
_BMFF_BRANDS: dict[bytes, tuple[str, MediaKind]] = {
    b"qt  ": ("video/quicktime", "video"),
    b"M4A ": ("audio/mp4", "audio"),
    b"M4B ": ("audio/mp4", "audio"),
    b"M4V ": ("video/x-m4v", "video"),
    b"heic": ("image/heic", "image"),
    b"heix": ("image/heic", "image"),
    b"mif1": ("image/heif", "image"),
    b"msf1": ("image/heif", "image"),
    b"avif": ("image/avif", "image"),
    b"avis": ("image/avif", "image"),
}
KNOWN_SUFFIXES = frozenset(_BY_SUFFIX)  # what a folder of media is expected to hold
# One canonical suffix per MIME type (uploads are stored under it, so c2pa-rs and PyAV agree).
SUFFIX_FOR: dict[str, str] = {}
for _suffix, (_mime, _kind) in _BY_SUFFIX.items():
    SUFFIX_FOR.setdefault(_mime, _suffix)
_JUMBF_STORE = bytes.fromhex("6332706100110010800000aa00389b71")  # the c2pa store superbox type


@dataclass(frozen=True)
class MediaFormat:
    mime: str
    kind: MediaKind
    sniffed: bool = True  # False: only the file name said so (the bytes matched no signature)

    @property
    def carries_c2pa(self) -> bool:
        """Whether c2pa-rs can read a manifest embedded in this format (WebM / MKV: no)."""
        return self.mime not in ("video/webm", "video/x-matroska")


def sniff_format(path: str | os.PathLike[str]) -> MediaFormat | None:
    """The format from the file's signature, falling back to its suffix; None when neither is
    known. Reads at most 64 bytes."""
    p = Path(path)
    with open(p, "rb") as handle:
        head = handle.read(64)
    found = format_from_bytes(head)
    if found is not None:
        return found
    by_suffix = _BY_SUFFIX.get(p.suffix.lower())
    return MediaFormat(*by_suffix, sniffed=False) if by_suffix else None


def format_from_bytes(head: bytes) -> MediaFormat | None:
    """The format from a file's first (up to 64) bytes alone; None when they say nothing."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaFormat("image/jpeg", "image")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaFormat("image/png", "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaFormat("image/webp", "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MediaFormat("audio/wav", "audio")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaFormat("video/avi", "video")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return MediaFormat("audio/mpeg", "audio")
    if head.startswith(b"fLaC"):
        return MediaFormat("audio/flac", "audio")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaFormat("image/tiff", "image")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaFormat("image/gif", "image")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaFormat("video/webm", "video")
    if head[4:8] == b"jumb" and _JUMBF_STORE in head:
        return MediaFormat("application/c2pa", "manifest")
    if head[4:8] in (b"ftyp", b"styp"):
        brand = head[8:12]
        return MediaFormat(*_BMFF_BRANDS.get(brand, ("video/mp4", "video")))
    if head[4:8] in (b"moov", b"mdat", b"free", b"wide", b"skip"):
        return MediaFormat("video/quicktime", "video")  # old QuickTime files start without ftyp
    return None
