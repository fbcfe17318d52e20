"""Manifest labels read straight from a JUMBF manifest store's box headers (no C2PA parse)."""

from __future__ import annotations

import struct

from governance.core.errors import SigningError

__all__ = ["active_label"]


def active_label(store: bytes) -> str:
    """Label of the active (last) manifest in a JUMBF manifest store, without a C2PA parse."""
    labels = [label for label in _superbox_labels(store, 0, len(store), depth=0) if label.startswith("urn:")]
    if not labels:
        raise SigningError("c2pa returned a manifest store without a manifest")
    return labels[-1]


def _superbox_labels(data: bytes, start: int, end: int, *, depth: int) -> list[str]:
    """Labels of the ``jumb`` boxes one level below the top-level store box."""
    out: list[str] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:  # 64-bit size
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        if size < header or pos + size > end:
            break
        if kind == b"jumb":
            body = pos + header
            if depth == 0:
                out.extend(_superbox_labels(data, body, pos + size, depth=1))
            else:
                dsize = struct.unpack(">I", data[body : body + 4])[0]
                desc = data[body + 8 : body + dsize]  # 16-byte type, 1 toggle byte, label\0
                if len(desc) > 17 and desc[16] & 0x02:
                    out.append(desc[17:].split(b"\0", 1)[0].decode("utf-8", "replace"))
        pos += size
    return out
