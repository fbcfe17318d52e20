"""Crash safety for the home: the in-flight journal of generations, start-up recovery, and the
consistency checks behind ``reelguard doctor``.

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
import glob
import hashlib
import json
import os
import re
import socket
import stat
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.core.errors import ReelGuardError
from governance.core.secrets import write_secret_file
from governance.core.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from governance.flows.context import FlowContext
    from governance.provenance.manifest_store import ManifestStore

__all__ = [
    "InflightJournal",
    "JournalEntry",
    "Finding",
    "DoctorReport",
    "doctor",
    "recover_inflight",
    "remove_stored_manifest",
    "temp_paths",
    "fsync_dir",
]

JOURNAL_VERSION = 1
# A generation's hidden temps, and the writers' own temps derived from them
# (``..clip.<cid>.unsigned.<rand>.mp4`` from the encoder, ``..clip.<cid>.signed.mp4.<rand>.tmp``
# from signing).
TEMP_NAME = re.compile(r"^\..+\.(?P<cid>[0-9a-f]{16})\.(?:unsigned|signed)(?:\.[^/]*)?$")
SECRET_TMP = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # write_secret_file's temp names
STALE_TMP_S = 60.0  # a secret-file temp older than this belongs to no live writer


def temp_paths(output: Path, content_id: str) -> tuple[Path, Path]:
    """The hidden (unsigned, signed) temp files of one generation, beside its output."""
    return (output.with_name(f".{output.stem}.{content_id}.unsigned.mp4"),
            output.with_name(f".{output.stem}.{content_id}.signed{output.suffix}"))


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
        return {"version": JOURNAL_VERSION, "content_id": self.content_id, "pid": self.pid,
                "proc_start": self.proc_start, "host": self.host, "started_at": self.started_at,
                "output": str(self.output), "force": self.force, "temps": [str(p) for p in self.temps]}


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
        entry = JournalEntry(content_id=content_id, pid=os.getpid(), host=socket.gethostname(),
                             output=Path(output), temps=tuple(Path(p) for p in temps), force=force,
                             proc_start=_proc_start(os.getpid()),
                             started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
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
            return JournalEntry(content_id=str(data["content_id"]), pid=int(data["pid"]), host=str(data["host"]),
                                output=Path(data["output"]), temps=tuple(Path(p) for p in data["temps"]),
                                force=bool(data.get("force")), proc_start=data.get("proc_start"),
                                started_at=data.get("started_at"), path=path)
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


@dataclass(frozen=True)
class Finding:
    """One thing doctor found. ``action`` says what was done: ``removed``, ``renamed``,
    ``chmod``, ``none`` (reported only), or ``would-fix`` (``--fix`` not given)."""

    kind: str
    subject: str
    detail: str
    action: str = "none"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail, "action": self.action}


@dataclass(frozen=True)
class DoctorReport:
    home: str
    fixed: bool
    findings: tuple[Finding, ...]
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> tuple[Finding, ...]:
        """Findings still needing attention (everything not fixed, except informational ones)."""
        return tuple(f for f in self.findings if f.action in ("none", "would-fix") and f.kind != "in-progress")

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"home": self.home, "ok": self.ok, "fixed": self.fixed, "checked": dict(self.checked),
                "findings": [f.to_dict() for f in self.findings]}


# ---------------------------------------------------------------- manifest store (no public delete)

def remove_stored_manifest(store: "ManifestStore", content_id: str) -> bool:
    """Delete the manifest of ``content_id`` and the index entries that point to it. True when
    something was removed. (Uses the store's path helpers: the store has no delete of its own.)"""
    try:
        stored = store.get(content_id)
        store_path, json_path = store._paths(content_id)
    except ReelGuardError:
        return False
    removed = False
    if stored is not None:
        index: list[Path] = []
        if stored.manifest_label:
            index.append(store._label_path(stored.manifest_label))
        if stored.soft_binding:
            try:
                index.append(store._binding_path(*stored.soft_binding))
            except ReelGuardError:
                pass
        for path in index:
            try:
                if path.read_text().split("\n", 1)[0].strip() == content_id:
                    path.unlink(missing_ok=True)
            except OSError:
                pass
    for path in (store_path, json_path):
        if path.exists():
            path.unlink(missing_ok=True)
            removed = True
    return removed


def _stored_content_ids(store: "ManifestStore") -> set[str]:
    root = store.root
    out: set[str] = set()
    if not root.is_dir():
        return out
    for folder in root.iterdir():
        if folder.is_dir() and re.fullmatch(r"[0-9a-f]{2}", folder.name):
            for path in folder.iterdir():
                if re.fullmatch(r"[0-9a-f]{16}\.(?:json|c2pa)", path.name):
                    out.add(path.stem)
    return out


# ---------------------------------------------------------------- records (read-only queries)

def _record(ctx: "FlowContext", content_id: str) -> Any:
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import get_record

    with session_scope(ctx.engine) as session:
        return get_record(session=session, content_id=content_id)


def _recorded_ids(ctx: "FlowContext") -> dict[str, Any]:
    from sqlmodel import select

    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecord

    with session_scope(ctx.engine) as session:
        return {r.content_id: r for r in session.exec(select(GenerationRecord))}


def _recorded_event_ids(ctx: "FlowContext") -> set[str] | None:
    """Content ids with a ``generation.recorded`` audit event (None when payloads were pruned)."""
    from sqlmodel import select

    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    out: set[str] = set()
    with session_scope(ctx.engine) as session:
        for entry in session.exec(select(AuditEntry).where(AuditEntry.kind == "generation.recorded")):
            if entry.payload is None:
                return None
            try:
                data = json.loads(entry.payload)
            except ValueError:
                continue
            cid = data.get("content_id") or (data.get("event") or {}).get("content_id")
            if isinstance(cid, str):
                out.add(cid)
    return out


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# ---------------------------------------------------------------- recovery of dead journal entries

def _recover_entry(ctx: "FlowContext", journal: InflightJournal, entry: JournalEntry, *, fix: bool) -> list[Finding]:
    from governance.provenance.manifest_store import ManifestStore

    act = (lambda done: done) if fix else (lambda _done: "would-fix")
    found: list[Finding] = []
    record = _record(ctx, entry.content_id)
    signed = entry.temps[1] if len(entry.temps) > 1 else None
    handled: set[Path] = set()
    if record is not None and signed is not None and signed.exists():
        # Committed, killed before the rename: finish it, or keep it visibly beside the output.
        handled.add(signed)
        if _sha256(signed) != record.file_sha256:
            found.append(Finding("orphan-temp", str(signed), "signed temp does not match its record", act("removed")))
            if fix:
                signed.unlink(missing_ok=True)
        else:
            target = entry.output
            if target.exists() and not entry.force:
                target = target.with_name(f"{target.stem}.{entry.content_id}{target.suffix}")
            found.append(Finding("unplaced-output", str(signed),
                                 f"recorded generation {entry.content_id} was never renamed into place; -> {target}",
                                 act("renamed")))
            if fix:
                os.replace(signed, target)
                fsync_dir(target.parent)
    elif record is None:
        if ManifestStore(ctx.settings).get(entry.content_id) is not None:
            found.append(Finding("orphan-manifest", entry.content_id,
                                 "manifest saved by a generation that never committed", act("removed")))
            if fix:
                remove_stored_manifest(ManifestStore(ctx.settings), entry.content_id)
    for temp in (p for p in _with_derived(entry.temps) if p not in handled and p.exists()):
        found.append(Finding("orphan-temp", str(temp),
                             f"left by generation {entry.content_id} (pid {entry.pid}, "
                             f"{'recorded' if record is not None else 'never recorded'})", act("removed")))
        if fix:
            temp.unlink(missing_ok=True)
    found.append(Finding("dead-journal-entry", entry.content_id,
                         f"pid {entry.pid} started {entry.started_at} is gone; output {entry.output}", act("removed")))
    if fix:
        journal.end(entry.content_id)
    return found


def _with_derived(temps: Iterable[Path]) -> list[Path]:
    """The journaled temps plus the temps their writers made on the way (``.<temp stem>.*``)."""
    out: list[Path] = []
    for temp in temps:
        out.append(temp)
        try:
            out += sorted(temp.parent.glob(f".{glob.escape(temp.stem)}.*"))
        except OSError:
            pass
    return out


def recover_inflight(ctx: "FlowContext") -> list[Finding]:
    """Clean up after generations on this host whose process died (start-up recovery)."""
    journal = InflightJournal(ctx.settings)
    if not journal.has_dead_entries():
        return []
    found: list[Finding] = []
    with journal.locked():
        for entry in journal.entries():
            if entry.local and not entry.alive:
                found += _recover_entry(ctx, journal, entry, fix=True)
    return found


# ---------------------------------------------------------------- doctor

def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _permissions(settings: Settings, *, fix: bool) -> list[Finding]:
    found: list[Finding] = []
    keys = settings.keys_path
    folders = [settings.home, keys, keys / "c2pa", keys / "c2pa" / "pending", keys / "c2pa" / "retired",
               settings.home / "inflight"]
    files = [p for p in (list(keys.glob("*.key")) + list((keys / "c2pa").glob("*.key.pem"))
                         + list(keys.glob("*.key.pem")) + list((settings.home / "inflight").glob("*.json")))]
    for path, want in [(p, 0o700) for p in folders] + [(p, 0o600) for p in files]:
        mode = _mode(path)
        if mode is None or not mode & 0o077:
            continue
        found.append(Finding("loose-permissions", str(path), f"mode {mode:o}, should be {want:o}",
                             "chmod" if fix else "would-fix"))
        if fix:
            os.chmod(path, want)
    return found


def _stale_secret_temps(settings: Settings, *, fix: bool) -> list[Finding]:
    manifests = settings.manifests_path
    folders = [(f, "half-written key or journal file") for f in
               (settings.keys_path, settings.keys_path / "c2pa", settings.home / "inflight")]
    folders += [(f, "half-written manifest file") for f in
                (manifests, *(manifests.glob("*/") if manifests.is_dir() else ()))]
    found: list[Finding] = []
    now = time.time()
    for folder, what in folders:
        for path in (folder.glob(".*.tmp") if folder.is_dir() else ()):
            try:
                if not SECRET_TMP.match(path.name) or now - path.stat().st_mtime < STALE_TMP_S:
                    continue
            except OSError:
                continue
            found.append(Finding("stale-temp", str(path), f"{what} from an interrupted write",
                                 "removed" if fix else "would-fix"))
            if fix:
                path.unlink(missing_ok=True)
    return found


def _scan_temps(folders: Iterable[Path], live: set[Path], live_ids: set[str], *, journal: Path,
                fix: bool) -> list[Finding]:
    """Hidden generation temps in ``folders`` that no live generation owns. A temp's content id
    protects it while any journal entry names that id (including one written after the entries
    were listed), and so do the encoder's and signer's own derived temps."""
    found: list[Finding] = []
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            found.append(Finding("scan-failed", str(folder), exc.strerror or str(exc)))
            continue
        for name in names:
            path = Path(folder).resolve() / name
            match = TEMP_NAME.match(name)
            if not match or path in live or match["cid"] in live_ids or (journal / f"{match['cid']}.json").exists():
                continue
            found.append(Finding("orphan-temp", str(path), "hidden generation temp with no live journal entry",
                                 "removed" if fix else "would-fix"))
            if fix:
                path.unlink(missing_ok=True)
    return found


def _database(ctx: "FlowContext") -> list[Finding]:
    from sqlalchemy import text

    if ctx.engine.dialect.name != "sqlite":
        return []
    with ctx.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("PRAGMA quick_check"))]
    if rows == ["ok"]:
        return []
    return [Finding("database-corrupt", str(ctx.settings.resolved_database_url), "; ".join(map(str, rows[:5])))]


