"""Full verification: recompute every leaf hash, closed subtree and root, in one read snapshot.

Each row stores its leaf hash, the subtree hashes it closed and the root after it, so the first
row whose recomputed values differ is the first edited, deleted, reordered or inserted event.
A writer who rewrote *every* later row consistently is caught by the signed checkpoints; then
the culprit is named up to the span between the last matching checkpoint and the failing one.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from governance.records.audit import merkle
from governance.records.audit.canonical import canonical_bytes
from governance.records.audit.merkle import EMPTY_ROOT
from governance.records.audit.models import AuditCheckpointRecord, AuditEntry, AuditHead
from governance.core.errors import AuditError, StorageError

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.audit.checkpoint import Checkpoint, NoteVerifier
    from governance.records.audit.log import AuditLog, VerifyResult

__all__ = ["verify_log"]

_E = AuditEntry.__table__
_sha256 = hashlib.sha256


def _columns(dialect: str) -> tuple:
    # SQLite: read the stored timestamp text as is; parsing a million datetimes costs seconds.
    recorded = type_coerce(_E.c.recorded_at, String).label("recorded_at") if dialect == "sqlite" else _E.c.recorded_at
    return (_E.c.leaf_index, _E.c.event_id, _E.c.kind, _E.c.actor, recorded, _E.c.leaf_hash,
            _E.c.payload, _E.c.nodes, _E.c.root_hash, _E.c.pruned_at)


@contextmanager
def _snapshot(log: AuditLog) -> Iterator[Connection]:
    """One consistent read of the whole log while writers keep appending."""
    try:
        if log.engine.dialect.name == "sqlite":
            with log.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN")  # pysqlite would otherwise give each SELECT its own snapshot
                try:
                    yield conn
                finally:
                    conn.rollback()
        else:
            with log.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                with conn.begin():
                    yield conn
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the audit log: {str(getattr(exc, 'orig', exc)).strip()}") from exc


def _iso(ts: Any) -> str:
    """The payload's ``recorded_at`` text from the column (raw SQLite text or a datetime)."""
    if isinstance(ts, str):  # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, as written)
        return f"{ts[:10]}T{ts[11:26]}Z"
    ts = ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)
    return ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _row_problem(event_id: str, kind: str, actor: str, ts: Any, leaf_hex: str, payload: Any,
                 pruned_at: Any) -> tuple[bytes, str | None]:
    """The leaf hash to use for this row, and what is wrong with the row itself (or None).

    The payload is canonical JSON with sorted keys, so the envelope columns sit at fixed places:
    ``{"actor":…,"event":{…"kind":…},"event_id":"…","recorded_at":"…","v":1}``; byte checks
    against those places are exact and far cheaper than parsing a million documents.
    """
    if payload is None:
        if pruned_at is None:
            return bytes.fromhex(leaf_hex), "payload is missing but the row was never pruned"
        return bytes.fromhex(leaf_hex), None
    if not isinstance(payload, bytes):
        payload = payload.encode() if isinstance(payload, str) else bytes(payload)
    digest = _sha256(b"\x00" + payload).digest()
    if digest.hex() != leaf_hex:
        return digest, "payload does not match its leaf hash (the event was edited)"
    tail = f',"event_id":"{event_id}","recorded_at":"{_iso(ts)}","v":1}}'.encode()
    if not (payload.startswith(_head(actor)) and payload.endswith(tail) and _kind(kind) in payload):
        return digest, "event id, kind, actor or time columns differ from the hashed payload"
    return digest, None


@lru_cache(maxsize=1024)
def _head(actor: str) -> bytes:
    return b'{"actor":' + canonical_bytes(actor) + b',"event":{'


@lru_cache(maxsize=1024)
def _kind(kind: str) -> bytes:
    return b'"kind":' + canonical_bytes(kind)


def _rows(conn: Connection, log: AuditLog) -> Iterator[tuple]:
    """Every row in leaf order as plain tuples, streamed."""
    dialect = log.engine.dialect.name
    stmt = select(*_columns(dialect)).order_by(_E.c.leaf_index)
    if dialect == "sqlite":  # the driver cursor directly: no per-row SQLAlchemy processing
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute(str(stmt.compile(dialect=conn.dialect)))
        while batch := cursor.fetchmany(20_000):
            yield from batch
        cursor.close()
        return
    for row in conn.execution_options(stream_results=True, yield_per=20_000).execute(stmt):
        yield tuple(row)


