"""Request and response models of the HTTP API (the OpenAPI schema is built from these).

Sub-documents produced by other packages (C2PA report, watermark detection, policy decision)
are passed through as JSON objects: their shape is owned and documented by those packages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.records.apikeys import ApiKeyCreated, ApiKeyPublic, JobPublic, Role  # noqa: F401  (re-exported)

__all__ = [
    "ErrorBody",
    "Me",
    "Health",
    "Reachable",
    "GenerationState",
    "PromptCheckIn",
    "DecisionOut",
    "GenerateIn",
    "GenerateOut",
    "VerifyOut",
    "WorkOut",
    "RegisteredOut",
    "MatchOut",
    "ConsentGrantIn",
    "ConsentRevokeIn",
    "ConsentOut",
    "AuditEventOut",
    "AuditStats",
    "ApiKeyIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Me(BaseModel):
    key_id: str
    role: Role
    owner: str | None = None


class DiskOut(BaseModel):
    free_bytes: int
    total_bytes: int
    status: Literal["ok", "low", "unavailable"]


Reachable = Literal["ok", "unavailable"]
GenerationState = Literal["ok", "in-process", "no-worker", "unavailable"]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok when the database answers and the disk is not low")
    database: Reachable
    queue: Reachable = Field(description="the broker (Redis) answers")
    queue_depth: int | None = Field(default=None, description="generation jobs waiting; null when the broker is down")
    # Counts and ages only: /healthz needs no key, and worker names carry internal host names.
    workers: int = Field(default=0, description="workers seen (heartbeat) on the generation queue")
    worker_last_seen_s: float | None = Field(default=None, description="seconds since the freshest worker heartbeat")
    generation: GenerationState = Field(
        default="unavailable", description="whether POST /api/generate would run now, and where"
    )
    disk: DiskOut | None = Field(default=None, description="space under REELGUARD_HOME (uploads, clips, database)")
    public_verify: bool = False


class PromptCheckIn(_In):
    prompt: str = Field(min_length=1, max_length=4000)
    jurisdiction: Literal["eu", "cn", "us-ca", "none"] | None = None


class DecisionOut(BaseModel):
    action: str
    allowed: bool
    category: str | None = None
    rule_id: str | None = None
    reason: str = ""
    jurisdiction: str | None = None
    obligations: list[str] = []
    pack_digest: str | None = None
    decision: dict[str, Any] = Field(description="the full PolicyDecision.to_dict()")


class GenerateIn(_In):
    prompt: str = Field(min_length=1, max_length=4000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    num_frames: int | None = Field(default=None, ge=1, le=240)
    width: int | None = Field(default=None, ge=64, le=1920, multiple_of=16)
    height: int | None = Field(default=None, ge=64, le=1080, multiple_of=16)
    steps: int | None = Field(default=None, ge=1, le=100)
    fps: float | None = Field(default=None, gt=0, le=60)
    jurisdiction: Literal["eu", "cn", "us-ca", "none"] | None = None


class GenerateOut(BaseModel):
    status: str = Field(description="queued | denied | review | require-consent")
    decision: DecisionOut
    job_id: str | None = None
    job_url: str | None = None
    clip_url: str | None = None
    runner: Literal["worker", "in-process"] | None = Field(default=None, description="who runs the queued job")


class VerifyOut(BaseModel):
    verdict: str
    reasons: list[str]
    flags: list[str]
    file_sha256: str
    media_type: str
    media_kind: str = Field(description="video, image, audio or manifest")
    size: int
    c2pa: dict[str, Any]
    disclosure: dict[str, Any] = Field(description="ai_generated (true / false / null), signals, label")
    watermark: dict[str, Any] | None = Field(description="null when the pixels were not examined")
    registry: dict[str, Any]
    likeness: dict[str, Any] = Field(
        default={"matches": [], "scanned": False},
        description="enrolled people whose faces appear: matches[] (person_id, name, score, frames, first_seen_s)",
    )
    audit_leaf_index: int | None = None
    audit_proof: dict[str, Any] | None = None
    thumbnails: list[str | None] = Field(default=[], description="data: URIs, one per registry match")


class WorkOut(BaseModel):
    id: str
    title: str
    owner: str
    license: str | None = None
    created_at: datetime
    assets: int = 0
    duration_s: float = 0.0


class RegisteredOut(BaseModel):
    work_id: str
    title: str
    owner: str
    license: str | None = None
    assets: int
    frames: int
    duplicate: bool


class MatchOut(BaseModel):
    matches: list[dict[str, Any]]
    thumbnails: list[str | None] = []


class ConsentGrantIn(_In):
    person_id: str = Field(min_length=1, max_length=200, pattern=r"^[a-z0-9][a-z0-9._\-]*$")
    person_name: str | None = Field(default=None, max_length=300)
    scope: str = Field(default="video", min_length=1, max_length=100)
    expires_at: datetime | None = None
    note: str | None = Field(default=None, max_length=1000)
    granted_by: str | None = Field(
        default=None, max_length=300, description="admins only; rights holders grant as their owner"
    )


class ConsentRevokeIn(_In):
    reason: str | None = Field(default=None, max_length=1000)


class ConsentOut(BaseModel):
    id: str
    person_id: str
    person_name: str | None = None
    granted_by: str
    scope: str
    expires_at: datetime | None = None
    note: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    active: bool = True


class AuditEventOut(BaseModel):
    leaf_index: int
    event_id: str
    kind: str
    actor: str
    recorded_at: datetime
    leaf_hash: str
    root_hash: str
    event: dict[str, Any] | None = None
    pruned: bool = False


class AuditStats(BaseModel):
    size: int
    root: str
    by_kind: dict[str, int]
    by_day: list[dict[str, Any]] = Field(description="[{day, kind, count}] for the last 30 days")
    verdicts: dict[str, int]


class ApiKeyIn(_In):
    name: str = Field(min_length=1, max_length=128)
    role: Role
    owner: str | None = Field(default=None, max_length=256)