def doctor(ctx: "FlowContext", *, fix: bool = False, scan: Iterable[Path] = ()) -> DoctorReport:
    """Find (and with ``fix`` repair) what crashes and races can leave in a home.

    Checks: in-flight journal entries (dead ones are recovered as start-up does), hidden
    generation temps in the ``scan`` folders with no live entry, manifests in the manifest
    store with no generation record, records with no manifest or no ``generation.recorded``
    event, half-written secret temps, key and home permissions, SQLite's quick_check."""
    from governance.provenance.manifest_store import ManifestStore

    act = "removed" if fix else "would-fix"
    scan = [Path(p) for p in scan]
    settings = ctx.settings
    journal = InflightJournal(settings)
    found: list[Finding] = []
    live: set[Path] = set()  # temps that journal entries account for (the scan skips them)
    live_ids: set[str] = set()
    with journal.locked():
        for path in journal.broken():
            found.append(Finding("broken-journal-entry", str(path), "unreadable in-flight entry", act))
            if fix:
                path.unlink(missing_ok=True)
        entries = journal.entries()
        for entry in entries:
            if not entry.local:
                found.append(Finding("foreign-journal-entry", entry.content_id,
                                     f"in flight on host {entry.host} (pid {entry.pid}); left alone"))
                live_ids.add(entry.content_id)
                live.update(p.resolve() for p in entry.temps)
            elif entry.alive:
                found.append(Finding("in-progress", entry.content_id, f"pid {entry.pid} is generating {entry.output}"))
                live_ids.add(entry.content_id)
                live.update(p.resolve() for p in entry.temps)
            else:
                live.update(p.resolve() for p in _with_derived(entry.temps))  # reported by the recovery
                found += _recover_entry(ctx, journal, entry, fix=fix)
    found += _scan_temps(scan, live, live_ids, journal=journal.folder, fix=fix)

    records = _recorded_ids(ctx)
    store = ManifestStore(settings)
    stored = _stored_content_ids(store)
    dead_ids = {e.content_id for e in entries if e.local and not e.alive}
    for cid in sorted(stored - set(records) - live_ids - dead_ids):
        found.append(Finding("orphan-manifest", cid, "manifest in the manifest store with no generation record", act))
        if fix:
            remove_stored_manifest(store, cid)
    for cid in sorted(set(records) - stored):
        found.append(Finding("record-without-manifest", cid,
                             f"generation record ({records[cid].output_name}) has no manifest in the manifest store"))
    events = _recorded_event_ids(ctx)
    if events is not None:
        for cid in sorted(set(records) - events):
            found.append(Finding("record-without-events", cid, "generation record has no generation.recorded audit event"))
    found += _stale_secret_temps(settings, fix=fix)
    found += _permissions(settings, fix=fix)
    found += _database(ctx)
    return DoctorReport(home=str(settings.home), fixed=fix, findings=tuple(found),
                        checked={"journal_entries": len(entries), "records": len(records), "manifests": len(stored),
                                 "scanned_folders": len(scan)})
