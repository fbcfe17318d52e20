"""Secret material that is not a certificate key: the watermark key.

The watermark key is 32 random bytes in ``$REELGUARD_HOME/keys/watermark.key`` (0600), created
on first use with ``O_EXCL`` semantics: the new key is written and fsynced under a temp name and
then *linked* (never renamed) to its final name, so of any number of processes starting at once
on a fresh home exactly one key wins and every process re-reads that one. Whoever holds it can
read and forge ReelGuard marks, so it is never logged and never leaves the key folder.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path

from governance.core.errors import KeyMaterialError
from governance.core.settings import Settings

__all__ = ["watermark_key", "write_secret_file", "create_secret_file"]

WATERMARK_KEY_BYTES = 32


def _write_temp(path: Path, data: bytes) -> Path:
    """``data`` in a fresh 0600 temp file beside ``path``, fsynced."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_secret_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with 0600 permissions, atomically (temp file, fsync, rename).

    Replaces whatever is at ``path``; use ``create_secret_file`` for create-on-first-use secrets."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_secret_file(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) holding ``data`` only if it does not exist yet; atomic and exclusive.

    Returns True when this call created it, False when another writer got there first (the
    caller must then re-read the file). Readers never see a partial file: the content is
    complete and fsynced before ``os.link`` publishes it, and ``link`` fails if the name exists.
    """
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: the same exclusion under an flock
        with open(path.with_name(f".{path.name}.lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.exists():
                return False
            os.replace(tmp, path)
            return True
    finally:
        tmp.unlink(missing_ok=True)


def watermark_key(settings: Settings, *, create: bool = True) -> bytes:
    """The home's watermark key; created on first use when ``create`` is true.

    Concurrent first uses all return the same key (one creator wins, the rest re-read it)."""
    path = settings.keys_path / "watermark.key"
    if not path.exists():
        if not create:
            raise KeyMaterialError(f"no watermark key at {path}")
        settings.ensure_dirs()
        create_secret_file(path, secrets.token_bytes(WATERMARK_KEY_BYTES))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyMaterialError(f"cannot read watermark key {path}: {exc.strerror}") from exc
    if len(data) != WATERMARK_KEY_BYTES:
        raise KeyMaterialError(
            f"watermark key {path} is malformed: expected {WATERMARK_KEY_BYTES} bytes, found {len(data)}"
        )
    return data
