"""Start-up recovery of generations whose process died (the in-flight journal's dead entries).

What a dead entry means and what is done about it is described in ``governance.flows.inflight``;
``reelguard doctor`` reports the same findings and repairs them with ``--fix``.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.core.errors import ReelGuardError
from governance.flows.inflight import InflightJournal, JournalEntry, fsync_dir
from governance.provenance.signing.sign import sha256_file

if TYPE_CHECKING:  # pragma: no cover
    from governance.flows.context import FlowContext
    from governance.provenance.manifest_store import ManifestStore

__all__ = ["Finding", "recover_inflight", "remove_stored_manifest", "recover_entry", "with_derived"]


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


def remove_stored_manifest(store: ManifestStore, content_id: str) -> bool:
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
            with contextlib.suppress(ReelGuardError):
                index.append(store._binding_path(*stored.soft_binding))
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


def _record(ctx: FlowContext, content_id: str) -> Any:
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import get_record

    with session_scope(ctx.engine) as session:
        return get_record(session=session, content_id=content_id)


# ---------------------------------------------------------------- recovery of dead journal entries


def recover_entry(ctx: FlowContext, journal: InflightJournal, entry: JournalEntry, *, fix: bool) -> list[Finding]:
    from governance.provenance.manifest_store import ManifestStore

    act = (lambda done: done) if fix else (lambda _done: "would-fix")
    found: list[Finding] = []
    record = _record(ctx, entry.content_id)
    signed = entry.temps[1] if len(entry.temps) > 1 else None
    handled: set[Path] = set()
    if record is not None and signed is not None and signed.exists():
        # Committed, killed before the rename: finish it, or keep it visibly beside the output.
        handled.add(signed)
        if sha256_file(signed) != record.file_sha256:
            found.append(Finding("orphan-temp", str(signed), "signed temp does not match its record", act("removed")))
            if fix:
                signed.unlink(missing_ok=True)
        else:
            target = entry.output
            if target.exists() and not entry.force:
                target = target.with_name(f"{target.stem}.{entry.content_id}{target.suffix}")
            found.append(
                Finding(
                    "unplaced-output",
                    str(signed),
                    f"recorded generation {entry.content_id} was never renamed into place; -> {target}",
                    act("renamed"),
                )
            )
            if fix:
                os.replace(signed, target)
                fsync_dir(target.parent)
    elif record is None and ManifestStore(ctx.settings).get(entry.content_id) is not None:
        found.append(
            Finding(
                "orphan-manifest",
                entry.content_id,
                "manifest saved by a generation that never committed",
                act("removed"),
            )
        )
        if fix:
            remove_stored_manifest(ManifestStore(ctx.settings), entry.content_id)
    for temp in (p for p in with_derived(entry.temps) if p not in handled and p.exists()):
        found.append(
            Finding(
                "orphan-temp",
                str(temp),
                f"left by generation {entry.content_id} (pid {entry.pid}, "
                f"{'recorded' if record is not None else 'never recorded'})",
                act("removed"),
            )
        )
        if fix:
            temp.unlink(missing_ok=True)
    found.append(
        Finding(
            "dead-journal-entry",
            entry.content_id,
            f"pid {entry.pid} started {entry.started_at} is gone; output {entry.output}",
            act("removed"),
        )
    )
    if fix:
        journal.end(entry.content_id)
    return found


def with_derived(temps: Iterable[Path]) -> list[Path]:
    """The journaled temps plus the temps their writers made on the way (``.<temp stem>.*``)."""
    out: list[Path] = []
    for temp in temps:
        out.append(temp)
        with contextlib.suppress(OSError):
            out += sorted(temp.parent.glob(f".{glob.escape(temp.stem)}.*"))
    return out


def recover_inflight(ctx: FlowContext) -> list[Finding]:
    """Clean up after generations on this host whose process died (start-up recovery)."""
    journal = InflightJournal(ctx.settings)
    if not journal.has_dead_entries():
        return []
    found: list[Finding] = []
    with journal.locked():
        for entry in journal.entries():
            if entry.local and not entry.alive:
                found += recover_entry(ctx, journal, entry, fix=True)
    return found
