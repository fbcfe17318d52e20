"""Likeness tables: enrolled people and their face descriptors (never the photos).

A person row says who is enrolled (``person_id`` is the same id consent licences use); each
descriptor row holds one sealed face descriptor: AES-GCM under a key derived from the key
passphrase when one is set, else a plain framed copy (see ``governance.records.likeness.sealing``).
Removing a person deletes both kinds of row: the right to erasure leaves no descriptor behind;
the audit log keeps only that the removal happened.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

__all__ = ["LikenessPerson", "LikenessDescriptor", "LikenessKeyring"]

_ID = r"^[a-z0-9][a-z0-9._\-]*$"


def _now() -> datetime:
    return datetime.now(UTC)


class LikenessPerson(SQLModel, table=True):
    __tablename__ = "likeness_person"

    person_id: str = Field(primary_key=True, min_length=1, max_length=200, regex=_ID)
    name: str | None = Field(default=None, max_length=300)
    embedder: str = Field(max_length=64)  # descriptors from different models never compare
    photos: int = 0
    enrolled_by: str = Field(default="cli", max_length=128)
    created_at: datetime = Field(default_factory=_now)


class LikenessDescriptor(SQLModel, table=True):
    __tablename__ = "likeness_descriptor"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="likeness_person.person_id", index=True, max_length=200)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=_now)


class LikenessKeyring(SQLModel, table=True):
    """The one salt descriptors are sealed under, and a sealed check value: a wrong passphrase
    is told apart from damaged rows before any descriptor is read."""

    __tablename__ = "likeness_keyring"

    id: int = Field(default=1, primary_key=True)
    salt_hex: str = Field(max_length=64)
    check: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=_now)
