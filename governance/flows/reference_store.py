"""Checked references kept for queued jobs: a 0600 copy named by its sha256 under
``uploads/references/``, pruned when no job can still use it."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.settings import Settings
    from governance.flows.references import Reference

__all__ = ["KEEP_STORED_S", "store_reference", "stored_reference"]

_STORED = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp|mp4|mov|m4v)$")
_SUFFIX = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/x-m4v": ".m4v",
}


def _stored_dir(settings: Settings) -> Path:
    folder = settings.uploads_path / "references"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


# Jobs expire a day after submission (service.jobs.store.JOB_TTL) and an expired job never
# runs, so a stored reference untouched for longer than this serves no job any more.
KEEP_STORED_S = 2 * 24 * 3600


def _prune_stored(folder: Path) -> None:
    cutoff = time.time() - KEEP_STORED_S
    for old in folder.iterdir():
        try:
            if old.is_file() and old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        except FileNotFoundError:  # another process pruned it first
            continue


def store_reference(settings: Settings, reference: Reference) -> str:
    """Keep a checked reference for a queued job: a 0600 copy named by its sha256 (the name the
    job records; a job never holds a path). Written atomically; an identical file is reused (and
    its clock restarted); references no job can still use are pruned here."""
    name = reference.sha256 + _SUFFIX[reference.media_type]
    folder = _stored_dir(settings)
    _prune_stored(folder)
    target = folder / name
    if target.is_file():
        os.utime(target)
        return name
    fd, tmp = tempfile.mkstemp(prefix=".ref.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(reference.path, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return name


def stored_reference(settings: Settings, name: str) -> Path:
    """The file a job's ``reference_file`` names, inside the references folder and nowhere else."""
    if not isinstance(name, str) or not _STORED.match(name):
        raise _media_error(f"{name!r} is not a stored reference name")
    path = _stored_dir(settings) / name
    if not path.is_file():
        raise _media_error(f"stored reference {name} is gone (removed after its job, or never stored)")
    return path


def _media_error(message: str) -> Exception:
    from governance.flows.references import ReferenceMediaError  # (references imports this module)

    return ReferenceMediaError(message)
