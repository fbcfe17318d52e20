"""The likeness guard's typed results and its refusal (``governance.flows.likeness`` re-exports
them): what a scan found, what the gate decided, and ``LikenessBlocked`` (exit 5)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from governance.core.errors import PolicyDenied

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from detectors.faces import ClipFaces, ClipScanner, FaceBox
    from governance.records.audit.events import AuditEvent
    from policies import PolicyDecision

_T = TypeVar("_T")

__all__ = [
    "LikenessBlocked",
    "PersonMatch",
    "FaceSeen",
    "LikenessScan",
    "LikenessCheck",
    "RemovedPerson",
    "scan_result",
    "ClipScan",
    "refusal_decision",
]


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
    faces_tracked: int = 0  # the gate's faces left undescribed: they continued a confirmed person

    @property
    def faces_found(self) -> int:
        return len(self.faces) + self.faces_tracked

    def summary_dict(self) -> dict[str, Any]:
        """What ``verify`` reports: the people present, not every face."""
        return {
            "matches": [m.to_dict() for m in self.matches],
            "enrolled": self.enrolled,
            "frames_sampled": self.frames_sampled,
            "faces_found": self.faces_found,
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
            "faces_tracked": self.faces_tracked,
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
                faces_found=self.scan.faces_found,
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


@dataclasses.dataclass
class ClipScan:
    """A face scan that a caller's decode pass feeds: ``add`` every frame of the clip in order
    (or pass them through ``tee``), ``drain`` the rest once the caller is done, then ``finish``.
    A face-model error stops the scan (``error`` says why) but never the caller's pass."""

    scanner: ClipScanner
    names: dict[str, str | None]
    fps: float
    enrolled: int
    started: float = dataclasses.field(default_factory=time.perf_counter)
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or self.scanner.done

    @property
    def frames_seen(self) -> int:
        return self.scanner.frames_seen

    def add(self, frame: np.ndarray) -> None:
        from detectors.errors import DetectorError

        if self.done:
            return
        try:
            self.scanner.add(frame)
        except DetectorError as exc:
            self.error = str(exc)

    def tee(self, frames: Iterable[_T]) -> Iterator[_T]:
        """``frames`` unchanged, each one also added (a ``CodedFrame`` by its picture)."""
        for item in frames:
            picture: Any = getattr(item, "frame", item)
            self.add(picture)
            yield item

    def drain(self, frames: Iterable[Any]) -> None:
        """Add frames from ``frames`` until the scan needs no more (``max_samples``) or they end;
        a decode error stops the scan, not the caller."""
        from detectors.errors import DetectorError

        try:
            for item in frames:
                if self.done:
                    return
                self.add(getattr(item, "frame", item))
        except DetectorError as exc:
            self.error = str(exc)

    def finish(self) -> LikenessScan:
        return scan_result(
            self.scanner.result(), self.names, self.fps, self.enrolled, time.perf_counter() - self.started
        )


def scan_result(
    found: ClipFaces, names: dict[str, str | None], fps: float, enrolled: int, elapsed_s: float
) -> LikenessScan:
    """A clip's faces (``detectors.faces.ClipFaces``) as the flows report them."""
    from detectors.faces import distance_score

    faces = tuple(
        FaceSeen(
            frame.index,
            frame.index / fps,
            face.box,
            tuple((c.person_id, names.get(c.person_id), c.distance) for c in cands),
        )
        for frame in found.sampled
        for face, cands in zip(frame.faces, frame.candidates, strict=True)
    )
    matches = tuple(
        PersonMatch(
            p.person_id,
            names.get(p.person_id),
            distance_score(p.distance, found.threshold),
            p.distance,
            p.frames,
            p.frames[0] / fps,
        )
        for p in found.present
    )
    return LikenessScan(
        found.frames_seen,
        found.frames_sampled,
        faces,
        matches,
        found.threshold,
        found.required_frames,
        enrolled,
        elapsed_s,
        faces_tracked=found.faces_tracked,
    )


def refusal_decision(
    stage: str, person_ids: Sequence[str], scope: str, base: PolicyDecision | None, jurisdiction: str
) -> PolicyDecision:
    """The decision a likeness refusal reports: the prompt's own when it exists, else a deny."""
    from policies import Action, PolicyDecision

    reason = (
        f"likeness of enrolled person(s) {', '.join(person_ids)} in the {stage} without a consent "
        f"licence for scope {scope!r}"
    )
    if base is not None:
        return dataclasses.replace(
            base,
            action=Action.DENY,
            allowed=False,
            category="likeness",
            rule_id=f"likeness.{stage}",
            reason=reason,
            persons=tuple(person_ids),
            consent_license_id=None,
        )
    return PolicyDecision(
        action=Action.DENY,
        allowed=False,
        category="likeness",
        rule_id=f"likeness.{stage}",
        reason=reason,
        hits=(),
        pack_digest="",
        jurisdiction=jurisdiction,
        obligations=(),
        prompt_sha256="",
        persons=tuple(person_ids),
    )
