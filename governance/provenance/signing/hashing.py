"""SHA-256 of files: in one read pass, or as c2pa-rs writes the signed file (no second pass)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["sha256_file", "HashingWriter"]

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashingWriter:
    """The output file, hashed as c2pa-rs writes it (saves a second read pass over the signed
    file). Only valid while writes go strictly front to back; anything else falls back to
    hashing the finished file."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._digest = hashlib.sha256()
        self._hashed = 0
        self._position = handle.tell()  # tracked here: one tell() syscall per 8 KiB write adds up
        self._sequential = True

    def write(self, data: bytes) -> int:
        written = self._handle.write(data)
        if self._sequential and self._position == self._hashed:
            self._digest.update(memoryview(data)[:written])
            self._hashed += written
        else:
            self._sequential = False
        self._position += written
        return written

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = self._handle.readinto(buffer) or 0
        self._position += count
        return count

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = self._handle.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self._handle.flush()

    def hexdigest(self, path: Path) -> str:
        if self._sequential and self._hashed == path.stat().st_size:
            return self._digest.hexdigest()
        return sha256_file(path)
