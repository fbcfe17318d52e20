"""Audit events of the likeness guard (kinds ``likeness.*``). None carries a descriptor or a
photo: enrolment records how many photos, removal that it happened, refusals and scans the
person ids matched, their best distance and where."""

from __future__ import annotations

from typing import Any, ClassVar

from governance.records.audit.events import EVENT_TYPES, AuditEvent

__all__ = [
    "LikenessEnrolledEvent",
    "LikenessRemovedEvent",
    "LikenessScanEvent",
    "LikenessRefusalEvent",
    "LikenessLicenseUsedEvent",
    "LIKENESS_EVENT_TYPES",
]


class LikenessEnrolledEvent(AuditEvent):
    kind: ClassVar[str] = "likeness.enroll"
    person_id: str
    name: str | None = None
    photos: int
    embedder: str
    encrypted: bool


class LikenessRemovedEvent(AuditEvent):
    """The right to erasure was exercised: the descriptors are gone, only this remains."""

    kind: ClassVar[str] = "likeness.remove"
    person_id: str
    descriptors_erased: int


class LikenessScanEvent(AuditEvent):
    kind: ClassVar[str] = "likeness.scan"
    stage: str  # "scan" | "verify" | "output" | "reference" | ...
    media_sha256: str | None = None
    content_id: str | None = None
    frames_sampled: int
    faces_found: int
    person_ids: list[str] = []  # enrolled people present (multi-frame agreement met)


class LikenessRefusalEvent(AuditEvent):
    kind: ClassVar[str] = "likeness.refusal"
    stage: str  # "prompt" | "reference" | "output"
    person_ids: list[str]
    scope: str
    matches: list[dict[str, Any]] = []  # person id, best distance, frames (no descriptors)
    content_id: str | None = None
    prompt_sha256: str | None = None
    media_sha256: str | None = None


class LikenessLicenseUsedEvent(AuditEvent):
    kind: ClassVar[str] = "likeness.license_used"
    stage: str
    person_id: str
    license_id: str
    scope: str
    content_id: str | None = None


LIKENESS_EVENT_TYPES: dict[str, type[AuditEvent]] = {
    cls.kind: cls
    for cls in (
        LikenessEnrolledEvent,
        LikenessRemovedEvent,
        LikenessScanEvent,
        LikenessRefusalEvent,
        LikenessLicenseUsedEvent,
    )
}

# Known to the audit log's typed reading (``typed_event``, reports) from the moment the storage
# models are loaded: records/storage/models.py imports this package.
EVENT_TYPES.update(LIKENESS_EVENT_TYPES)
