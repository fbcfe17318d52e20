"""Secret material that is not a certificate key: the watermark key.

The watermark key is 32 random bytes in ``$REELGUARD_HOME/keys/watermark.key`` (0600), created
atomically on first use. Whoever holds it can read and forge ReelGuard marks, so it is never
logged and never leaves the key folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from governance.core.errors import KeyMaterialError
from governance.core.settings import Settings

__all__ = ["watermark_key", "write_secret_file"]

WATERMARK_KEY_BYTES = 32


def write_secret_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with 0600 permissions, atomically (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def watermark_key(settings: Settings, *, create: bool = True) -> bytes:
    """The home's watermark key; created on first use when ``create`` is true."""
    path = settings.keys_path / "watermark.key"
    if not path.exists():
        if not create:
            raise KeyMaterialError(f"no watermark key at {path}")
        settings.ensure_dirs()
        try:
            write_secret_file(path, secrets.token_bytes(WATERMARK_KEY_BYTES))
        except FileExistsError:  # another process won the race: use its key
            pass
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyMaterialError(f"cannot read watermark key {path}: {exc.strerror}") from exc
    if len(data) != WATERMARK_KEY_BYTES:
        raise KeyMaterialError(
            f"watermark key {path} is malformed: expected {WATERMARK_KEY_BYTES} bytes, found {len(data)}"
        )
    return data
