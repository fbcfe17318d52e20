"""Full verification: recompute every leaf hash, closed subtree and root, in one read snapshot.

Each row stores its leaf hash, the subtree hashes it closed and the root after it, so the first
row whose recomputed values differ is the first edited, deleted, reordered or inserted event.
A writer who rewrote *every* later row consistently is caught by the authentication tags (to
within one transaction) and by the signed checkpoints, stored and external (the witness): then
the culprit is named up to the span between the last matching checkpoint and the failing one.
Finally the tables the log covers are cross-checked: every ``generation_record`` row against the
events that recorded it, every registry work against its last ``registry.change``. Every failure
is collected with its case (``VerifyFailure.case``), not only the first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from governance.core.errors import AuditError, StorageError
from governance.records.audit import merkle
from governance.records.audit.checkpoint_checks import (
    check_consistency,
    checkpoint_targets,
    read_witness,
    witness_check,
)
from governance.records.audit.crosscheck import check_records, check_registry
from governance.records.audit.merkle import EMPTY_ROOT
from governance.records.audit.models import AuditHead
from governance.records.audit.scan import event_id_at, iso, row_problem, rows, snapshot
from governance.records.storage.tables import table_of

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.audit.checkpoint import Checkpoint, NoteVerifier
    from governance.records.audit.log import AuditLog, VerifyResult
    from governance.records.audit.witness import Witness

__all__ = ["verify_log"]

_GEN_KINDS = ("generation.generated", "generation.watermarked", "generation.signed", "generation.recorded")


def verify_log(
    log: AuditLog,
    from_checkpoint: Checkpoint | str | bytes | Path | None,
    *,
    verifier: NoteVerifier | None,
    witness: Witness | None = None,
    auth_key: bytes | None = None,
    retention_days: int | None = None,
    cross_check: bool = True,
    now: datetime | None = None,
) -> VerifyResult:
    from governance.records.audit.checkpoint import Checkpoint, load_checkpoint
    from governance.records.audit.results import FailureCase, VerifyFailure, VerifyResult, auth_tag

    given = None
    if from_checkpoint is not None:
        given = from_checkpoint if isinstance(from_checkpoint, Checkpoint) else load_checkpoint(from_checkpoint)
        if verifier is None:
            raise AuditError("no checkpoint key to check the checkpoint signature against")
    failures: list[VerifyFailure] = []
    witness_failed = False

    def add(
        case: FailureCase,
        detail: str,
        leaf: int | None = None,
        event_id: str | None = None,
        row: str | None = None,
        *,
        from_witness: bool = False,
    ) -> None:
        nonlocal witness_failed
        failures.append(VerifyFailure(case, detail, leaf, event_id, row))
        witness_failed = witness_failed or from_witness

    # 1. External checkpoints, read before the snapshot (a witness only ever grows).
    witnessed, notes_read = read_witness(witness, verifier, add)
    best = max(witnessed, key=lambda w: w[0].size) if witnessed else None

    size, root, checked, pruned, auth_size = 0, "", 0, 0, None
    gen_events: dict[str, dict[str, tuple[int, dict]]] = defaultdict(dict)
    registry: dict[str, tuple[int, dict]] = {}
    pruned_gen = 0
    scan_ok = False
    try:
        with snapshot(log) as conn:
            size = int(conn.execute(select(table_of(AuditHead).c.size)).scalar_one_or_none() or 0)
            targets = checkpoint_targets(conn, verifier, witnessed, given, add)
            too_big = [s for s in targets if s > size]
            if too_big:
                largest = max(too_big)
                label, _, from_w = sorted(targets[largest], key=lambda t: not t[2])[0]  # name the witness
                lost = (
                    "the database is empty: it was truncated, deleted or replaced"
                    if size == 0
                    else (
                        f"events {size}..{largest - 1} were deleted or lost (a lowered head, a truncated, replaced or "
                        "rolled-back database, or a lost WAL)"
                    )
                )
                add(
                    "log-truncated",
                    f"{label} covers {largest} events but the log holds {size}: {lost}",
                    leaf=size,
                    from_witness=from_w,
                )
                for s in too_big:
                    targets.pop(s)
            for label, root_hex, from_w in targets.pop(0, []):
                checked += 1
                if root_hex != EMPTY_ROOT.hex():
                    add("log-rewritten", f"{label} does not match the empty log", from_witness=from_w)
            count = 0
            good_until = 0
            previous_id: str | None = None
            hashes: list[bytes] = []  # the frontier: complete subtrees covering D[0:count], largest first
            sha = hashlib.sha256
            last_tag = -1  # last leaf with a valid authentication tag
            tag_failed = rewritten = False
            untagged: tuple[int, str] | None = None  # first leaf after the last tag
            any_tag = False
            cutoff_iso = None
            if retention_days:
                cutoff_iso = iso((now or datetime.now(UTC)) - timedelta(days=retention_days))
            unretained: tuple[int, str, str] | None = None  # (first pruned leaf, its id, latest pruned time)
            # The hot loop (a million rows): tuples, local names, hashing inlined.
            for index, event_id, kind, actor, ts, leaf_hex, payload, nodes, root_hex, pruned_at, tag in rows(conn, log):
                if index != count:
                    if index < count:  # cannot happen with a primary key, but be explicit
                        add("leaf-inserted", f"leaf {index}: duplicate leaf index", index, event_id)
                    else:
                        add(
                            "leaf-missing",
                            f"leaf {count} is missing: the event after {previous_id} was deleted",
                            count,
                            None,
                        )
                    break
                if count >= size:
                    add(
                        "leaf-inserted",
                        f"leaf {count} lies beyond the log size {size}: the event was inserted without moving the head",
                        count,
                        event_id,
                    )
                    break
                leaf, problem = row_problem(event_id, kind, actor, ts, leaf_hex, payload, pruned_at)
                if problem:
                    add("leaf-edited", f"leaf {count}: {problem}", count, event_id)
                    break
                if payload is None:
                    pruned += 1
                    pruned_gen += kind in _GEN_KINDS
                    when = iso(ts)
                    if cutoff_iso is not None and when >= cutoff_iso:
                        add(
                            "pruned-early",
                            f"leaf {count}: its payload was blanked as pruned although it was "
                            f"recorded at {when}, inside the {retention_days}-day retention period",
                            count,
                            event_id,
                        )
                    elif unretained is None:
                        unretained = (count, event_id, when)
                    else:
                        unretained = (unretained[0], unretained[1], max(unretained[2], when))
                elif kind in _GEN_KINDS or kind == "registry.change" or (kind == "audit.retention" and unretained):
                    event = json.loads(payload)["event"]
                    if kind == "registry.change":
                        registry[event.get("work_id", "")] = (count, event)
                    elif kind == "audit.retention":
                        if unretained is not None and unretained[2][:19] < str(event.get("cutoff", ""))[:19]:
                            unretained = None
                    else:
                        gen_events[event.get("content_id", "")][kind] = (count, event)
                h, n, closed = leaf, count, b""
                while n & 1:
                    h = sha(b"\x01" + hashes.pop() + h).digest()
                    closed += h
                    n >>= 1
                hashes.append(h)
                if closed != nodes and closed != bytes(nodes):
                    add(
                        "leaf-moved",
                        f"leaf {count}: stored subtree hashes differ (an event at or before it was "
                        "edited with a recomputed hash, reordered or inserted)",
                        count,
                        event_id,
                    )
                    break
                acc = h
                for k in range(len(hashes) - 2, -1, -1):
                    acc = sha(b"\x01" + hashes[k] + acc).digest()
                count += 1  # noqa: SIM113 (count outlives the loop: it says where verification stopped)
                if acc.hex() != root_hex:
                    add(
                        "leaf-moved",
                        f"leaf {index}: tree root differs (this event was edited with a recomputed "
                        "hash, reordered or inserted)",
                        index,
                        event_id,
                    )
                    break
                if tag is not None:
                    any_tag = True
                    if auth_key is not None:
                        if hmac.compare_digest(tag, auth_tag(auth_key, index, root_hex)):
                            last_tag, untagged = index, None
                        elif not tag_failed:
                            tag_failed = True
                            add(
                                "log-rewritten",
                                f"leaf {index}: its authentication tag does not match the tree: "
                                f"leaves {last_tag + 1}..{index} were rewritten (hashes recomputed) without the "
                                "install's key",
                                last_tag + 1,
                                event_id_at(conn, last_tag + 1),
                            )
                elif untagged is None:
                    untagged = (index, event_id)
                if count in targets:
                    for label, expected, from_w in targets.pop(count):
                        checked += 1
                        if expected != root_hex and not rewritten:
                            rewritten = True
                            add(
                                "log-rewritten",
                                f"{label} does not match the log: an event among leaves "
                                f"{good_until}..{index} was rewritten after it was signed",
                                good_until,
                                event_id_at(conn, good_until),
                                from_witness=from_w,
                            )
                    if not rewritten:
                        good_until = count
                previous_id = event_id
            else:
                scan_ok = True
                if count != size:
                    scan_ok = False
                    add(
                        "log-truncated",
                        f"the log should hold {size} events but ends at leaf {count}: the last events were deleted",
                        count,
                    )
                if auth_key is not None and any_tag:
                    auth_size = last_tag + 1
                    if untagged is not None:
                        add(
                            "unauthenticated",
                            f"leaves {untagged[0]}..{size - 1} carry no authentication tag: "
                            "they were appended outside ReelGuard (forged)",
                            untagged[0],
                            untagged[1],
                        )
                elif auth_key is not None and witnessed and size > 0:
                    # The witness only holds checkpoints from code that tags every append, so a log
                    # with no tag at all had them removed (which would switch the check off).
                    add(
                        "unauthenticated",
                        f"no leaf of the {size} carries an authentication tag, though this "
                        "install tags every append: the tags were removed and the log may have been rewritten",
                        0,
                        event_id_at(conn, 0),
                    )
                if unretained is not None:
                    add(
                        "pruned-early",
                        f"leaf {unretained[0]}: payloads were blanked as pruned but no audit.retention run covers them",
                        unretained[0],
                        unretained[1],
                    )
                root = merkle.root_from_compact(hashes).hex()
            if scan_ok and cross_check:
                records_checked, unverifiable = check_records(conn, gen_events, pruned_gen, add)
                works_checked = check_registry(conn, registry, add)
            else:
                records_checked = unverifiable = works_checked = 0
    except (StorageError, SQLAlchemyError) as exc:
        add("database-damaged", f"the database cannot be read: {exc}")
        records_checked = unverifiable = works_checked = 0
    if scan_ok:  # the auditor's view: consistency proofs from the cached subtrees
        check_consistency(log, size, root, given, best, failures, add)
    wcheck = witness_check(witness, best, notes_read, witness_failed)
    first = failures[0] if failures else None
    reason = "" if first is None else first.detail + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else "")
    return VerifyResult(
        not failures,
        size,
        root,
        first.leaf if first else None,
        first.event_id if first else None,
        reason,
        checked,
        pruned,
        tuple(failures),
        wcheck,
        auth_size,
        records_checked,
        works_checked,
        unverifiable,
    )
