"""Reading audit rows: subtree hashes, public entries, typed events (no writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from governance.core.errors import AuditIntegrityError, StorageError
from governance.records.audit import merkle
from governance.records.audit.events import EVENT_TYPES, AuditEvent
from governance.records.audit.models import AuditEntry, AuditEntryPublic
from governance.records.audit.results import parse_payload, utc
from governance.records.storage.tables import table_of

__all__ = ["Conn", "fetch_nodes", "reason", "to_public", "typed_event"]

_ENTRIES = table_of(AuditEntry)


def fetch_nodes(conn: Connection, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Complete-subtree hashes by (level, index), read from the rows that closed them."""
    keys = list(dict.fromkeys(keys))
    owner = {k: ((k[1] + 1) << k[0]) - 1 for k in keys}  # the leaf that completed the subtree
    rows: dict[int, Any] = {}
    wanted = sorted(set(owner.values()))
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        for r in conn.execute(
            select(_ENTRIES.c.leaf_index, _ENTRIES.c.leaf_hash, _ENTRIES.c.nodes).where(
                _ENTRIES.c.leaf_index.in_(chunk)
            )
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
        leaf_index=row["leaf_index"],
        event_id=row["event_id"],
        kind=row["kind"],
        actor=row["actor"],
        recorded_at=utc(row["recorded_at"]),
        leaf_hash=row["leaf_hash"],
        root_hash=row["root_hash"],
        event=event,
        pruned=payload is None,
    )


def typed_event(public: AuditEntryPublic) -> AuditEvent | None:
    """The typed event of an entry (None when pruned or of a kind this version does not know)."""
    if public.event is None or public.kind not in EVENT_TYPES:
        return None
    body = {k: v for k, v in public.event.items() if k != "kind"}
    return EVENT_TYPES[public.kind].model_validate(body)


class Conn:
    """A connection inside the caller's session, or a short-lived one of our own."""

    def __init__(self, engine: Engine, session: Session | None) -> None:
        self.engine, self.session = engine, session
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        try:
            if self.session is not None:
                return self.session.connection()
            self.conn = self.engine.connect()
            return self.conn
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the audit log: {reason(exc)}") from exc

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.conn is not None:
            self.conn.close()
        if isinstance(exc, SQLAlchemyError):
            raise StorageError(f"cannot read the audit log: {reason(exc)}") from exc


def reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
