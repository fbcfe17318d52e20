"""Audit tables: one row per leaf, one head row (the log size), signed checkpoints.

A leaf row keeps the exact canonical bytes that were hashed (``payload``), its leaf hash, the
hashes of every complete subtree that this leaf closes (``nodes``: level 1, 2, … concatenated,
32 bytes each) and the tree root after it (``root_hash``). Proofs read O(log² n) of those
cached subtree hashes; ``verify`` recomputes them all and names the first row that disagrees.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel

__all__ = ["AuditEntryBase", "AuditEntry", "AuditEntryPublic", "AuditHead", "AuditCheckpointRecord"]

# SQLite only aliases rowid for the exact type INTEGER; PostgreSQL gets 64-bit indices.
_INDEX = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntryBase(SQLModel):
    leaf_index: int = Field(sa_type=_INDEX, primary_key=True)
    event_id: str = Field(max_length=32, unique=True, index=True)
    kind: str = Field(max_length=64, index=True)
    actor: str = Field(max_length=128)
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    leaf_hash: str = Field(max_length=64, description="hex SHA-256(0x00 || payload)")


class AuditEntry(AuditEntryBase, table=True):
    """One leaf. Written once by ``AuditLog.append``; only retention ever clears ``payload``."""

    __tablename__ = "audit_entries"

    payload: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    nodes: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    root_hash: str = Field(max_length=64, description="hex tree root after this leaf")
    pruned_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # HMAC-SHA256 (key derived from the checkpoint key) over the leaf index and root after the
    # last leaf of each append: proves the tree up to here was written by ReelGuard.
    auth_tag: str | None = Field(default=None, max_length=64)


class AuditEntryPublic(AuditEntryBase):
    """What listings and reports show: the parsed event instead of raw bytes."""

    root_hash: str
    event: dict[str, Any] | None = None
    pruned: bool = False


class AuditHead(SQLModel, table=True):
    """The single row holding the log size: appenders lock it, so leaf order is commit order."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0, sa_type=_INDEX)


class AuditCheckpointRecord(SQLModel, table=True):
    """Every checkpoint the log signed, kept so ``verify`` can check the history against them."""

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(sa_type=_INDEX, index=True)
    root_hash: str = Field(max_length=64)
    origin: str = Field(max_length=256)
    key_id: str = Field(max_length=8)
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
