"""Retention: prune old event payloads, keep every leaf hash, subtree hash and root.

Pruning is the only mutation of the log. A pruned row keeps its leaf hash, so proofs, roots,
checkpoints and ``verify`` are unaffected; the prune itself is recorded as an
``audit.retention`` event in the same transaction. Retention and key-rotation events are never
pruned: they are the evidence that the retention duties were kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from governance.core.errors import AuditError, StorageError
from governance.records.audit.events import RetentionEvent
from governance.records.audit.log import AuditLog
from governance.records.audit.models import AuditEntry
from governance.records.storage.tables import table_of

__all__ = ["RetentionResult", "prune", "KEEP_KINDS"]

KEEP_KINDS = ("audit.retention", "keys.rotation")
_E = table_of(AuditEntry)


@dataclass(frozen=True)
class RetentionResult:
    retention_days: int
    cutoff: datetime
    pruned: int
    first_leaf: int | None
    last_leaf: int | None
    leaf_index: int  # of the audit.retention event that records this run


def prune(
    log: AuditLog,
    session: Session,
    *,
    retention_days: int,
    now: datetime | None = None,
    actor: str = "retention",
    minimum_days: int | None = None,
) -> RetentionResult:
    """Clears payloads recorded more than ``retention_days`` ago, in the caller's transaction.

    ``minimum_days`` (default: the install's ``settings.retention_days`` when the log knows its
    install) is the floor: a shorter period is refused, so nothing inside the retention period is
    ever pruned. ``verify`` independently flags payloads blanked inside the period.
    """
    if retention_days < 1:
        raise AuditError(f"retention period must be at least 1 day, got {retention_days}")
    floor = minimum_days if minimum_days is not None else getattr(log, "retention_days", None)
    if floor is not None and retention_days < floor:
        raise AuditError(
            f"cannot prune inside the retention period: {retention_days} days is shorter than the "
            f"configured {floor} days (settings.retention_days)"
        )
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    where = (_E.c.recorded_at < cutoff, _E.c.payload.is_not(None), _E.c.kind.not_in(KEEP_KINDS))
    try:
        first, last, count = session.execute(
            select(func.min(_E.c.leaf_index), func.max(_E.c.leaf_index), func.count()).where(*where)
        ).one()
        if count:
            session.execute(update(_E).where(*where).values(payload=None, pruned_at=now))
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot prune the audit log: {str(getattr(exc, 'orig', exc)).strip()}") from exc
    entry = log.append(
        session,
        RetentionEvent(
            retention_days=retention_days,
            cutoff=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"),
            pruned=int(count),
            first_leaf=first,
            last_leaf=last,
        ),
        actor=actor,
        at=now,
    )
    return RetentionResult(retention_days, cutoff, int(count), first, last, entry.leaf_index)
