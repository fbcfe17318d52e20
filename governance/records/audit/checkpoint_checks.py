"""Checkpoints in ``verify_log``: the witness's notes, the stored and given checkpoints the scan
compares roots against, and the consistency proofs from them to the log as it stands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import Connection

from governance.core.errors import AuditError, StorageError
from governance.records.audit.checkpoint import Checkpoint
from governance.records.audit.models import AuditCheckpointRecord
from governance.records.audit.results import VerifyFailure, WitnessCheck
from governance.records.storage.tables import table_of

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.audit.checkpoint import NoteVerifier
    from governance.records.audit.log import AuditLog
    from governance.records.audit.witness import Witness

__all__ = ["read_witness", "checkpoint_targets", "check_consistency", "witness_check"]

# add(case, detail, leaf=None, event_id=None, row=None, *, from_witness=False): verify_log's collector
Add = Callable[..., None]
# size -> [(label, root hex, from the witness?)]: the roots the scan must meet at each size
Targets = dict[int, list[tuple[str, str, bool]]]


def read_witness(
    witness: Witness | None, verifier: NoteVerifier | None, add: Add
) -> tuple[list[tuple[Checkpoint, str]], int]:
    """The witness's checkpoints that carry the install's signature, and how many notes were read."""
    witnessed: list[tuple[Checkpoint, str]] = []
    notes_read = 0
    if witness is not None:
        try:
            notes = witness.notes()
        except AuditError as exc:
            notes = []
            add("checkpoint-invalid", f"cannot read the witness: {exc}", row=witness.location, from_witness=True)
        notes_read = len(notes)
        for note in notes:
            try:
                cp = Checkpoint.parse(note.note)
            except AuditError as exc:
                add(
                    "checkpoint-invalid",
                    f"witness checkpoint {note.source} is corrupt: {exc}",
                    row=note.source,
                    from_witness=True,
                )
                continue
            if verifier is None:
                add(
                    "checkpoint-invalid",
                    "no checkpoint key to check the witness's checkpoints against",
                    row=witness.location,
                    from_witness=True,
                )
                break
            if not verifier.verify(cp):
                add(
                    "checkpoint-invalid",
                    f"witness checkpoint {note.source} (size {cp.size}) is not signed by "
                    f"{verifier.name}: forged or signed by another key",
                    row=note.source,
                    from_witness=True,
                )
                continue
            witnessed.append((cp, note.source))
        if len(witnessed) > 1 and witnessed[0][1] == notes[0].source:
            newest = max(witnessed, key=lambda w: w[0].size)
            if witnessed[0][0].size < newest[0].size:
                add(
                    "checkpoint-rollback",
                    f"the witness's latest checkpoint {witnessed[0][1]} (size "
                    f"{witnessed[0][0].size}) is older than {newest[1]} (size {newest[0].size}) it published "
                    "before: an old checkpoint was replayed",
                    row=witnessed[0][1],
                    from_witness=True,
                )
    return witnessed, notes_read


def checkpoint_targets(
    conn: Connection,
    verifier: NoteVerifier | None,
    witnessed: list[tuple[Checkpoint, str]],
    given: Checkpoint | None,
    add: Add,
) -> Targets:
    """Stored checkpoints (signature checked), the witness's and the given one, by tree size."""
    targets: Targets = defaultdict(list)
    for rec in conn.execute(select(table_of(AuditCheckpointRecord)).order_by("size")).mappings():
        label = f"stored checkpoint #{rec['id']} (size {rec['size']})"
        if verifier is not None:
            try:
                cp = Checkpoint.parse(rec["note"])
            except AuditError as exc:
                add("checkpoint-invalid", f"{label} is corrupt: {exc}", row=f"audit_checkpoints#{rec['id']}")
                continue
            if not verifier.verify(cp) or cp.size != rec["size"] or cp.root.hex() != rec["root_hash"]:
                add(
                    "checkpoint-invalid",
                    f"{label} does not carry a valid signature by {verifier.name}",
                    row=f"audit_checkpoints#{rec['id']}",
                )
                continue
        targets[rec["size"]].append((label, rec["root_hash"], False))
    for cp, source in witnessed:
        targets[cp.size].append((f"witness checkpoint {source} (size {cp.size})", cp.root.hex(), True))
    if given is not None and verifier is not None:  # (a given checkpoint without a verifier raised above)
        if not verifier.verify(given):
            add(
                "checkpoint-invalid",
                f"the given checkpoint is forged or signed by another key (expected {verifier.name})",
            )
        else:
            targets[given.size].append(("the given checkpoint", given.root.hex(), False))
    return targets


def check_consistency(
    log: AuditLog,
    size: int,
    root: str,
    given: Checkpoint | None,
    best: tuple[Checkpoint, str] | None,
    failures: list[VerifyFailure],
    add: Add,
) -> None:
    """Consistency proofs from the given and the witness's newest checkpoint to the log's root."""
    for cp, label, from_w in ([(given, "the given checkpoint", False)] if given is not None else []) + (
        [(best[0], f"witness checkpoint {best[1]}", True)] if best is not None else []
    ):
        if cp.size > size:
            continue
        try:
            proof = log.consistency(cp.size, size)
            good = proof.new_root == root and proof.old_root == cp.root.hex() and proof.verify()
        except (AuditError, StorageError):
            good = False
        if not good and not any(f.case == "log-rewritten" for f in failures):
            add(
                "log-rewritten",
                f"the consistency proof from {label} (size {cp.size}) to the log's size {size} does not verify",
                cp.size,
                from_witness=from_w,
            )


def witness_check(
    witness: Witness | None, best: tuple[Checkpoint, str] | None, notes_read: int, witness_failed: bool
) -> WitnessCheck:
    """What the external checkpoint said, for ``VerifyResult.witness``."""
    if witness is None:
        return WitnessCheck(None, "not-configured")
    if best is None:
        return WitnessCheck(witness.location, "failed" if witness_failed else "none", notes_read=notes_read)
    return WitnessCheck(
        witness.location,
        "failed" if witness_failed else "consistent",
        best[1],
        best[0].size,
        best[0].root.hex(),
        notes_read,
    )
