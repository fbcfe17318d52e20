"""API tables: hashed API keys (and, re-exported, the job table) in the shared metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import DateTime, String
from sqlmodel import Field, SQLModel

from governance.records.jobs import Job, JobPublic

__all__ = ["Role", "ApiKeyBase", "ApiKeyCreate", "ApiKey", "ApiKeyPublic", "ApiKeyCreated", "Job", "JobPublic"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Role(str, Enum):
    generator = "generator"
    verifier = "verifier"
    rights_holder = "rights-holder"
    auditor = "auditor"
    admin = "admin"


class ApiKeyBase(SQLModel):
    name: str = Field(max_length=128, description="who or what holds the key (free text)")
    role: Role = Field(sa_type=String(32))
    owner: str | None = Field(
        default=None, max_length=256, description="rights-holder keys: the owner name whose works they see"
    )


class ApiKeyCreate(ApiKeyBase):
    pass


class ApiKey(ApiKeyBase, table=True):
    """One key. Only the SHA-256 of the secret part is stored; ``key_id`` is the public prefix."""

    __tablename__ = "api_keys"

    key_id: str = Field(primary_key=True, max_length=16)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_utcnow, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ApiKeyPublic(ApiKeyBase):
    key_id: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKeyPublic):
    """Returned once, at creation: the only time the full token is shown."""

    token: str
