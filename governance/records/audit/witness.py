"""Checkpoints published outside the database, and made automatically.

A *witness* keeps the signed checkpoints where whoever controls the database cannot quietly
rewrite them: by default a folder beside the database (``$REELGUARD_HOME/witness/``), or a folder
or an HTTP(S) URL the operator chooses (``settings.audit_witness``). ``verify`` checks the log
against the largest checkpoint the witness holds.

Folder layout (every write atomic: temp file, fsync, rename, fsync the folder)::

    witness/checkpoint            the latest signed note (C2SP tlog-checkpoint), never smaller
    witness/checkpoints/<size>    every note published, by tree size (history for localising)

HTTP: ``POST <url>`` with the note as ``text/plain; charset=utf-8`` publishes; ``GET <url>``
returns the latest note (404 when there is none yet).

``AutoCheckpointer`` signs and publishes a checkpoint after a commit that crossed a multiple of
``audit_checkpoint_every_events`` leaves, or when ``audit_checkpoint_every_minutes`` have passed
since the last one (checked on append; no background thread). It runs after the caller's commit,
so it never signs a state that is later rolled back, and its failures are logged, never raised
into a generation that has already committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from governance.core.errors import AuditError

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.settings import Settings
    from governance.records.audit.checkpoint import Checkpoint, NoteSigner
    from governance.records.audit.log import AuditLog

__all__ = [
    "Witness",
    "WitnessNote",
    "DirectoryWitness",
    "HttpWitness",
    "AutoCheckpointer",
    "witness_for",
    "default_witness_dir",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WitnessNote:
    """A note as the witness holds it, and where (file path or URL)."""

    source: str
    note: str


class Witness(Protocol):
    location: str

    def publish(self, checkpoint: Checkpoint) -> None: ...

    def notes(self) -> list[WitnessNote]:
        """Every note the witness can show (the latest first)."""
        ...


def default_witness_dir(settings: Settings) -> Path:
    return settings.home / "witness"


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # checkpoints are public by design
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class DirectoryWitness:
    """Checkpoints as files in a folder (see the module docstring for the layout)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    @property
    def latest_path(self) -> Path:
        return self.path / "checkpoint"

    def publish(self, checkpoint: Checkpoint) -> None:
        from governance.records.audit.checkpoint import Checkpoint as _Cp

        history = self.path / "checkpoints"
        try:
            history.mkdir(parents=True, exist_ok=True)
            with open(os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o600), "a+") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # writers in other processes: never go backwards
                current = None
                with contextlib.suppress(OSError, AuditError):
                    current = _Cp.parse(self.latest_path.read_bytes())
                data = checkpoint.note().encode()
                if current is None or checkpoint.size >= current.size:
                    _atomic_write(self.latest_path, data)  # latest first: a crash never leaves it behind the history
                _atomic_write(history / f"{checkpoint.size:020d}", data)
        except OSError as exc:
            raise AuditError(f"cannot publish the checkpoint to {self.path}: {exc.strerror or exc}") from exc

    def notes(self) -> list[WitnessNote]:
        out: list[WitnessNote] = []
        paths = [self.latest_path]
        history = self.path / "checkpoints"
        if history.is_dir():
            paths += sorted((p for p in history.iterdir() if p.name.isdigit()), reverse=True)
        for path in paths:
            try:
                out.append(WitnessNote(str(path), path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as exc:
                out.append(WitnessNote(str(path), f"<unreadable: {exc}>"))
        return out


class HttpWitness:
    """``POST`` publishes a note, ``GET`` returns the latest one."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise AuditError(f"witness URL {url!r} must be http:// or https://")
        self.url, self.location, self.timeout_s = url, url, timeout_s

    def publish(self, checkpoint: Checkpoint) -> None:
        request = urllib.request.Request(
            self.url,
            data=checkpoint.note().encode(),
            method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                if response.status >= 300:
                    raise AuditError(f"witness {self.url} answered HTTP {response.status}")
        except (urllib.error.URLError, OSError) as exc:
            raise AuditError(f"cannot publish the checkpoint to {self.url}: {exc}") from exc

    def notes(self) -> list[WitnessNote]:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout_s) as response:
                return [WitnessNote(self.url, response.read(1 << 20).decode("utf-8", "replace"))]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise AuditError(f"cannot read the witness {self.url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise AuditError(f"cannot read the witness {self.url}: {exc}") from exc


def witness_for(settings: Settings) -> DirectoryWitness | HttpWitness:
    """The install's witness: ``settings.audit_witness`` (folder or URL) or ``$REELGUARD_HOME/witness``."""
    target = settings.audit_witness
    if target and target.startswith(("http://", "https://")):
        return HttpWitness(target, timeout_s=settings.audit_witness_timeout_s)
    return DirectoryWitness(Path(target).expanduser() if target else default_witness_dir(settings))


class AutoCheckpointer:
    """Signs and publishes checkpoints every N events / M minutes (see the module docstring)."""

    def __init__(
        self, signer: NoteSigner, witness: Witness | None, *, every_events: int = 100, every_minutes: float = 10.0
    ) -> None:
        self.signer, self.witness = signer, witness
        self.every_events, self.every_s = every_events, every_minutes * 60.0
        self._last: float | None = None  # monotonic time of the last checkpoint this process knows of
        self._lock = threading.Lock()

    def due(self, log: AuditLog, start: int, end: int) -> bool:
        """Whether a commit that added leaves [start, end) calls for a checkpoint (cheap)."""
        n = self.every_events
        if n and end // n > start // n:
            return True
        if not self.every_s:
            return False
        if self._last is None:  # first commit in this process: when was the last checkpoint?
            age = log.last_checkpoint_age_s()
            self._last = time.monotonic() - (age if age is not None else float("inf"))
        return time.monotonic() - self._last >= self.every_s

    def after_commit(self, log: AuditLog, start: int, end: int) -> Checkpoint | None:
        if not self.due(log, start, end):
            return None
        from governance.records.audit.checkpoint import sign_checkpoint

        with self._lock:
            try:
                checkpoint = sign_checkpoint(log, self.signer)
            except Exception as exc:  # the caller's work is committed: report, never undo it
                logger.warning("automatic audit checkpoint failed: %s", exc)
                return None
            self._last = time.monotonic()
            return checkpoint
