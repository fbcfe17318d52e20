"""Registry tables: protected works, their media assets, and the assets' fingerprints.

SQLModel families as in full-stack-fastapi-template (``Base`` / ``Create`` / table / ``Public``).
Fingerprints are stored one row per (asset, kind) with the codes as a packed blob, not one row
per frame: a two-hour film has ~60k PDQ rows and ~2M ORB descriptors, which a row-per-code
table would turn into millions of ORM objects on every index rebuild.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

__all__ = [
    "ORIGIN_PROTECTED",
    "ORIGIN_GENERATED",
    "WorkBase",
    "WorkCreate",
    "Work",
    "WorkPublic",
    "AssetBase",
    "Asset",
    "AssetPublic",
    "FingerprintBase",
    "Fingerprint",
    "FingerprintPublic",
    "flushed_id",
]


ORIGIN_PROTECTED = "protected"
ORIGIN_GENERATED = "generated"


def _now() -> datetime:
    return datetime.now(UTC)


class WorkBase(SQLModel):
    title: str = Field(min_length=1, max_length=500)
    owner: str = Field(min_length=1, max_length=200, index=True)
    license: str | None = Field(default=None, max_length=500)


class WorkCreate(WorkBase):
    pass


class Work(WorkBase, table=True):
    __tablename__ = "registry_work"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=_now)
    # Whose the work is: "protected" (a rights holder's, matched as protected material) or
    # "generated" (one of our own outputs, kept so a clip that lost manifest and watermark can
    # still be traced to its record). Separate indexes per origin: an own output can never
    # surface as a protected-material match, whatever the thresholds.
    origin: str = Field(default=ORIGIN_PROTECTED, max_length=16, index=True)
    content_id: str | None = Field(default=None, max_length=64, index=True)  # generated: the record's id


class WorkPublic(WorkBase):
    id: str
    created_at: datetime
    assets: int = 0
    duration_s: float = 0.0


class AssetBase(SQLModel):
    name: str = Field(max_length=1000)  # file name as registered (no folders: they leak paths)
    sha256: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)  # "video" | "image"
    fps: float = 0.0
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    frames: int = 0  # frames decoded at registration


class Asset(AssetBase, table=True):
    __tablename__ = "registry_asset"

    id: int | None = Field(default=None, primary_key=True)
    work_id: str = Field(foreign_key="registry_work.id", index=True, ondelete="CASCADE", max_length=32)
    created_at: datetime = Field(default_factory=_now)


class AssetPublic(AssetBase):
    id: int
    work_id: str


class FingerprintBase(SQLModel):
    kind: str = Field(max_length=32)  # fingerprint name: "pdq" | "orb" | "layout"
    version: int = 1
    count: int = 0  # code rows
    keyframes: int = 0


class Fingerprint(FingerprintBase, table=True):
    """Packed arrays: ``codes`` (count, 32) uint8 (layout: (count, 6912) Y/Cr/Cb thumbnails), ``frames``
    (count,) int32 keyframe of each row, ``times`` (keyframes, 2) float32 [start, end] seconds,
    ``points`` (count, 2) float32 (keypoint positions; layout: aspect ratio, 0)."""

    __tablename__ = "registry_fingerprint"

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="registry_asset.id", index=True, ondelete="CASCADE")
    codes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    frames: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    times: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    points: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class FingerprintPublic(FingerprintBase):
    id: int
    asset_id: int


def flushed_id(row_id: int | None) -> int:
    """The id the database gave a row on ``flush`` (typed: the model's field is optional until then)."""
    if row_id is None:
        raise RuntimeError("the row has no id: flush the session before reading it")
    return row_id
