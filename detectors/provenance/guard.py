"""A cheap structural pre-check of C2PA credentials, run before c2pa-rs parses them.

c2pa-rs is Rust behind ctypes: an allocation it cannot make aborts the whole Python process
("memory allocation of N bytes failed", SIGABRT), which no ``except`` catches. Measured with
c2pa-python 0.38.1 (tests/detectors/test_provenance_hostile.py builds every case):

* CBOR or JSON with millions of small items (an honest array of zeros in one assertion, the COSE
  protected header, a claim listing 100,000 assertions) costs c2pa-rs 30-600 bytes an item:
  15 M items in a 15 MB store take 3.3 GB and 9 s, and abort it under a 2 GiB address-space
  limit, embedded in a JPEG, MP4, PNG or WAV as in a bare store;
* JUMBF boxes and JPEG segments cost it ~100 bytes each (7 M boxes: 0.9 GB; 10 M JPEG segments
  abort it under 2 GiB);
* its BMFF box tree takes quadratic time (10 k boxes 1 s, 30 k 9 s, 100 k 105 s), PNG chunks
  35 us each (1 M chunks: 36 s), RIFF chunks 11 us each (1 M chunks: 12 s).

Those are bounded here. What c2pa-rs handles cleanly is left to it: JUMBF nesting (it stops
below 32 levels), BMFF nesting, CBOR nesting (128 levels), CBOR lengths and counts larger than
the bytes present (it errors; its allocations are capped at 100 MB), malformed CBOR. Box sizes
that lie are rejected here as malformed, since the walk cannot follow them: c2pa-rs refuses most
of them itself (same ``invalid`` state, its message replaced by this one), but it reads a store,
or the last box in it, that overstates its size as a valid manifest (2^40, or 1,000 bytes more)
or as no manifest at all (2^32-1).

The check reads only the manifest bytes and the container's structure (box, segment and chunk
headers): never the media payload (an MP4's ``mdat``, a JPEG's scan data). Its own work is bounded
too: at most MAX_SCAN_STEPS CBOR headers a store (~0.5 s), whatever the bytes. Containers it does
not know (TIFF, GIF, MP3, JPEG XL, SVG, PDF) go to c2pa-rs unchecked.
"""

from __future__ import annotations

import os
from typing import Any

from detectors.provenance.guard_store import (
    MAX_DATA_ITEMS,
    MAX_JUMBF_BOXES,
    MAX_SCAN_STEPS,
    Exhausted,
    cbor_items,
    store_problem,
)

__all__ = [
    "precheck",
    "store_problem",
    "MAX_JUMBF_BOXES",
    "MAX_DATA_ITEMS",
    "MAX_SCAN_STEPS",
    "MAX_BMFF_BOXES",
    "MAX_JPEG_SEGMENTS",
    "MAX_PNG_CHUNKS",
    "MAX_RIFF_CHUNKS",
]

# Limits, each far above the 45 real samples (at most 131 JUMBF boxes, 1,448 items, 100 segments,
# chunks or BMFF boxes) and costing c2pa-rs at most ~3 s and ~130 MB more when just under them.
MAX_BMFF_BOXES = 20_000  # c2pa-rs's box tree is quadratic: 3.3 s at this count
MAX_JPEG_SEGMENTS = 100_000  # before the first scan; a 64 MiB manifest needs ~1,000 APP11 segments
MAX_PNG_CHUNKS = 100_000  # 2.1 s of c2pa-rs; a 400 MB PNG in 8 kB IDAT chunks has 50,000
MAX_RIFF_CHUNKS = 100_000  # top-level chunks of a WAV, WebP or AVI: 1 s of c2pa-rs

