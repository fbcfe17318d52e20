"""AuditLog: append typed events in the caller's transaction, prove them, verify everything.

Leaf allocation: ``append`` bumps the single ``audit_head`` row (``UPDATE … SET size = size + k
RETURNING size``). On PostgreSQL that row lock, on SQLite the database write lock, is held until
the caller commits or rolls back, so concurrent writers queue, indices are gap-free, and the leaf
order is the commit order. A rollback undoes the bump with everything else.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from governance.core.errors import AuditError, AuditIntegrityError, StorageError
from governance.records.audit import merkle
from governance.records.audit.canonical import canonical_bytes
from governance.records.audit.events import AuditEvent
from governance.records.audit.frontier import note_pending, session_frontier
from governance.records.audit.install import detect_install, install_for
from governance.records.audit.models import AuditCheckpointRecord, AuditEntry, AuditEntryPublic, AuditHead
from governance.records.audit.results import (
    ConsistencyProof,
    FailureCase,
    InclusionProof,
    LogEntry,
    VerifyFailure,
    VerifyResult,
    WitnessCheck,
    auth_tag,
    iso,
    parse_payload,
    utc,
)
from governance.records.audit.rows import Conn, fetch_nodes, reason, to_public
from governance.records.storage.tables import table_of

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.settings import Settings
    from governance.records.audit.checkpoint import Checkpoint, NoteVerifier
    from governance.records.audit.witness import Witness

__all__ = [
    "AuditLog",
    "LogEntry",
    "InclusionProof",
    "ConsistencyProof",
    "VerifyResult",
    "VerifyFailure",
    "WitnessCheck",
    "FailureCase",
    "parse_payload",
    "auth_tag",
]

_ENTRIES = table_of(AuditEntry)
_HEAD = table_of(AuditHead)
_logger = logging.getLogger(__name__)
# Built once: statement construction costs more than the SQL itself for one-event appends.
_BUMP = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(size=_HEAD.c.size + bindparam("k", type_=BigInteger()))
    .returning(_HEAD.c.size)
)
_INSERT = insert(_ENTRIES)
PAYLOAD_VERSION = 1


class AuditLog:
    """The tamper-evident audit log over one database (see module docstring for the locking)."""

    def __init__(
        self,
        engine: Engine,
        *,
        verifier: NoteVerifier | None = None,
        settings: Settings | None = None,
        install: bool = True,
    ) -> None:
        """``settings``: the install this database belongs to (its checkpoint key authenticates
        appends and signs automatic checkpoints, published to its witness). Without it, the
        environment's settings are used when ``engine`` is their database; ``install=False``
        gives a bare log (no key, no witness, no automatic checkpoints)."""
        self.engine = engine
        self._install = None
        if install:
            self._install = install_for(settings) if settings is not None else detect_install(engine)
        self.signer = self._install.signer if self._install else None
        self.witness = self._install.witness if self._install else None
        self.auto_checkpoints = self._install.auto if self._install else None
        self.retention_days = self._install.retention_days if self._install else None
        self._auth_key = self.signer.auth_key() if self.signer else None
        # checks stored and witnessed checkpoints' signatures during verify()
        self.verifier = verifier or (self.signer.verifier if self.signer else None)
        self._ensure_head()

    # ------------------------------------------------------------------ writing
    def append(
        self, session: Session, event: AuditEvent, *, actor: str = "cli", at: datetime | None = None
    ) -> LogEntry:
        """Appends one event inside ``session``'s transaction (no commit)."""
        return self.append_many(session, [event], actor=actor, at=at)[0]

    def append_many(
        self, session: Session, events: Sequence[AuditEvent], *, actor: str = "cli", at: datetime | None = None
    ) -> list[LogEntry]:
        """Appends events with consecutive leaf indices inside ``session``'s transaction."""
        prepared = [self._prepare(e, actor=actor, at=at) for e in events]
        if not prepared:
            return []
        try:
            conn = session.connection()  # Core on the session's connection: same transaction, less overhead
            new_size = conn.execute(_BUMP, {"k": len(prepared)}).scalar_one_or_none()
            if new_size is None:
                raise AuditIntegrityError("audit head row is missing: the log was tampered with")
            start = new_size - len(prepared)
            frontier = session_frontier(session, conn, start)
            rows = []
            for row in prepared:
                row["leaf_index"] = frontier.size
                row["nodes"] = frontier.push(bytes.fromhex(row["leaf_hash"]))
                row["root_hash"] = frontier.root().hex()
                row["auth_tag"] = None
                rows.append(row)
            if self._auth_key is not None:
                last = rows[-1]
                last["auth_tag"] = auth_tag(self._auth_key, last["leaf_index"], last["root_hash"])
            conn.execute(_INSERT, rows)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot append to the audit log: {reason(exc)}") from exc
        if self.auto_checkpoints is not None:
            note_pending(session, self, start, new_size)
        return [
            LogEntry(
                r["leaf_index"],
                r["event_id"],
                r["kind"],
                r["actor"],
                r["recorded_at"],
                r["leaf_hash"],
                r["root_hash"],
                r["payload"],
            )
            for r in rows
        ]

    def last_checkpoint_age_s(self) -> float | None:
        """Seconds since the newest stored checkpoint was signed (None: never)."""
        table = table_of(AuditCheckpointRecord)
        with self._connect(None) as conn:
            at = conn.execute(select(table.c.created_at).order_by(table.c.id.desc()).limit(1)).scalar_one_or_none()
        return None if at is None else max(0.0, (datetime.now(UTC) - utc(at)).total_seconds())

    def _prepare(self, event: AuditEvent, *, actor: str, at: datetime | None) -> dict[str, Any]:
        if not isinstance(event, AuditEvent):
            raise AuditError(f"not an audit event: {type(event).__name__}")
        recorded_at = utc(at) if at is not None else datetime.now(UTC)
        event_id = uuid.uuid4().hex
        try:
            body = event.body()
            payload = canonical_bytes(
                {
                    "v": PAYLOAD_VERSION,
                    "event_id": event_id,
                    "recorded_at": iso(recorded_at),
                    "actor": actor,
                    "event": body,
                }
            )
        except Exception as exc:  # pydantic / rfc8785 refuse NaN, bytes, non-str keys, …
            raise AuditError(f"audit event {event.kind!r} is not serialisable: {exc}") from exc
        return {
            "event_id": event_id,
            "kind": event.kind,
            "actor": actor,
            "recorded_at": recorded_at,
            "payload": payload,
            "leaf_hash": merkle.leaf_hash(payload).hex(),
            "pruned_at": None,
        }

    def _ensure_head(self) -> None:
        dialect = self.engine.dialect.name
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_HEAD).values(id=1, size=0)
        try:
            with self.engine.begin() as conn:  # read first: a read-only copy must still verify
                if conn.execute(select(_HEAD.c.id).where(_HEAD.c.id == 1)).first() is None:
                    conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot initialise the audit log: {reason(exc)}") from exc

    # ------------------------------------------------------------------ reading
    def _connect(self, session: Session | None) -> Conn:
        return Conn(self.engine, session)

    def size(self, session: Session | None = None) -> int:
        with self._connect(session) as conn:
            return int(conn.execute(select(_HEAD.c.size).where(_HEAD.c.id == 1)).scalar_one_or_none() or 0)

    def root(self, session: Session | None = None, *, size: int | None = None) -> str:
        """Hex root of the tree at ``size`` (default: now), from the cached subtree hashes."""
        with self._connect(session) as conn:
            size = self._size_at(conn, size)
            keys = merkle.compact_range(size)
            nodes = fetch_nodes(conn, keys)
            return merkle.root_from_compact([nodes[k] for k in keys]).hex()

    def _size_at(self, conn: Connection, size: int | None) -> int:
        current = int(conn.execute(select(_HEAD.c.size).where(_HEAD.c.id == 1)).scalar_one_or_none() or 0)
        if size is None:
            return current
        if not 0 <= size <= current:
            raise AuditError(f"tree size {size} is outside the log (current size {current})")
        return size

    def get(self, event_id: str, session: Session | None = None) -> AuditEntryPublic:
        with self._connect(session) as conn:
            row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.event_id == event_id)).mappings().first()
        if row is None:
            raise AuditError(f"no audit event with id {event_id!r}")
        return to_public(row)

    def get_at(self, leaf_index: int, session: Session | None = None) -> AuditEntryPublic:
        with self._connect(session) as conn:
            row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.leaf_index == leaf_index)).mappings().first()
        if row is None:
            raise AuditError(f"no audit event at leaf {leaf_index}")
        return to_public(row)

    def prove(self, event_id: str | int, *, size: int | None = None, session: Session | None = None) -> InclusionProof:
        """Inclusion proof of ``event_id`` (or a leaf index) in the tree at ``size``."""
        with self._connect(session) as conn:
            size = self._size_at(conn, size)
            column = _ENTRIES.c.leaf_index if isinstance(event_id, int) else _ENTRIES.c.event_id
            row = conn.execute(
                select(_ENTRIES.c.leaf_index, _ENTRIES.c.event_id, _ENTRIES.c.leaf_hash).where(column == event_id)
            ).first()
            if row is None:
                raise AuditError(f"no audit event with id {event_id!r}")
            if row.leaf_index >= size:
                raise AuditError(f"event {row.event_id} (leaf {row.leaf_index}) is not in a tree of size {size}")
            ranges = merkle.inclusion_ranges(row.leaf_index, size)
            root_keys = merkle.compact_range(size)
            nodes = fetch_nodes(conn, [k for lo, hi in ranges for k in merkle.range_keys(lo, hi)] + root_keys)
        path = tuple(merkle.range_hash(nodes, lo, hi).hex() for lo, hi in ranges)
        root = merkle.root_from_compact([nodes[k] for k in root_keys]).hex()
        return InclusionProof(row.event_id, row.leaf_index, size, row.leaf_hash, root, path)

    def consistency(
        self, old_size: int, new_size: int | None = None, *, session: Session | None = None
    ) -> ConsistencyProof:
        """Proof that the tree at ``old_size`` is a prefix of the tree at ``new_size``."""
        with self._connect(session) as conn:
            new_size = self._size_at(conn, new_size)
            if not 0 <= old_size <= new_size:
                raise AuditError(f"cannot prove size {old_size} against size {new_size}")
            ranges = merkle.consistency_ranges(old_size, new_size)
            old_keys, new_keys = merkle.compact_range(old_size), merkle.compact_range(new_size)
            nodes = fetch_nodes(conn, [k for lo, hi in ranges for k in merkle.range_keys(lo, hi)] + old_keys + new_keys)
        path = tuple(merkle.range_hash(nodes, lo, hi).hex() for lo, hi in ranges)
        return ConsistencyProof(
            old_size,
            new_size,
            merkle.root_from_compact([nodes[k] for k in old_keys]).hex(),
            merkle.root_from_compact([nodes[k] for k in new_keys]).hex(),
            path,
        )

    def events(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        kinds: Iterable[str] = (),
        limit: int | None = None,
        session: Session | None = None,
    ) -> Iterator[AuditEntryPublic]:
        """Entries in leaf order, optionally within [start, end) and of the given kinds."""
        query = select(_ENTRIES).order_by(_ENTRIES.c.leaf_index)
        if start is not None:
            query = query.where(_ENTRIES.c.recorded_at >= utc(start))
        if end is not None:
            query = query.where(_ENTRIES.c.recorded_at < utc(end))
        kinds = list(kinds)
        if kinds:
            query = query.where(_ENTRIES.c.kind.in_(kinds))
        if limit is not None:
            query = query.limit(limit)
        with self._connect(session) as conn:
            for row in conn.execute(query).mappings():
                yield to_public(row)

    def checkpoints(self, session: Session | None = None) -> list[AuditCheckpointRecord]:
        with self._connect(session) as conn:
            rows = conn.execute(select(table_of(AuditCheckpointRecord)).order_by("size", "id")).mappings()
            return [AuditCheckpointRecord(**dict(r)) for r in rows]

    # ------------------------------------------------------------------ verifying
    def verify(
        self,
        from_checkpoint: Checkpoint | str | bytes | Path | None = None,
        *,
        verifier: NoteVerifier | None = None,
        witness: Witness | None | bool = True,
        retention_days: int | None = None,
        cross_check: bool = True,
    ) -> VerifyResult:
        """Recomputes every leaf, subtree and root; checks stored, witnessed and given
        checkpoints, authentication tags, retention and the generation/registry tables.

        ``witness``: True for the log's own witness, False for none, or another witness.
        """
        from governance.records.audit.verify import verify_log

        if witness is True:
            witness = self.witness
        return verify_log(
            self,
            from_checkpoint,
            verifier=verifier or self.verifier,
            witness=witness or None,
            auth_key=self._auth_key,
            retention_days=retention_days or self.retention_days,
            cross_check=cross_check,
        )
