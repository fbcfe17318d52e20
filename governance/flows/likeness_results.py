"""The likeness guard's typed results and its refusal (``governance.flows.likeness`` re-exports
them): what a scan found, what the gate decided, and ``LikenessBlocked`` (exit 5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.core.errors import PolicyDenied

if TYPE_CHECKING:  # pragma: no cover
    from detectors.faces import FaceBox
    from governance.records.audit.events import AuditEvent
    from policies import PolicyDecision

__all__ = ["LikenessBlocked", "PersonMatch", "FaceSeen", "LikenessScan", "LikenessCheck", "RemovedPerson"]


class LikenessBlocked(PolicyDenied):
    """An enrolled person appears (prompt, reference or output) without a valid licence."""

    exit_code = 5

    def __init__(
        self,
        *,
        stage: str,
        person_ids: Sequence[str],
        scope: str,
        decision: PolicyDecision,
        matches: Sequence[PersonMatch] = (),
    ) -> None:
        self.stage, self.person_ids, self.scope, self.matches = stage, tuple(person_ids), scope, tuple(matches)
        self.decision = decision
        Exception.__init__(
            self,
            f"refused for likeness ({stage}): {', '.join(self.person_ids)} enrolled in the likeness "
            f"registry, no consent licence for scope {scope!r}",
        )


@dataclass(frozen=True)
class PersonMatch:
    """An enrolled person present in a clip (multi-frame agreement met)."""

    person_id: str
    name: str | None
    score: float  # 1 at distance 0, 0.5 at the threshold
    distance: float  # best descriptor distance over the frames
    frames: tuple[int, ...]  # sampled frame indices where the person matched
    first_seen_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            "score": round(self.score, 4),
            "distance": round(self.distance, 4),
            "frames": list(self.frames),
            "first_seen_s": round(self.first_seen_s, 3),
        }


@dataclass(frozen=True)
class FaceSeen:
    """A face in a sampled frame and its nearest enrolled people (person id, name, distance)."""

    frame: int
    time_s: float
    box: FaceBox
    nearest: tuple[tuple[str, str | None, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "time_s": round(self.time_s, 3),
            "box": self.box.to_dict(),
            "nearest": [{"person_id": p, "name": n, "distance": round(d, 4)} for p, n, d in self.nearest],
        }


@dataclass(frozen=True)
class LikenessScan:
    """Every face found in the sampled frames and the enrolled people present."""

    frames_seen: int
    frames_sampled: int
    faces: tuple[FaceSeen, ...]
    matches: tuple[PersonMatch, ...]
    threshold: float
    required_frames: int
    enrolled: int
    elapsed_s: float
    audit_leaf_index: int | None = None

    def summary_dict(self) -> dict[str, Any]:
        """What ``verify`` reports: the people present, not every face."""
        return {
            "matches": [m.to_dict() for m in self.matches],
            "enrolled": self.enrolled,
            "frames_sampled": self.frames_sampled,
            "faces_found": len(self.faces),
            "threshold": self.threshold,
            "required_frames": self.required_frames,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames_seen": self.frames_seen,
            "frames_sampled": self.frames_sampled,
            "faces": [f.to_dict() for f in self.faces],
            "matches": [m.to_dict() for m in self.matches],
            "threshold": self.threshold,
            "required_frames": self.required_frames,
            "enrolled": self.enrolled,
            "elapsed_s": round(self.elapsed_s, 3),
            "audit_leaf_index": self.audit_leaf_index,
        }


@dataclass(frozen=True)
class LikenessCheck:
    """The gate's answer: who is present, under which licence; ``allowed`` when all are licensed."""

    stage: str
    scope: str
    scan: LikenessScan
    licenses: dict[str, str]  # person id -> licence id used
    media_sha256: str | None = None

    @property
    def allowed(self) -> bool:
        return all(m.person_id in self.licenses for m in self.scan.matches)

    def audit_events(self, *, content_id: str | None = None) -> list[AuditEvent]:
        from governance.records.likeness import LikenessLicenseUsedEvent, LikenessScanEvent

        events: list[AuditEvent] = [
            LikenessScanEvent(
                stage=self.stage,
                media_sha256=self.media_sha256,
                content_id=content_id,
                frames_sampled=self.scan.frames_sampled,
                faces_found=len(self.scan.faces),
                person_ids=[m.person_id for m in self.scan.matches],
            )
        ]
        events += [
            LikenessLicenseUsedEvent(
                stage=self.stage, person_id=p, license_id=lic, scope=self.scope, content_id=content_id
            )
            for p, lic in sorted(self.licenses.items())
        ]
        return events

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "scope": self.scope,
            "allowed": self.allowed,
            "licenses": dict(self.licenses),
            "scan": self.scan.to_dict(),
        }


@dataclass(frozen=True)
class RemovedPerson:
    person_id: str
    descriptors_erased: int

    def to_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "descriptors_erased": self.descriptors_erased}