_C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_C2PA_PURPOSES = (b"manifest", b"original", b"update")  # these carry a JUMBF manifest store
_BMFF_MIMES = ("video/mp4", "video/quicktime", "video/x-m4v", "audio/mp4", "image/hei", "image/avif")
# The container boxes c2pa-rs descends into when it builds its BMFF tree.
_BMFF_CONTAINERS = frozenset(
    (
        b"moov",
        b"trak",
        b"mdia",
        b"minf",
        b"stbl",
        b"moof",
        b"traf",
        b"edts",
        b"udta",
        b"dinf",
        b"tref",
        b"treg",
        b"mvex",
        b"mfra",
        b"meta",
        b"schi",
    )
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_RIFF_MIMES = ("audio/wav", "image/webp", "video/avi")


def precheck(mime: str, stream: Any, manifest_data: bytes | None, *, max_manifest_bytes: int) -> str | None:
    """Why c2pa-rs should not be given this input, or None when it may.

    ``stream`` is the asset (or, for ``application/c2pa``, the store itself); its position is
    restored. ``manifest_data`` is a store given beside the asset (sidecar, remote): checked
    instead of anything embedded, while the asset's structure is still checked, because
    c2pa-rs walks it to hash it either way."""
    if manifest_data is not None:
        problem = store_problem(manifest_data, max_bytes=max_manifest_bytes)
        if problem is not None:
            return problem
    start = stream.tell()
    try:
        stream.seek(0, os.SEEK_END)
        end = stream.tell()
        stream.seek(0)
        if mime == "application/c2pa":
            if manifest_data is not None:
                return None
            return store_problem(_read(stream, min(end, max_manifest_bytes + 1)), max_bytes=max_manifest_bytes)
        gather = manifest_data is None  # the embedded store matters only when it is the one read
        if mime == "image/jpeg":
            problem, stores = _jpeg(stream, end, max_manifest_bytes, gather)
        elif mime.startswith(_BMFF_MIMES):
            problem, stores = _bmff(stream, end, max_manifest_bytes, gather)
        elif mime == "image/png":
            problem, stores = _png(stream, end, max_manifest_bytes, gather)
        elif mime in _RIFF_MIMES:
            problem, stores = _riff(stream, end, max_manifest_bytes, gather)
        else:
            return None  # other containers: c2pa-rs alone (not pre-checked)
    finally:
        stream.seek(start)
    if problem is not None or manifest_data is not None:
        return problem
    for kind, data in stores:
        if kind == "merkle":
            try:
                items = cbor_items(data, 0, len(data), MAX_DATA_ITEMS, 0, [MAX_SCAN_STEPS])[0]
            except Exhausted:
                items = MAX_DATA_ITEMS + 1
            if items > MAX_DATA_ITEMS:
                return f"a C2PA merkle box holds more than {MAX_DATA_ITEMS} CBOR data items; not parsed"
            continue
        problem = store_problem(data, max_bytes=max_manifest_bytes)
        if problem is not None:
            return problem
    return None


def _read(stream: Any, n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _at(stream: Any, pos: int, n: int) -> bytes:
    stream.seek(pos)
    return _read(stream, n)


_Stores = list[tuple[str, bytes]]


def _jpeg(stream: Any, end: int, max_bytes: int, gather: bool) -> tuple[str | None, _Stores]:
    """The JUMBF store gathered from APP11 segments as c2pa-rs gathers it (segments before the
    first scan; a store starts at a segment whose JUMBF type is ``c2pa``, continues with the same
    box instance number, each continuation's repeated LBox/TBox dropped)."""
    pos, segments = 2, 0
    store: list[bytes] = []
    instance: bytes | None = None
    stored, parts = 0, 0
    while pos + 4 <= end:
        head = _at(stream, pos, 4)
        if len(head) < 4 or head[0] != 0xFF:
            break  # not a marker: c2pa-rs reports the corrupt JPEG
        marker = head[1]
        if marker == 0xFF:
            pos += 1  # fill byte
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            break  # end of image, start of scan: c2pa-rs reads no segments beyond
        length = int.from_bytes(head[2:4], "big")
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            return f"JPEG of more than {MAX_JPEG_SEGMENTS} marker segments; not parsed", []
        if gather and marker == 0xEB and length - 2 > 16:
            content = _at(stream, pos + 4, length - 2)
            if instance is not None and parts and content[2:4] == instance:
                if int.from_bytes(content[4:8], "big") <= parts:
                    instance = None  # out of sequence: c2pa-rs stops following this box
                else:
                    store.append(content[16:])
                    stored += len(content) - 16
                    parts += 1
            elif len(content) > 28 and content[24:28] == b"c2pa":
                if store:  # a second store: c2pa-rs refuses the file (after reading every segment)
                    instance, gather = None, False
                    pos += 2 + length
                    continue
                store.append(content[8:])
                stored += len(content) - 8
                instance, parts = content[2:4], 1
            if stored > max_bytes:
                return f"C2PA manifest store of more than {max_bytes} bytes in JPEG APP11 segments; not parsed", []
        pos += 2 + length
    return None, [("manifest", b"".join(store))] if store else []


def _bmff(stream: Any, end: int, max_bytes: int, gather: bool) -> tuple[str | None, _Stores]:
    """Counts the boxes c2pa-rs puts in its tree (top level and inside its container boxes)
    and gathers the top-level C2PA ``uuid`` boxes' contents."""
    stores: _Stores = []
    frames = [end]
    pos, boxes = 0, 0
    while frames:
        stop = frames[-1]
        if pos + 8 > stop:
            frames.pop()
            pos = stop
            continue
        head = _at(stream, pos, 32)
        size, kind, header = int.from_bytes(head[:4], "big"), head[4:8], 8
        if size == 1:
            size, header = int.from_bytes(head[8:16], "big"), 16
        if size == 0 or size < header or pos + size > stop:
            frames.pop()  # c2pa-rs stops (size 0) or refuses the file (sizes that do not fit)
            if not frames:
                break
            pos = stop
            continue
        boxes += 1
        if boxes > MAX_BMFF_BOXES:
            return (
                f"BMFF file of more than {MAX_BMFF_BOXES} boxes (c2pa-rs's box tree is quadratic in them); not parsed"
            ), []
        if kind in _BMFF_CONTAINERS:
            skip = header
            if kind == b"meta" and head[header + 4 : header + 8] != b"hdlr":
                skip += 4  # an ISO FullBox (version, flags); QuickTime's meta has none
            frames.append(pos + size)
            pos += skip
            continue
        if gather and kind == b"uuid" and len(frames) == 1 and head[header : header + 16] == _C2PA_UUID:
            problem = _c2pa_uuid_box(stream, pos, size, header, max_bytes, stores)
            if problem is not None:
                return problem, []
        pos += size
    return None, stores


def _c2pa_uuid_box(stream: Any, pos: int, size: int, header: int, max_bytes: int, stores: _Stores) -> str | None:
    if size > max_bytes:
        return f"C2PA box of {size} bytes exceeds {max_bytes}; not parsed"
    body = _at(stream, pos + header + 16 + 4, size - header - 16 - 4)  # after UUID, version and flags
    purpose, nul, rest = body.partition(b"\0")
    if not nul:
        return None  # c2pa-rs reports the box
    if purpose in _C2PA_PURPOSES:
        stores.append(("manifest", rest[8:]))  # after the offset of the first auxiliary box
    elif purpose == b"merkle":
        stores.append(("merkle", rest))
    return None


def _png(stream: Any, end: int, max_bytes: int, gather: bool) -> tuple[str | None, _Stores]:
    """Counts the chunks and gathers the ``caBX`` chunks (the C2PA store)."""
    if _at(stream, 0, 8) != _PNG_SIGNATURE:
        return None, []
    stores: _Stores = []
    pos, chunks = 8, 0
    while pos + 12 <= end:
        head = _at(stream, pos, 8)
        length, kind = int.from_bytes(head[:4], "big"), head[4:8]
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            return f"PNG of more than {MAX_PNG_CHUNKS} chunks; not parsed", []
        if gather and kind == b"caBX":
            if length > max_bytes:
                return f"C2PA chunk of {length} bytes exceeds {max_bytes}; not parsed", []
            stores.append(("manifest", _at(stream, pos + 8, length)))
        if kind == b"IEND":
            break
        pos += 12 + length
    return None, stores


def _riff(stream: Any, end: int, max_bytes: int, gather: bool) -> tuple[str | None, _Stores]:
    """Counts the top-level chunks of a RIFF file (WAV, WebP, AVI: c2pa-rs walks no deeper) and
    gathers its ``C2PA`` chunks."""
    if _at(stream, 0, 4) != b"RIFF":
        return None, []
    stores: _Stores = []
    pos, chunks = 12, 0
    while pos + 8 <= end:
        head = _at(stream, pos, 8)
        kind, length = head[:4], int.from_bytes(head[4:8], "little")
        chunks += 1
        if chunks > MAX_RIFF_CHUNKS:
            return f"RIFF file of more than {MAX_RIFF_CHUNKS} chunks; not parsed", []
        if gather and kind == b"C2PA":
            if length > max_bytes:
                return f"C2PA chunk of {length} bytes exceeds {max_bytes}; not parsed", []
            stores.append(("manifest", _at(stream, pos + 8, length)))
        pos += 8 + length + (length & 1)
    return None, stores
