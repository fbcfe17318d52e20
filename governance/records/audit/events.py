"""Typed audit events. Each has a stable ``kind`` and a canonical JSON body (RFC 8785), so the
hash of an event never depends on the database that stores it."""

from __future__ import annotations

from typing import Any, ClassVar

import rfc8785
from pydantic import BaseModel, ConfigDict

__all__ = [
    "AuditEvent",
    "PolicyDecisionEvent",
    "GenerationEvent",
    "WatermarkEmbeddedEvent",
    "ManifestSignedEvent",
    "OutputRegistryCheckEvent",
    "GenerationRecordedEvent",
    "VerificationEvent",
    "RegistryChangeEvent",
    "ConsentEvent",
    "KeyRotationEvent",
    "ReviewDecisionEvent",
    "RetentionEvent",
    "EVENT_TYPES",
    "canonical_json",
]


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes."""
    return rfc8785.dumps(value)


class AuditEvent(BaseModel):
    """Base of every audit event: ``kind`` names the type; the fields are the body."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str] = "event"

    def body(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.model_dump(mode="json")}


class PolicyDecisionEvent(AuditEvent):
    kind: ClassVar[str] = "policy.decision"
    prompt_sha256: str
    action: str
    category: str | None = None
    rule_id: str | None = None
    rule_ids: list[str] = []
    reason: str = ""
    pack_digest: str
    jurisdiction: str
    consent_license_id: str | None = None
    # Added by the audit owner: the jurisdiction duties the decision attached (e.g.
    # "deepfake-disclosure"), so reports check them from the record, not from configuration.
    obligations: list[str] = []


class GenerationEvent(AuditEvent):
    kind: ClassVar[str] = "generation.generated"
    content_id: str
    prompt_sha256: str
    model_id: str
    pipeline_class: str
    weights_digest: str
    seed: int
    steps: int
    width: int
    height: int
    num_frames: int
    fps: float
    jurisdiction: str
    labels_applied: list[str] = []


class WatermarkEmbeddedEvent(AuditEvent):
    kind: ClassVar[str] = "generation.watermarked"
    content_id: str
    scheme: str
    payload_hex: str
    psnr_db: float | None = None


class ManifestSignedEvent(AuditEvent):
    kind: ClassVar[str] = "generation.signed"
    content_id: str
    manifest_digest: str
    manifest_label: str
    file_sha256: str
    signer: str
    generation_leaf_index: int


class OutputRegistryCheckEvent(AuditEvent):
    kind: ClassVar[str] = "generation.registry_check"
    content_id: str
    outcome: str  # "clear" | "blocked" | "review"
    matches: list[dict[str, Any]] = []


class GenerationRecordedEvent(AuditEvent):
    kind: ClassVar[str] = "generation.recorded"
    content_id: str
    file_sha256: str
    output_name: str


class VerificationEvent(AuditEvent):
    kind: ClassVar[str] = "verification"
    file_sha256: str
    verdict: str
    reasons: list[str] = []
    flags: list[str] = []
    c2pa_state: str
    watermark_detected: bool
    payload_hex: str | None = None
    record_content_id: str | None = None


class RegistryChangeEvent(AuditEvent):
    kind: ClassVar[str] = "registry.change"
    action: str  # "add" | "remove" | "import"
    work_id: str
    owner: str
    title: str
    assets: int = 0


class ConsentEvent(AuditEvent):
    kind: ClassVar[str] = "consent"
    action: str  # "grant" | "revoke" | "use"
    license_id: str
    person: str
    scope: str | None = None
    expires_at: str | None = None


class KeyRotationEvent(AuditEvent):
    kind: ClassVar[str] = "keys.rotation"
    old_fingerprint: str | None
    new_fingerprint: str
    algorithm: str


class ReviewDecisionEvent(AuditEvent):
    """A human reviewer resolved a prompt the policy held for review."""

    kind: ClassVar[str] = "policy.review"
    prompt_sha256: str
    outcome: str  # "approved" | "rejected" | "expired"
    reviewer: str
    category: str | None = None
    rule_id: str | None = None


class RetentionEvent(AuditEvent):
    """Retention pruned event payloads (leaf hashes stay, so the log still verifies)."""

    kind: ClassVar[str] = "audit.retention"
    retention_days: int
    cutoff: str  # ISO 8601 UTC; payloads recorded before it were pruned
    pruned: int
    first_leaf: int | None = None
    last_leaf: int | None = None


EVENT_TYPES: dict[str, type[AuditEvent]] = {
    cls.kind: cls
    for cls in (
        PolicyDecisionEvent,
        GenerationEvent,
        WatermarkEmbeddedEvent,
        ManifestSignedEvent,
        OutputRegistryCheckEvent,
        GenerationRecordedEvent,
        VerificationEvent,
        RegistryChangeEvent,
        ConsentEvent,
        KeyRotationEvent,
        ReviewDecisionEvent,
        RetentionEvent,
    )
}
