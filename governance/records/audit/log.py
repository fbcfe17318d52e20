"""AuditLog: append typed events in the caller's transaction, prove them, verify everything.

Leaf allocation: ``append`` bumps the single ``audit_head`` row (``UPDATE … SET size = size + k
RETURNING size``). On PostgreSQL that row lock, on SQLite the database write lock, is held until
the caller commits or rolls back, so concurrent writers queue, indices are gap-free, and the leaf
order is the commit order. A rollback undoes the bump with everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import event as sa_event
from sqlalchemy import BigInteger, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from governance.records.audit import merkle
from governance.records.audit.canonical import canonical_bytes
from governance.records.audit.events import EVENT_TYPES, AuditEvent
from governance.records.audit.models import AuditCheckpointRecord, AuditEntry, AuditEntryPublic, AuditHead
from governance.core.errors import AuditError, AuditIntegrityError, StorageError

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.settings import Settings
    from governance.records.audit.checkpoint import Checkpoint, NoteSigner, NoteVerifier
    from governance.records.audit.witness import AutoCheckpointer, Witness

__all__ = ["AuditLog", "LogEntry", "InclusionProof", "ConsistencyProof", "VerifyResult", "VerifyFailure",
           "WitnessCheck", "FailureCase", "parse_payload", "auth_tag"]

_ENTRIES = AuditEntry.__table__
_HEAD = AuditHead.__table__
_STATE_KEY = "reelguard.audit.frontier"
_PENDING_KEY = "reelguard.audit.pending"  # (log, first leaf, end) appended in this transaction
_logger = logging.getLogger(__name__)
# Built once: statement construction costs more than the SQL itself for one-event appends.
_BUMP = (update(_HEAD).where(_HEAD.c.id == 1).values(size=_HEAD.c.size + bindparam("k", type_=BigInteger()))
         .returning(_HEAD.c.size))
_INSERT = insert(_ENTRIES)
PAYLOAD_VERSION = 1


def _utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC
        return ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc)


def _iso(ts: datetime) -> str:
    """``2026-10-01T07:12:33.123456Z`` (fixed width: verify compares it byte for byte)."""
    return _utc(ts).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_payload(payload: bytes) -> dict[str, Any]:
    """The envelope stored in a leaf: ``{"v", "event_id", "recorded_at", "actor", "event"}``."""
    return json.loads(payload.decode("utf-8"))


def auth_tag(key: bytes, leaf_index: int, root_hex: str) -> str:
    """HMAC-SHA256 over ``"<leaf index>:<root hex>"``: the tree up to this leaf is ReelGuard's."""
    return hmac.new(key, f"{leaf_index}:{root_hex}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Install:
    """What an install adds to a bare log: its key, its witness, automatic checkpoints."""

    signer: NoteSigner
    witness: Witness
    auto: AutoCheckpointer
    retention_days: int


_INSTALLS: dict[tuple, _Install] = {}


def _install(settings: Settings) -> _Install:
    from governance.records.audit.checkpoint import load_or_create_signer
    from governance.records.audit.witness import AutoCheckpointer, witness_for

    key = (settings.resolved_database_url, str(settings.keys_path), settings.organisation, settings.audit_witness,
           str(settings.home), settings.audit_checkpoint_every_events, settings.audit_checkpoint_every_minutes,
           settings.retention_days)
    found = _INSTALLS.get(key)
    if found is None:
        signer = load_or_create_signer(settings)
        witness = witness_for(settings)
        auto = AutoCheckpointer(signer, witness, every_events=settings.audit_checkpoint_every_events,
                                every_minutes=settings.audit_checkpoint_every_minutes)
        found = _INSTALLS[key] = _Install(signer, witness, auto, settings.retention_days)
    return found


def _detect_install(engine: Engine) -> _Install | None:
    """The install whose database ``engine`` is (by the settings of this environment), or None."""
    try:
        from governance.core.settings import get_settings

        settings = get_settings()
        if settings.resolved_database_url != engine.url.render_as_string(hide_password=False):
            return None
        return _install(settings)
    except Exception as exc:  # no usable settings or key: a bare log (verify will say so)
        _logger.warning("audit log without the install's checkpoint key: %s", exc)
        return None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What ``append`` returns: where the event sits in the log and what was hashed."""

    leaf_index: int
    event_id: str
    kind: str
    actor: str
    recorded_at: datetime
    leaf_hash: str
    root_hash: str  # tree root right after this leaf
    payload: bytes  # the exact canonical bytes hashed into the leaf


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof of one event in the tree of ``tree_size`` leaves."""

    event_id: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root: str
    path: tuple[str, ...]

    def verify(self, root: str | None = None) -> bool:
        """Checks the proof against ``root`` (default: the root it was issued for)."""
        return merkle.verify_inclusion(
            bytes.fromhex(self.leaf_hash), self.leaf_index, self.tree_size,
            [bytes.fromhex(p) for p in self.path], bytes.fromhex(root or self.root),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "leaf_index": self.leaf_index, "tree_size": self.tree_size,
                "leaf_hash": self.leaf_hash, "root": self.root, "path": list(self.path)}


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    path: tuple[str, ...]

    def verify(self) -> bool:
        return merkle.verify_consistency(
            self.old_size, self.new_size, bytes.fromhex(self.old_root), bytes.fromhex(self.new_root),
            [bytes.fromhex(p) for p in self.path],
        )

    def to_dict(self) -> dict[str, Any]:
        return {"old_size": self.old_size, "new_size": self.new_size, "old_root": self.old_root,
                "new_root": self.new_root, "path": list(self.path)}


FailureCase = Literal[
    "leaf-edited", "leaf-missing", "leaf-moved", "leaf-inserted", "log-truncated", "log-rewritten",
    "unauthenticated", "pruned-early", "checkpoint-invalid", "checkpoint-rollback", "database-damaged",
    "record-mismatch", "record-missing", "record-unlogged", "registry-mismatch", "registry-missing",
    "registry-unlogged",
]


@dataclass(frozen=True)
class VerifyFailure:
    """One thing ``verify`` found wrong: which case, and which leaf, event or row."""

    case: FailureCase
    detail: str
    leaf: int | None = None
    event_id: str | None = None
    row: str | None = None  # "generation_record#12 (content …)", "registry_work/<id>", a witness file

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WitnessCheck:
    """What the external checkpoint said. ``status``: consistent | none | failed | not-configured."""

    location: str | None
    status: Literal["consistent", "none", "failed", "not-configured"]
    source: str | None = None  # the file or URL of the checkpoint checked against
    size: int | None = None
    root: str | None = None
    notes_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a full recomputation. ``first_bad_*`` name the first leaf that does not match;
    ``failures`` lists every failure found, each with its case."""

    ok: bool
    size: int
    root: str
    first_bad_index: int | None = None
    first_bad_event_id: str | None = None
    reason: str = ""
    checkpoints_checked: int = 0
    pruned: int = 0
    failures: tuple[VerifyFailure, ...] = ()
    witness: WitnessCheck | None = None
    authenticated_size: int | None = None  # leaves covered by a valid authentication tag (None: not checked)
    records_checked: int = 0  # generation_record rows cross-checked against their events
    registry_works_checked: int = 0
    unverifiable_records: int = 0  # rows whose events were pruned by retention

    @property
    def case(self) -> str | None:
        return self.failures[0].case if self.failures else None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("failures", "witness")}
        out["case"] = self.case
        out["failures"] = [f.to_dict() for f in self.failures]
        out["witness"] = self.witness.to_dict() if self.witness else None
        return out


@dataclass
class _Frontier:
    """Hashes of the complete subtrees covering D[0:size], largest first."""

    size: int
    levels: list[int] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)

    def push(self, h: bytes) -> bytes:
        """Adds a leaf hash; returns the concatenated hashes of the subtrees it completes."""
        index, level, closed = self.size, 0, []
        while index & 1:
            self.levels.pop()
            h = merkle.node_hash(self.hashes.pop(), h)
            closed.append(h)
            level, index = level + 1, index >> 1
        self.levels.append(level)
        self.hashes.append(h)
        self.size += 1
        return b"".join(closed)

    def root(self) -> bytes:
        return merkle.root_from_compact(self.hashes)


class AuditLog:
    """The tamper-evident audit log over one database (see module docstring for the locking)."""

    def __init__(
        self, engine: Engine, *, verifier: NoteVerifier | None = None, settings: Settings | None = None,
        install: bool = True,
    ) -> None:
        """``settings``: the install this database belongs to (its checkpoint key authenticates
        appends and signs automatic checkpoints, published to its witness). Without it, the
        environment's settings are used when ``engine`` is their database; ``install=False``
        gives a bare log (no key, no witness, no automatic checkpoints)."""
        self.engine = engine
        self._install = None
        if install:
            self._install = _install(settings) if settings is not None else _detect_install(engine)
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
            frontier = self._frontier(session, conn, start)
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
            raise StorageError(f"cannot append to the audit log: {_reason(exc)}") from exc
        if self.auto_checkpoints is not None:
            self._note_pending(session, start, new_size)
        return [LogEntry(r["leaf_index"], r["event_id"], r["kind"], r["actor"], r["recorded_at"], r["leaf_hash"],
                         r["root_hash"], r["payload"]) for r in rows]

    def _note_pending(self, session: Session, start: int, end: int) -> None:
        """Remember what this transaction appended; the checkpoint check runs after its commit."""
        pending = session.info.get(_PENDING_KEY)
        if pending is not None and pending[0] is self:
            start = min(start, pending[1])
            end = max(end, pending[2])
        session.info[_PENDING_KEY] = (self, start, end)
        if not session.info.get(_PENDING_KEY + ".hooked"):
            sa_event.listen(session, "after_commit", _after_commit)
            sa_event.listen(session, "after_rollback", _after_rollback)
            session.info[_PENDING_KEY + ".hooked"] = True

    def last_checkpoint_age_s(self) -> float | None:
        """Seconds since the newest stored checkpoint was signed (None: never)."""
        table = AuditCheckpointRecord.__table__
        with self._connect(None) as conn:
            at = conn.execute(select(table.c.created_at).order_by(table.c.id.desc()).limit(1)).scalar_one_or_none()
        return None if at is None else max(0.0, (datetime.now(timezone.utc) - _utc(at)).total_seconds())

    def _prepare(self, event: AuditEvent, *, actor: str, at: datetime | None) -> dict[str, Any]:
        if not isinstance(event, AuditEvent):
            raise AuditError(f"not an audit event: {type(event).__name__}")
        recorded_at = _utc(at) if at is not None else datetime.now(timezone.utc)
        event_id = uuid.uuid4().hex
        try:
            body = event.body()
            payload = canonical_bytes(
                {"v": PAYLOAD_VERSION, "event_id": event_id, "recorded_at": _iso(recorded_at),
                 "actor": actor, "event": body}
            )
        except Exception as exc:  # pydantic / rfc8785 refuse NaN, bytes, non-str keys, …
            raise AuditError(f"audit event {event.kind!r} is not serialisable: {exc}") from exc
        return {"event_id": event_id, "kind": event.kind, "actor": actor, "recorded_at": recorded_at,
                "payload": payload, "leaf_hash": merkle.leaf_hash(payload).hex(), "pruned_at": None}

    def _frontier(self, session: Session, conn: Connection, size: int) -> _Frontier:
        """The compact range at ``size``, cached on the session for the rest of its transaction."""
        cached = session.info.get(_STATE_KEY)
        if isinstance(cached, _Frontier) and cached.size == size:
            return cached
        if not session.info.get(_STATE_KEY + ".hooked"):
            sa_event.listen(session, "after_transaction_end", _forget_frontier)
            session.info[_STATE_KEY + ".hooked"] = True
        keys = merkle.compact_range(size)
        nodes = fetch_nodes(conn, keys)
        frontier = _Frontier(size, [k[0] for k in keys], [nodes[k] for k in keys])
        session.info[_STATE_KEY] = frontier
        return frontier

    def _ensure_head(self) -> None:
        dialect = self.engine.dialect.name
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_HEAD).values(id=1, size=0)
        try:
            with self.engine.begin() as conn:  # read first: a read-only copy must still verify
                if conn.execute(select(_HEAD.c.id).where(_HEAD.c.id == 1)).first() is None:
                    conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot initialise the audit log: {_reason(exc)}") from exc

    # ------------------------------------------------------------------ reading
    def _connect(self, session: Session | None) -> _Conn:
        return _Conn(self.engine, session)

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

    def prove(self, event_id: str, *, size: int | None = None, session: Session | None = None) -> InclusionProof:
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

    def consistency(self, old_size: int, new_size: int | None = None, *, session: Session | None = None) -> ConsistencyProof:
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
            old_size, new_size, merkle.root_from_compact([nodes[k] for k in old_keys]).hex(),
            merkle.root_from_compact([nodes[k] for k in new_keys]).hex(), path,
        )

    def events(
        self, *, start: datetime | None = None, end: datetime | None = None, kinds: Iterable[str] = (),
        limit: int | None = None, session: Session | None = None,
    ) -> Iterator[AuditEntryPublic]:
        """Entries in leaf order, optionally within [start, end) and of the given kinds."""
        query = select(_ENTRIES).order_by(_ENTRIES.c.leaf_index)
        if start is not None:
            query = query.where(_ENTRIES.c.recorded_at >= _utc(start))
        if end is not None:
            query = query.where(_ENTRIES.c.recorded_at < _utc(end))
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
            rows = conn.execute(select(AuditCheckpointRecord.__table__).order_by("size", "id")).mappings()
            return [AuditCheckpointRecord(**dict(r)) for r in rows]

    # ------------------------------------------------------------------ verifying
    def verify(
        self, from_checkpoint: Checkpoint | str | bytes | Path | None = None, *, verifier: NoteVerifier | None = None,
        witness: Witness | None | bool = True, retention_days: int | None = None, cross_check: bool = True,
    ) -> VerifyResult:
        """Recomputes every leaf, subtree and root; checks stored, witnessed and given
        checkpoints, authentication tags, retention and the generation/registry tables.

        ``witness``: True for the log's own witness, False for none, or another witness.
        """
        from governance.records.audit.verify import verify_log

        if witness is True:
            witness = self.witness
        return verify_log(
            self, from_checkpoint, verifier=verifier or self.verifier, witness=witness or None,
            auth_key=self._auth_key, retention_days=retention_days or self.retention_days, cross_check=cross_check,
        )


class _Conn:
    """A connection inside the caller's session, or a short-lived one of our own."""

    def __init__(self, engine: Engine, session: Session | None) -> None:
        self.engine, self.session, self.conn = engine, session, None

    def __enter__(self) -> Connection:
        try:
            if self.session is not None:
                return self.session.connection()
            self.conn = self.engine.connect()
            return self.conn
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the audit log: {_reason(exc)}") from exc

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.conn is not None:
            self.conn.close()
        if isinstance(exc, SQLAlchemyError):
            raise StorageError(f"cannot read the audit log: {_reason(exc)}") from exc


def _forget_frontier(session: Session, _transaction: Any) -> None:
    session.info.pop(_STATE_KEY, None)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is not None and pending[0].auto_checkpoints is not None:
        log, start, end = pending
        log.auto_checkpoints.after_commit(log, start, end)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fetch_nodes(conn: Connection, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Complete-subtree hashes by (level, index), read from the rows that closed them."""
    keys = list(dict.fromkeys(keys))
    owner = {k: ((k[1] + 1) << k[0]) - 1 for k in keys}  # the leaf that completed the subtree
    rows: dict[int, Any] = {}
    wanted = sorted(set(owner.values()))
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        for r in conn.execute(
            select(_ENTRIES.c.leaf_index, _ENTRIES.c.leaf_hash, _ENTRIES.c.nodes).where(_ENTRIES.c.leaf_index.in_(chunk))
        ):
            rows[r.leaf_index] = r
    out: dict[merkle.NodeKey, bytes] = {}
    for key, leaf in owner.items():
        row = rows.get(leaf)
        level = key[0]
        if row is None:
            raise AuditIntegrityError(f"audit leaf {leaf} is missing: run `reelguard audit verify`")
        value = bytes.fromhex(row.leaf_hash) if level == 0 else bytes(row.nodes)[(level - 1) * 32 : level * 32]
        if len(value) != 32:
            raise AuditIntegrityError(f"audit leaf {leaf} has damaged subtree hashes: run `reelguard audit verify`")
        out[key] = value
    return out


def to_public(row: Any) -> AuditEntryPublic:
    payload = row["payload"]
    event = parse_payload(bytes(payload))["event"] if payload is not None else None
    return AuditEntryPublic(
        leaf_index=row["leaf_index"], event_id=row["event_id"], kind=row["kind"], actor=row["actor"],
        recorded_at=_utc(row["recorded_at"]), leaf_hash=row["leaf_hash"], root_hash=row["root_hash"],
        event=event, pruned=payload is None,
    )


def typed_event(public: AuditEntryPublic) -> AuditEvent | None:
    """The typed event of an entry (None when pruned or of a kind this version does not know)."""
    if public.event is None or public.kind not in EVENT_TYPES:
        return None
    body = {k: v for k, v in public.event.items() if k != "kind"}
    return EVENT_TYPES[public.kind].model_validate(body)


def count_rows(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(_ENTRIES)).scalar_one())
