"""The job table: one row per submitted job, the source of truth for its state.

Celery messages carry only the job id; everything a worker needs is read from this row, so a
redelivered message (worker death, retry) always sees the same request and the same outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

__all__ = ["JOB_KINDS", "JOB_STATES", "JobBase", "Job", "JobPublic"]

JOB_KINDS = ("generate", "verify-batch", "register-batch")
JOB_STATES = ("queued", "running", "done", "failed", "denied", "blocked")
TERMINAL = frozenset({"done", "failed", "denied", "blocked"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobBase(SQLModel):
    kind: str = Field(max_length=32, index=True)
    status: str = Field(default="queued", max_length=16, index=True)
    actor: str = Field(max_length=128, description="who submitted it: the key's holder and key id, as in the audit log")
    owner: str | None = Field(default=None, max_length=256)


class Job(JobBase, table=True):
    __tablename__ = "jobs"

    job_id: str = Field(primary_key=True, max_length=32)
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = None
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class JobPublic(JobBase):
    job_id: str
    request: dict[str, Any] = {}
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
