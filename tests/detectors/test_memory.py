"""Huge-page advice on large read buffers changes nothing but speed."""

from __future__ import annotations

import ctypes
import io
import mmap
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors.memory import LARGE_READ, HugePageReads, advise_huge_pages


def test_reads_through_the_wrapper_are_the_files_bytes(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, LARGE_READ * 2 + 12_345, dtype=np.uint8).tobytes()
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    with open(path, "rb") as raw:
        reader = HugePageReads(raw)
        big = bytearray(len(data) - 100)  # large: advised, then filled
        assert reader.readinto(big) == len(big)
        small = bytearray(100)
        assert reader.readinto(small) == 100
        assert reader.tell() == len(data)  # everything else is the file's own
        reader.seek(0)
        assert reader.read(4) == data[:4]
    assert bytes(big) + bytes(small) == data


def test_advice_ignores_small_unaligned_and_foreign_buffers():
    buffer = (ctypes.c_char * (LARGE_READ + 4097))()
    advise_huge_pages(ctypes.addressof(buffer) + 3, LARGE_READ + 4000)  # unaligned: interior only
    advise_huge_pages(ctypes.addressof(buffer), 10)  # too small: nothing to do
    assert bytes(buffer[:16]) == b"\0" * 16
    reader = HugePageReads(io.BytesIO(b"abc"))
    view = bytearray(3)
    assert reader.readinto(view) == 3 and bytes(view) == b"abc"
    assert advise_huge_pages(ctypes.addressof(buffer), 10) is False


def _vm_flags(address: int) -> set[str]:
    """The kernel's VmFlags of the mapping holding ``address`` (from /proc/self/smaps)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside = lo <= address < hi
        elif inside and line.startswith("VmFlags:"):
            return set(line.split()[1:])
    return set()


def test_the_kernel_takes_the_advice():
    """The advised range carries the kernel's huge-page flag (``hg``) afterwards: the call
    reaches madvise with the right range, not only that madvise exists."""
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not sys.platform.startswith("linux") or not thp.exists() or "[never]" in thp.read_text():
        pytest.skip("no transparent huge pages on this kernel")
    size = LARGE_READ + 4 * (2 << 20)
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        address = ctypes.addressof(ctypes.c_char.from_buffer(region))
        assert "hg" not in _vm_flags(address)
        assert advise_huge_pages(address, size) is True
        middle = (address + size // 2) & ~((2 << 20) - 1)
        assert "hg" in _vm_flags(middle)
    finally:
        del address
        region.close()
