"""Crash safety for the home: the in-flight journal of generations, start-up recovery, and the
consistency checks behind ``reelguard doctor``.

The in-flight journal itself is described in ``governance.flows.inflight``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.core.settings import Settings
from governance.flows.inflight import (
    SECRET_TMP,
    STALE_TMP_S,
    TEMP_NAME,
    InflightJournal,
    JournalEntry,
    fsync_dir,
    temp_paths,
)
from governance.flows.recovery import Finding, recover_entry, recover_inflight, remove_stored_manifest, with_derived

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
        return {
            "home": self.home,
            "ok": self.ok,
            "fixed": self.fixed,
            "checked": dict(self.checked),
            "findings": [f.to_dict() for f in self.findings],
        }


# ---------------------------------------------------------------- manifest store (no public delete)


def _stored_content_ids(store: ManifestStore) -> set[str]:
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


def _recorded_ids(ctx: FlowContext) -> dict[str, Any]:
    from sqlmodel import select

    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecord

    with session_scope(ctx.engine) as session:
        return {r.content_id: r for r in session.exec(select(GenerationRecord))}


def _recorded_event_ids(ctx: FlowContext) -> set[str] | None:
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


# ---------------------------------------------------------------- doctor


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _permissions(settings: Settings, *, fix: bool) -> list[Finding]:
    found: list[Finding] = []
    keys = settings.keys_path
    folders = [
        settings.home,
        keys,
        keys / "c2pa",
        keys / "c2pa" / "pending",
        keys / "c2pa" / "retired",
        settings.home / "inflight",
    ]
    files = [
        p
        for p in (
            list(keys.glob("*.key"))
            + list((keys / "c2pa").glob("*.key.pem"))
            + list(keys.glob("*.key.pem"))
            + list((settings.home / "inflight").glob("*.json"))
        )
    ]
    for path, want in [(p, 0o700) for p in folders] + [(p, 0o600) for p in files]:
        mode = _mode(path)
        if mode is None or not mode & 0o077:
            continue
        found.append(
            Finding(
                "loose-permissions", str(path), f"mode {mode:o}, should be {want:o}", "chmod" if fix else "would-fix"
            )
        )
        if fix:
            os.chmod(path, want)
    return found


def _stale_secret_temps(settings: Settings, *, fix: bool) -> list[Finding]:
    manifests = settings.manifests_path
    folders = [
        (f, "half-written key or journal file")
        for f in (settings.keys_path, settings.keys_path / "c2pa", settings.home / "inflight")
    ]
    folders += [
        (f, "half-written manifest file") for f in (manifests, *(manifests.glob("*/") if manifests.is_dir() else ()))
    ]
    found: list[Finding] = []
    now = time.time()
    for folder, what in folders:
        for path in folder.glob(".*.tmp") if folder.is_dir() else ():
            try:
                if not SECRET_TMP.match(path.name) or now - path.stat().st_mtime < STALE_TMP_S:
                    continue
            except OSError:
                continue
            found.append(
                Finding("stale-temp", str(path), f"{what} from an interrupted write", "removed" if fix else "would-fix")
            )
            if fix:
                path.unlink(missing_ok=True)
    return found


def _scan_temps(
    folders: Iterable[Path], live: set[Path], live_ids: set[str], *, journal: Path, fix: bool
) -> list[Finding]:
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
            found.append(
                Finding(
                    "orphan-temp",
                    str(path),
                    "hidden generation temp with no live journal entry",
                    "removed" if fix else "would-fix",
                )
            )
            if fix:
                path.unlink(missing_ok=True)
    return found


def _database(ctx: FlowContext) -> list[Finding]:
    from sqlalchemy import text

    if ctx.engine.dialect.name != "sqlite":
        return []
    with ctx.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("PRAGMA quick_check"))]
    if rows == ["ok"]:
        return []
    return [Finding("database-corrupt", str(ctx.settings.resolved_database_url), "; ".join(map(str, rows[:5])))]


def doctor(ctx: FlowContext, *, fix: bool = False, scan: Iterable[Path] = ()) -> DoctorReport:
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
                found.append(
                    Finding(
                        "foreign-journal-entry",
                        entry.content_id,
                        f"in flight on host {entry.host} (pid {entry.pid}); left alone",
                    )
                )
                live_ids.add(entry.content_id)
                live.update(p.resolve() for p in entry.temps)
            elif entry.alive:
                found.append(Finding("in-progress", entry.content_id, f"pid {entry.pid} is generating {entry.output}"))
                live_ids.add(entry.content_id)
                live.update(p.resolve() for p in entry.temps)
            else:
                live.update(p.resolve() for p in with_derived(entry.temps))  # reported by the recovery
                found += recover_entry(ctx, journal, entry, fix=fix)
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
        found.append(
            Finding(
                "record-without-manifest",
                cid,
                f"generation record ({records[cid].output_name}) has no manifest in the manifest store",
            )
        )
    events = _recorded_event_ids(ctx)
    if events is not None:
        for cid in sorted(set(records) - events):
            found.append(
                Finding("record-without-events", cid, "generation record has no generation.recorded audit event")
            )
    found += _stale_secret_temps(settings, fix=fix)
    found += _permissions(settings, fix=fix)
    found += _database(ctx)
    return DoctorReport(
        home=str(settings.home),
        fixed=fix,
        findings=tuple(found),
        checked={
            "journal_entries": len(entries),
            "records": len(records),
            "manifests": len(stored),
            "scanned_folders": len(scan),
        },
    )
