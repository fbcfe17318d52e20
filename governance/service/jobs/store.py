"""Job rows (keyword-only CRUD) and the audit lookup that makes job effects exactly-once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from governance.records.jobs import TERMINAL, Job, utcnow

__all__ = ["new_job_id", "create_job", "get_job", "finish_job", "committed_events", "job_actor", "JOB_TTL"]

JOB_TTL = timedelta(days=1)  # outputs are fetched within a day, then the job expires


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_actor(job_id: str, index: int | None = None) -> str:
    """The audit actor of a job's flow (one per clip for batches): the exactly-once key."""
    return f"job:{job_id}" if index is None else f"job:{job_id}:{index}"


def create_job(
    *,
    session: Session,
    kind: str,
    actor: str,
    request: dict[str, Any],
    owner: str | None = None,
    job_id: str | None = None,
    ttl: timedelta = JOB_TTL,
) -> Job:
    job = Job(
        job_id=job_id or new_job_id(), kind=kind, actor=actor, owner=owner, request=request, expires_at=utcnow() + ttl
    )
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str, lock: bool = False) -> Job | None:
    query = select(Job).where(Job.job_id == job_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        # NOWAIT: a job already running elsewhere raises at once instead of queueing behind it.
        query = query.with_for_update(nowait=True)
    return session.exec(query).first()


def finish_job(
    *, session: Session, job: Job, status: str, result: dict[str, Any] | None = None, error: str | None = None
) -> Job:
    job.status, job.result, job.error, job.updated_at = status, result, error, utcnow()
    session.add(job)
    return job


def is_expired(job: Job, now: datetime | None = None) -> bool:
    if job.expires_at is None:
        return False
    expires = job.expires_at if job.expires_at.tzinfo else job.expires_at.replace(tzinfo=UTC)
    return expires <= (now or utcnow())


def is_terminal(job: Job) -> bool:
    return job.status in TERMINAL


def committed_events(*, session: Session, actor: str) -> list[dict[str, Any]]:
    """The audit events a job's flow already committed (``{"kind", "leaf_index", "event"}``)."""
    from governance.records.audit.log import parse_payload
    from governance.records.audit.models import AuditEntry

    rows = session.execute(
        sa_select(col(AuditEntry.leaf_index), col(AuditEntry.kind), col(AuditEntry.payload))
        .where(col(AuditEntry.actor) == actor)
        .order_by(col(AuditEntry.leaf_index))
    ).all()
    out = []
    for leaf_index, kind, payload in rows:
        event = parse_payload(payload).get("event", {}) if payload else {}
        out.append({"kind": kind, "leaf_index": leaf_index, "event": event})
    return out
