"""Reading the audit log for verification: one read snapshot, rows streamed as plain tuples, and
the per-row checks of a stored payload against its leaf hash and envelope columns.

Kept apart from the verification walk (verify.py) because this is where the storage details
live: the SQLite snapshot trick, the raw-driver fast path, the column text formats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from governance.core.errors import StorageError
from governance.records.audit.canonical import canonical_bytes
from governance.records.audit.models import AuditEntry
from governance.records.storage.tables import table_of

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.audit.log import AuditLog

__all__ = ["event_id_at", "iso", "row_problem", "rows", "snapshot"]

_E = table_of(AuditEntry)
_sha256 = hashlib.sha256


def _columns(dialect: str) -> tuple:
    # SQLite: read the stored timestamp text as is; parsing a million datetimes costs seconds.
    recorded = type_coerce(_E.c.recorded_at, String).label("recorded_at") if dialect == "sqlite" else _E.c.recorded_at
    return (
        _E.c.leaf_index,
        _E.c.event_id,
        _E.c.kind,
        _E.c.actor,
        recorded,
        _E.c.leaf_hash,
        _E.c.payload,
        _E.c.nodes,
        _E.c.root_hash,
        _E.c.pruned_at,
        _E.c.auth_tag,
    )


@contextmanager
def snapshot(log: AuditLog) -> Iterator[Connection]:
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
            with log.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
                yield conn
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read the audit log: {str(getattr(exc, 'orig', exc)).strip()}") from exc


def iso(ts: Any) -> str:
    """The payload's ``recorded_at`` text from the column (raw SQLite text or a datetime)."""
    if isinstance(ts, str):  # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, as written)
        return f"{ts[:10]}T{ts[11:26]}Z"
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def row_problem(
    event_id: str, kind: str, actor: str, ts: Any, leaf_hex: str, payload: Any, pruned_at: Any
) -> tuple[bytes, str | None]:
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
    tail = f',"event_id":"{event_id}","recorded_at":"{iso(ts)}","v":1}}'.encode()
    if not (payload.startswith(_head(actor)) and payload.endswith(tail) and _kind(kind) in payload):
        return digest, "event id, kind, actor or time columns differ from the hashed payload"
    return digest, None


@lru_cache(maxsize=1024)
def _head(actor: str) -> bytes:
    return b'{"actor":' + canonical_bytes(actor) + b',"event":{'


@lru_cache(maxsize=1024)
def _kind(kind: str) -> bytes:
    return b'"kind":' + canonical_bytes(kind)


def rows(conn: Connection, log: AuditLog) -> Iterator[tuple]:
    """Every row in leaf order as plain tuples, streamed."""
    dialect = log.engine.dialect.name
    stmt = select(*_columns(dialect)).order_by(_E.c.leaf_index)
    driver = conn.connection.driver_connection
    if dialect == "sqlite" and driver is not None:  # the driver cursor directly: no per-row SQLAlchemy processing
        cursor = driver.cursor()
        cursor.execute(str(stmt.compile(dialect=conn.dialect)))
        while batch := cursor.fetchmany(20_000):
            yield from batch
        cursor.close()
        return
    for row in conn.execution_options(stream_results=True, yield_per=20_000).execute(stmt):
        yield tuple(row)


def event_id_at(conn: Connection, index: int) -> str | None:
    return conn.execute(select(_E.c.event_id).where(_E.c.leaf_index == index)).scalar_one_or_none()
