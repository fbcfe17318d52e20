"""Generation records: what ReelGuard made, keyed by the content id its watermark carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

__all__ = [
    "GenerationRecordBase",
    "GenerationRecordCreate",
    "GenerationRecord",
    "GenerationRecordPublic",
    "create_record",
    "get_record",
    "get_record_by_payload",
    "list_records",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class GenerationRecordBase(SQLModel):
    content_id: str = Field(index=True, unique=True, max_length=64)
    payload_hex: str = Field(index=True, max_length=64)
    watermark_scheme: str
    prompt_sha256: str
    policy_action: str
    policy_rule_id: str | None = None
    pack_digest: str
    jurisdiction: str
    obligations: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    labels_applied: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    model_id: str
    pipeline_class: str
    weights_digest: str
    seed: int
    steps: int
    width: int
    height: int
    num_frames: int
    fps: float
    manifest_digest: str
    manifest_label: str
    file_sha256: str = Field(index=True)
    output_name: str
    signer: str
    audit_leaf_index: int
    model_record: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    policy_decision: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class GenerationRecordCreate(GenerationRecordBase):
    pass


class GenerationRecord(GenerationRecordBase, table=True):
    __tablename__ = "generation_record"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=_utcnow)


class GenerationRecordPublic(GenerationRecordBase):
    id: int
    created_at: datetime


def create_record(*, session: Session, record_in: GenerationRecordCreate) -> GenerationRecord:
    record = GenerationRecord.model_validate(record_in)
    session.add(record)
    session.flush()
    return record


def get_record(*, session: Session, content_id: str) -> GenerationRecord | None:
    return session.exec(select(GenerationRecord).where(GenerationRecord.content_id == content_id)).first()


def get_record_by_payload(*, session: Session, payload_hex: str) -> GenerationRecord | None:
    return session.exec(select(GenerationRecord).where(GenerationRecord.payload_hex == payload_hex)).first()


def list_records(*, session: Session, limit: int = 100) -> list[GenerationRecord]:
    statement = select(GenerationRecord).order_by(col(GenerationRecord.id).desc()).limit(limit)
    return list(session.exec(statement))
