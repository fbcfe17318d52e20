"""ISO BMFF box headers and the absolute file offsets inside boxes (stco, co64, tfhd, tfra),
patched in memory when the C2PA box moves every later box (used by ``_embeddable``)."""

from __future__ import annotations

import struct

from governance.core.errors import SigningError

__all__ = ["Unsupported", "box_header", "patch_offsets", "CONTAINERS"]

CONTAINERS = frozenset(
    {
        b"moov",
        b"trak",
        b"mdia",
        b"minf",
        b"stbl",
        b"edts",
        b"dinf",
        b"mvex",
        b"moof",
        b"traf",
        b"mfra",
        b"udta",
        b"meta",
    }
)
# Boxes holding absolute file offsets we do not rewrite (c2pa-rs's own writer would).
_UNPATCHED = frozenset({b"iloc", b"saio"})
_MAX_DEPTH = 32


class Unsupported(SigningError):
    """The fast path does not handle this file or this c2pa library; sign the general way."""


def box_header(data: bytes | bytearray, pos: int, end: int, origin: int = 0) -> tuple[int, bytes, int]:
    """(size, kind, header length) of the box at ``pos`` in a region ending at ``end``;
    Unsupported for a truncated, oversized or size-0 box (``origin``: for the message)."""
    have = min(end, len(data))
    where = origin + pos
    if pos + 8 > have:
        raise Unsupported(f"truncated box header at {where}")
    size, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if size == 1:
        if pos + 16 > have:
            raise Unsupported(f"truncated box header at {where}")
        size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
    if size == 0:  # "to the end of the file": legal only last, and never worth the special case
        raise Unsupported(f"box {kind!r} at {where} has size 0")
    if size < header or pos + size > end:
        raise Unsupported(f"malformed box {kind!r} at {where}")
    return size, kind, header


def patch_offsets(box: bytearray, shift: int) -> None:
    """Add ``shift`` to every absolute file offset in one top-level box (stco, co64, tfhd
    base-data-offset, tfra), in place. Unsupported if a 32-bit field would overflow, or for
    iloc / saio boxes and malformed boxes (``shift=0`` checks just that)."""
    try:
        _walk(box, 0, len(box), shift)
    except struct.error:  # a table shorter than its own header says
        raise Unsupported("malformed offset table") from None


def _walk(buf: bytearray, start: int, end: int, shift: int, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:  # real files nest about 8 deep; a hostile one must not exhaust the stack
        raise Unsupported(f"boxes nested more than {_MAX_DEPTH} deep")
    pos = start
    while pos + 8 <= end:
        size, kind, header = box_header(buf, pos, end)
        body, box_end = pos + header, pos + size
        if kind in _UNPATCHED:
            raise Unsupported(f"{kind.decode('latin-1')} boxes hold offsets this signer does not patch")
        if kind == b"meta":  # ISO meta is a FullBox; QuickTime meta is a plain container
            _walk(buf, body if buf[body + 4 : body + 8] == b"hdlr" else body + 4, box_end, shift, depth + 1)
        elif kind in CONTAINERS:
            _walk(buf, body, box_end, shift, depth + 1)
        elif kind in (b"stco", b"co64"):
            width, limit = (4, 0xFFFFFFFF) if kind == b"stco" else (8, 2**64 - 1)
            count = struct.unpack_from(">I", buf, body + 4)[0] if body + 8 <= box_end else -1
            if count < 0 or body + 8 + count * width > box_end:
                raise Unsupported(f"malformed {kind!r} at {pos}")
            fmt = f">{count}{'I' if width == 4 else 'Q'}"
            offsets = struct.unpack_from(fmt, buf, body + 8)
            if offsets and max(offsets) + shift > limit:
                raise Unsupported(f"{kind.decode()} offsets would overflow after the {shift}-byte manifest")
            if shift:
                struct.pack_into(fmt, buf, body + 8, *(o + shift for o in offsets))
        elif kind == b"tfhd" and body + 4 <= box_end and buf[body + 3] & 0x01:  # base-data-offset-present
            if body + 16 > box_end:
                raise Unsupported(f"malformed tfhd at {pos}")
            _add(buf, body + 8, 8, shift)
        elif kind == b"tfra":
            _patch_tfra(buf, body, box_end, shift)
        pos = box_end


def _add(buf: bytearray, at: int, width: int, shift: int) -> None:
    fmt = ">I" if width == 4 else ">Q"
    value = struct.unpack_from(fmt, buf, at)[0] + shift
    if value >= 1 << (8 * width):
        raise Unsupported("a 32-bit offset would overflow after the manifest")
    struct.pack_into(fmt, buf, at, value)


def _patch_tfra(buf: bytearray, body: int, end: int, shift: int) -> None:
    if body + 16 > end:
        raise Unsupported("malformed tfra")
    version = buf[body]
    lengths, count = struct.unpack_from(">II", buf, body + 8)
    width = 8 if version == 1 else 4
    extra = ((lengths >> 4) & 3) + ((lengths >> 2) & 3) + (lengths & 3) + 3  # traf, trun, sample numbers
    pos = body + 16
    if pos + count * (2 * width + extra) > end:
        raise Unsupported("malformed tfra")
    for _ in range(count):
        _add(buf, pos + width, width, shift)  # entry: time, moof_offset, numbers
        pos += 2 * width + extra