def verify_log(
    log: AuditLog, from_checkpoint: Checkpoint | str | bytes | Path | None, *, verifier: NoteVerifier | None
) -> VerifyResult:
    from governance.records.audit.checkpoint import Checkpoint, load_checkpoint
    from governance.records.audit.log import VerifyResult

    given = None
    if from_checkpoint is not None:
        given = from_checkpoint if isinstance(from_checkpoint, Checkpoint) else load_checkpoint(from_checkpoint)
        if verifier is None:
            raise AuditError("no checkpoint key to check the checkpoint signature against")

    def fail(index: int | None, event_id: str | None, reason: str, size: int, root: str = "", cps: int = 0) -> VerifyResult:
        return VerifyResult(False, size, root, index, event_id, reason, cps)

    with _snapshot(log) as conn:
        size = int(conn.execute(select(AuditHead.__table__.c.size)).scalar_one_or_none() or 0)
        targets: dict[int, list[tuple[str, str]]] = defaultdict(list)  # size -> [(label, root hex)]
        for rec in conn.execute(select(AuditCheckpointRecord.__table__).order_by("size")).mappings():
            label = f"stored checkpoint #{rec['id']} (size {rec['size']})"
            if verifier is not None:
                try:
                    cp = Checkpoint.parse(rec["note"])
                except AuditError as exc:
                    return fail(None, None, f"{label} is corrupt: {exc}", size)
                if not verifier.verify(cp) or cp.size != rec["size"] or cp.root.hex() != rec["root_hash"]:
                    return fail(None, None, f"{label} does not carry a valid signature by {verifier.name}", size)
            targets[rec["size"]].append((label, rec["root_hash"]))
        if given is not None:
            if not verifier.verify(given):
                return fail(None, None, f"the checkpoint is forged or signed by another key (expected {verifier.name})", size)
            if given.size > size:
                return fail(size, None, f"the checkpoint covers {given.size} events but the log has only {size}: events were deleted", size)
            targets[given.size].append(("the given checkpoint", given.root.hex()))
        checked, good_until = 0, 0
        for label, root_hex in targets.pop(0, []):
            checked += 1
            if root_hex != EMPTY_ROOT.hex():
                return fail(0, None, f"{label} does not match the empty log", size)
        pruned = count = 0
        previous_id: str | None = None
        hashes: list[bytes] = []  # the frontier: complete subtrees covering D[0:count], largest first
        sha = _sha256
        # The hot loop (a million rows): tuples, local names, hashing inlined.
        for index, event_id, kind, actor, ts, leaf_hex, payload, nodes, root_hex, pruned_at in _rows(conn, log):
            if index != count:
                if index < count:  # cannot happen with a primary key, but be explicit
                    return fail(index, event_id, "duplicate leaf index", size)
                return fail(count, None, f"leaf {count} is missing: the event after {previous_id} was deleted", size)
            if count >= size:
                return fail(count, event_id, f"leaf {count} lies beyond the log size {size}: the event was inserted", size)
            leaf, problem = _row_problem(event_id, kind, actor, ts, leaf_hex, payload, pruned_at)
            if problem:
                return fail(count, event_id, f"leaf {count}: {problem}", size)
            pruned += payload is None
            h, n, closed = leaf, count, b""
            while n & 1:
                h = sha(b"\x01" + hashes.pop() + h).digest()
                closed += h
                n >>= 1
            hashes.append(h)
            if closed != nodes and closed != bytes(nodes):
                return fail(count, event_id, f"leaf {count}: stored subtree hashes differ (an event at or before "
                            "it was changed)", size)
            acc = h
            for k in range(len(hashes) - 2, -1, -1):
                acc = sha(b"\x01" + hashes[k] + acc).digest()
            count += 1
            if acc.hex() != root_hex:
                return fail(index, event_id, f"leaf {index}: tree root differs (this event was edited, reordered "
                            "or inserted)", size)
            if count in targets:
                for label, expected in targets.pop(count):
                    checked += 1
                    if expected != root_hex:
                        first = _event_id_at(conn, good_until)
                        return fail(good_until, first, f"{label} does not match the log: an event among leaves "
                                    f"{good_until}..{index} was rewritten after it was signed", size, cps=checked)
                good_until = count
            previous_id = event_id
        if count != size:
            return fail(count, None, f"the log should hold {size} events but ends at leaf {count}: "
                        f"the last events were deleted", size)
        if targets:
            return fail(None, None, "a checkpoint refers to a size the log never had", size)
    root = merkle.root_from_compact(hashes).hex()
    if given is not None:  # the auditor's view: a consistency proof from the cached subtrees
        proof = log.consistency(given.size, size)
        if proof.new_root != root or not proof.verify():
            return fail(given.size, None, "the consistency proof from the checkpoint does not verify", size, root, checked)
    return VerifyResult(True, size, root, None, None, "", checked, pruned)


def _event_id_at(conn: Connection, index: int) -> str | None:
    return conn.execute(select(_E.c.event_id).where(_E.c.leaf_index == index)).scalar_one_or_none()
