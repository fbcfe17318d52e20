"""Huge-page advice on large read buffers changes nothing but speed."""

from __future__ import annotations

import ctypes
import io
import os

import numpy as np

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
    assert os.name != "posix" or callable(getattr(ctypes.CDLL(None), "madvise", None))
