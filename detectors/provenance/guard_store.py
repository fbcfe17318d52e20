"""The manifest store part of the pre-check (``detectors.provenance.guard``): a bounded walk of
one store's JUMBF boxes and of the CBOR and JSON inside them, counting what c2pa-rs would
allocate for, so a hostile store is refused before c2pa-rs parses it."""

from __future__ import annotations

__all__ = ["store_problem", "cbor_items", "Exhausted", "MAX_JUMBF_BOXES", "MAX_DATA_ITEMS", "MAX_SCAN_STEPS"]

MAX_JUMBF_BOXES = 100_000  # a ReelGuard manifest has ~30
MAX_DATA_ITEMS = 250_000  # CBOR data items + JSON values in one store: <= 0.5 s, +130 MB
MAX_SCAN_STEPS = 1_000_000  # CBOR headers read by this check in one store: ~0.5 s of Python
_EMBEDDED_CBOR_DEPTH = 4  # byte strings holding CBOR c2pa-rs decodes: COSE headers, cawg.identity


def store_problem(data: bytes, *, max_bytes: int) -> str | None:
    """Why this JUMBF manifest store should not reach c2pa-rs, or None. Walks the box tree
    iteratively (sizes within their parent, box count), counting the data items of its CBOR and
    JSON content boxes; a store that is not JUMBF at all is left to c2pa-rs to report."""
    if len(data) > max_bytes:
        return f"C2PA manifest store of {len(data)} bytes exceeds {max_bytes}; not parsed"
    if len(data) < 8 or data[4:8] != b"jumb":
        return None  # not a superbox: c2pa-rs says what it is
    # Every box must fit in its parent and the store in the bytes present (trailing bytes after
    # it are allowed, as c2pa-rs allows them).
    size, header = _box_size(data, 0, len(data))
    if size is None or size < header or size > len(data):
        declared = "unreadable" if size is None else str(size)
        return f"malformed JUMBF: the manifest store box declares {declared} bytes where {len(data)} are present"
    try:
        return _walk(data, size, header)
    except Exhausted:
        return (
            f"the C2PA manifest store's CBOR takes more than {MAX_SCAN_STEPS} steps to scan "
            "(byte strings that almost parse as CBOR); not parsed"
        )


def _walk(data: bytes, size: int, header: int) -> str | None:
    """The walk below the store box (``size`` bytes, ``header`` of them its header): an explicit
    stack of the open superboxes' ends, never recursion."""
    stack, pos, boxes, items, work = [size], header, 1, 0, [MAX_SCAN_STEPS]
    while stack:
        end = stack[-1]
        if pos == end:
            stack.pop()
            continue
        if end - pos < 8:
            return f"malformed JUMBF: {end - pos} stray bytes at offset {pos}"
        box_size, box_header = _box_size(data, pos, end)
        if box_size is None or box_size < box_header or box_size > end - pos:
            declared = "unreadable" if box_size is None else str(box_size)
            return (
                f"malformed JUMBF: the box at offset {pos} declares {declared} bytes where "
                f"{end - pos} remain in its parent"
            )
        boxes += 1
        if boxes > MAX_JUMBF_BOXES:
            return f"the C2PA manifest store holds more than {MAX_JUMBF_BOXES} JUMBF boxes; not parsed"
        kind = data[pos + 4 : pos + 8]
        if kind == b"jumb":
            stack.append(pos + box_size)
            pos += box_header
            continue
        body, stop = pos + box_header, pos + box_size
        if kind == b"cbor":
            items += cbor_items(data, body, stop, MAX_DATA_ITEMS - items, 0, work)[0]
        elif kind == b"json":
            items += _json_items(data, body, stop)
        elif kind == b"uuid" and stop - body > 16:  # a v1 signature: COSE after the type UUID
            items += _embedded_cbor(data, body + 16, stop, MAX_DATA_ITEMS - items, 0, work)
        if items > MAX_DATA_ITEMS:
            return (
                f"the C2PA manifest store holds more than {MAX_DATA_ITEMS} CBOR/JSON data items "
                "(decoding them would take gigabytes); not parsed"
            )
        pos = stop
    return None


def _box_size(data: bytes, pos: int, end: int) -> tuple[int | None, int]:
    """(declared size, header length) of the box at ``pos``; size 0 runs to ``end``."""
    size = int.from_bytes(data[pos : pos + 4], "big")
    if size == 1:
        if end - pos < 16:
            return None, 16
        return int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
    if size == 0:
        return end - pos, 8
    return size, 8


class Exhausted(Exception):
    """The scan's step budget is spent (byte strings that almost parse as CBOR, over and over)."""


def cbor_items(data: bytes, pos: int, end: int, budget: int, depth: int, work: list[int]) -> tuple[int, bool]:
    """(data items, well formed) of ``data[pos:end]`` read as a CBOR sequence, header by header,
    counting the items of byte strings that hold CBOR themselves; stops once over ``budget``.
    Every item takes at least one byte, so a declared count the bytes cannot hold counts nothing.
    ``work`` is the steps left to the whole scan: a byte string re-scanned in vain costs steps
    without adding items, so the scan is bounded by steps as well as items."""
    count = 0
    while pos < end:
        if count > budget:
            return count, True
        work[0] -= 1
        if work[0] < 0:
            raise Exhausted
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        pos += 1
        if info < 24:
            argument = info
        elif info < 28:
            width = 1 << (info - 24)
            if pos + width > end:
                return count, False
            argument = int.from_bytes(data[pos : pos + width], "big")
            pos += width
        elif info == 31 and major in (2, 3, 4, 5, 7):  # indefinite length, or a break
            count += major != 7
            continue
        else:
            return count, False  # reserved additional information
        count += 1
        if major in (2, 3):
            if argument > end - pos:
                return count, False
            if major == 2:
                count += _embedded_cbor(data, pos, pos + argument, budget - count, depth, work)
            pos += argument
    return count, True


def _embedded_cbor(data: bytes, pos: int, end: int, budget: int, depth: int, work: list[int]) -> int:
    """Items of a byte string that is itself CBOR (a map, array or tag, well formed to its last
    byte: a COSE header, a cawg.identity signature); 0 for opaque bytes (a hash, a thumbnail,
    a certificate, zero padding)."""
    if depth >= _EMBEDDED_CBOR_DEPTH or end - pos < 2 or not 0x80 <= data[pos] <= 0xDB:
        return 0
    items, well_formed = cbor_items(data, pos, end, budget, depth + 1, work)
    return items if well_formed or items > budget else 0


def _json_items(data: bytes, pos: int, end: int) -> int:
    """An upper bound on a JSON text's values: its separators and openers (C-speed counts)."""
    return sum(data.count(token, pos, end) for token in (b",", b":", b"[", b"{")) + 1
