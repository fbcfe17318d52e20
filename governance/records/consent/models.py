"""Consent tables: likeness licences, and protected names that rights holders register.

SQLModel families (``Base`` / ``Create`` / table / ``Public``). A licence belongs to a person id
(the entity id the policy packs use, e.g. ``taylor-swift``, or one registered here), covers a
scope (``video``, ``video:ads``, or ``*``), may expire, and is revoked by setting ``revoked_at``:
rows are never deleted, so an old generation record's licence id always resolves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import overload

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

__all__ = [
    "ConsentLicenseBase",
    "ConsentLicenseCreate",
    "ConsentLicense",
    "ConsentLicensePublic",
    "ProtectedNameBase",
    "ProtectedNameCreate",
    "ProtectedName",
    "ProtectedNamePublic",
    "as_utc",
]

_ID = r"^[a-z0-9][a-z0-9._\-]*$"


def _now() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """Aware UTC (SQLite hands datetimes back naive; they were stored as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ConsentLicenseBase(SQLModel):
    person_id: str = Field(index=True, min_length=1, max_length=200, regex=_ID)
    person_name: str | None = Field(default=None, max_length=300)
    granted_by: str = Field(min_length=1, max_length=300)  # the person or their agent
    scope: str = Field(default="video", min_length=1, max_length=100)
    expires_at: datetime | None = None
    note: str | None = Field(default=None, max_length=1000)
    # SHA-256 of the signed release / consent form the grant rests on (the file stays with the
    # operator; the digest proves later which document it was).
    evidence_sha256: str | None = Field(default=None, min_length=64, max_length=64)


class ConsentLicenseCreate(ConsentLicenseBase):
    pass


class ConsentLicense(ConsentLicenseBase, table=True):
    __tablename__ = "consent_license"

    id: str = Field(default_factory=lambda: "lic_" + uuid.uuid4().hex, primary_key=True, max_length=40)
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=300)
    revoke_reason: str | None = Field(default=None, max_length=1000)


class ConsentLicensePublic(ConsentLicenseBase):
    id: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    active: bool = True


class ProtectedNameBase(SQLModel):
    """Names (and name-free descriptions) a person or rights holder asks the policy to protect."""

    subject_id: str = Field(index=True, min_length=1, max_length=200, regex=_ID)
    kind: str = Field(default="person", max_length=16)  # "person" (likeness) | "work" (character)
    owner: str = Field(min_length=1, max_length=300)
    names: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    descriptions: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    work_id: str | None = Field(default=None, max_length=32)  # protected-material registry work


class ProtectedNameCreate(ProtectedNameBase):
    pass


class ProtectedName(ProtectedNameBase, table=True):
    __tablename__ = "consent_protected_name"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=_now)


class ProtectedNamePublic(ProtectedNameBase):
    id: str
    created_at: datetime
