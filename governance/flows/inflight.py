"""The in-flight journal of generations: what a crash leaves is found and recovered.

The journal
-----------
``$REELGUARD_HOME/inflight/<content_id>.json`` (folder 0700, files 0600), one small file per
generation in progress, written atomically (temp, fsync, rename) *before* its hidden temp files
are created and removed after the signed file took the output's name::

    {"version": 1, "content_id": "…", "pid": 123, "proc_start": "…", "host": "…",
     "started_at": "…", "output": "/abs/clip.mp4", "force": false,
     "temps": ["/abs/.clip.<cid>.unsigned.mp4", "/abs/.clip.<cid>.signed.mp4"]}

An entry whose process is gone (pid not running, or running with another start time: the pid
was reused) is recovered by the next ``FlowContext`` on this host and by ``doctor --fix``:

- no generation record for the content id: the attempt never committed; its temps and any
  manifest it saved in the manifest store are removed (its audit events rolled back with it);
- a record exists: the attempt committed but died before the rename; the signed temp (when its
  SHA-256 matches the record) is renamed to the output, or, when that name is taken, to a
  visible ``<stem>.<content_id><suffix>`` beside it, so every record keeps its file.

One file per entry means concurrent generations never contend on the journal; recovery takes
an flock on ``inflight/.lock`` so two recoverers never race one entry.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.core.secrets import write_secret_file
from governance.core.settings import Settings

__all__ = ["InflightJournal", "JournalEntry", "temp_paths", "fsync_dir", "TEMP_NAME", "SECRET_TMP", "STALE_TMP_S"]

JOURNAL_VERSION = 1
# A generation's hidden temps, and the writers' own temps derived from them
# (``..clip.<cid>.unsigned.<rand>.mp4`` from the encoder, ``..clip.<cid>.signed.mp4.<rand>.tmp``
# from signing).
TEMP_NAME = re.compile(r"^\..+\.(?P<cid>[0-9a-f]{16})\.(?:unsigned|signed)(?:\.[^/]*)?$")
SECRET_TMP = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # write_secret_file's temp names
STALE_TMP_S = 60.0  # a secret-file temp older than this belongs to no live writer


def temp_paths(output: Path, content_id: str) -> tuple[Path, Path]:
    """The hidden (unsigned, signed) temp files of one generation, beside its output."""
    return (
        output.with_name(f".{output.stem}.{content_id}.unsigned.mp4"),
        output.with_name(f".{output.stem}.{content_id}.signed{output.suffix}"),
    )


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _proc_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, proc_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    if proc_start is not None:
        now = _proc_start(pid)
        if now is not None and now != proc_start:
            return False  # the pid was reused by another process
    try:  # a zombie (killed, not yet reaped) is dead for our purposes
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


@dataclass(frozen=True)
class JournalEntry:
    content_id: str
    pid: int
    host: str
    output: Path
    temps: tuple[Path, ...]
    force: bool = False
    proc_start: str | None = None
    started_at: str | None = None
    path: Path | None = None

    @property
    def alive(self) -> bool:
        return self.host == socket.gethostname() and _alive(self.pid, self.proc_start)

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": JOURNAL_VERSION,
            "content_id": self.content_id,
            "pid": self.pid,
            "proc_start": self.proc_start,
            "host": self.host,
            "started_at": self.started_at,
            "output": str(self.output),
            "force": self.force,
            "temps": [str(p) for p in self.temps],
        }


class InflightJournal:
    """``$REELGUARD_HOME/inflight/``: one JSON file per generation in progress."""

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.home / "inflight"

    def _path(self, content_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{16}", content_id):
            raise ValueError(f"content_id must be 16 lowercase hex characters, got {content_id!r}")
        return self.folder / f"{content_id}.json"

    def begin(self, *, content_id: str, output: Path, temps: Iterable[Path], force: bool = False) -> JournalEntry:
        """Record a generation's temps (durably) before any of them is created."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        entry = JournalEntry(
            content_id=content_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            output=Path(output),
            temps=tuple(Path(p) for p in temps),
            force=force,
            proc_start=_proc_start(os.getpid()),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        path = self._path(content_id)
        write_secret_file(path, json.dumps(entry.to_dict(), sort_keys=True).encode())
        fsync_dir(self.folder)
        return entry

    def end(self, content_id: str) -> None:
        self._path(content_id).unlink(missing_ok=True)

    def entries(self) -> list[JournalEntry]:
        """Every readable entry; unreadable ones (cut short by a crash) are skipped by
        ``entries`` and reported by ``doctor`` through ``broken``."""
        return [e for e in (self._read(p) for p in self._files()) if e is not None]

    def broken(self) -> list[Path]:
        return [p for p in self._files() if self._read(p) is None]

    def _files(self) -> list[Path]:
        try:
            return sorted(p for p in self.folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except FileNotFoundError:
            return []

    @staticmethod
    def _read(path: Path) -> JournalEntry | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return JournalEntry(
                content_id=str(data["content_id"]),
                pid=int(data["pid"]),
                host=str(data["host"]),
                output=Path(data["output"]),
                temps=tuple(Path(p) for p in data["temps"]),
                force=bool(data.get("force")),
                proc_start=data.get("proc_start"),
                started_at=data.get("started_at"),
                path=path,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def has_dead_entries(self) -> bool:
        """Cheap: one directory listing, and a pid check per entry (no database)."""
        return any(e.local and not e.alive for e in self.entries())
