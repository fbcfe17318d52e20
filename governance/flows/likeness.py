"""The likeness guard: enrolled people's faces in prompts, references, outputs and incoming clips.

Public API (stable; the CLI, the API, the generate flow and reference checking call these)::

    from governance.flows.likeness import (
        enroll_person, remove_person, list_people,      # the registry
        scan_clip, check_likeness, check_prompt_likeness,  # the guard
        LikenessScan, LikenessCheck, PersonMatch, FaceSeen, LikenessBlocked,
    )
    person = enroll_person(ctx, "jane-doe", [photo1, photo2], name="Jane Doe")   # EnrolledPerson
    remove_person(ctx, "jane-doe")            # RemovedPerson; descriptors erased, removal audited
    scan = scan_clip(ctx, path_or_frames, fps=None, stage="scan")   # LikenessScan (audited)
    check = check_likeness(ctx, path_or_frames, scope="video", at=None, stage="reference",
                           fps=None, decision=None)                 # LikenessCheck, or raises
    check_prompt_likeness(ctx, decision)      # after a refused decision: raises for enrolled people

``path_or_frames``: a path to an image or a video (sizes checked before decoding), one
``(H, W, 3)`` uint8 RGB frame, a ``(F, H, W, 3)`` array, or any iterable of frames.

``check_likeness`` raises ``LikenessBlocked`` (exit code 5, a ``PolicyDenied``) when an enrolled
person is present without an active consent licence covering ``scope`` at ``at`` (default:
now). The error carries ``person_ids``, ``stage``, ``matches`` and a ``decision`` whose
``to_dict()`` names the people in ``persons`` (what ``generate --json`` prints). The refusal is
audited (``likeness.refusal``) before it is raised. When allowed, ``check.licenses`` maps each
licensed person to the licence used; ``check.audit_events(content_id=...)`` gives the
``likeness.scan`` and ``likeness.license_used`` events for the caller's own transaction (or
pass ``audit=True`` to log them at once). With nobody enrolled, nothing is decoded or scanned.

Matching: a face within ``settings.likeness_threshold`` of a person's nearest descriptor, in at
least ``settings.likeness_min_frames`` sampled frames (a still needs one). Both were chosen on
the DEV split of ``benchmarks/bench_likeness.py`` (docs/likeness.md has the held-out results).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.flows.context import FlowContext
from governance.flows.likeness_results import (
    FaceSeen,
    LikenessBlocked,
    LikenessCheck,
    LikenessScan,
    PersonMatch,
    RemovedPerson,
)

if TYPE_CHECKING:  # pragma: no cover
    from detectors.faces import ClipFaces, FaceEmbedder, SamplingConfig
    from governance.records.likeness import EnrolledPerson, LikenessStore
    from policies import PolicyDecision

__all__ = [
    "enroll_person",
    "remove_person",
    "list_people",
    "scan_clip",
    "check_likeness",
    "check_prompt_likeness",
    "LikenessScan",
    "LikenessCheck",
    "PersonMatch",
    "FaceSeen",
    "RemovedPerson",
    "LikenessBlocked",
    "likeness_store",
    "face_embedder",
    "sampling_config",
]

DEFAULT_FPS = 24.0


# -- components ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def face_embedder() -> FaceEmbedder:
    """The process's face model (dlib; its weights load on first use)."""
    from detectors.faces import DlibEmbedder

    return DlibEmbedder()


def likeness_store(ctx: FlowContext) -> LikenessStore:
    from governance.records.likeness import LikenessStore

    return LikenessStore(ctx.engine, passphrase=ctx.settings.key_passphrase, audit=ctx.audit)


def sampling_config(ctx: FlowContext, fps: float | None) -> SamplingConfig:
    from detectors.faces import SamplingConfig

    s = ctx.settings
    every = max(1, round((fps or DEFAULT_FPS) * s.likeness_sample_interval_s))
    return SamplingConfig(every=every, threshold=s.likeness_threshold, min_frames=s.likeness_min_frames)


# -- the registry ----------------------------------------------------------------------------
def enroll_person(
    ctx: FlowContext, person_id: str, photos: Sequence[str | Path], *, name: str | None = None, actor: str = "cli"
) -> EnrolledPerson:
    """Describe one face per photo, then store them all (nothing is stored if any photo fails)."""
    from detectors.video_io import read_image
    from governance.records.likeness import LikenessError, check_person_id

    person_id = check_person_id(person_id)
    if not photos:
        raise LikenessError("give at least one photo of the person's face")
    embedder = face_embedder()
    descriptors = []
    for photo in photos:
        image = read_image(photo, max_pixels=ctx.settings.likeness_photo_max_pixels)  # header checked first
        descriptors.append(embedder.single_face(image, what=str(photo)).descriptor)
    return likeness_store(ctx).enroll(
        person_id=person_id, descriptors=descriptors, embedder=embedder.name, name=name, actor=actor
    )


def remove_person(ctx: FlowContext, person_id: str, *, actor: str = "cli") -> RemovedPerson:
    """Erase a person's descriptors (the right to erasure); the audit log records the removal."""
    erased = likeness_store(ctx).remove(person_id=person_id, actor=actor)
    return RemovedPerson(person_id.strip().lower(), erased)


def list_people(ctx: FlowContext) -> list[EnrolledPerson]:
    return likeness_store(ctx).list()


# -- the guard -------------------------------------------------------------------------------
def _frames(ctx: FlowContext, source: Any, fps: float | None) -> tuple[Iterable[np.ndarray], float]:
    """Frames and their rate from a path, one frame, a (F, H, W, 3) array or an iterable."""
    from detectors.video_io import is_image_path, probe, read_frames, read_image

    if isinstance(source, (str, Path)):
        if is_image_path(source):
            return [read_image(source, max_pixels=ctx.settings.max_pixels)], fps or DEFAULT_FPS
        info = probe(source, max_pixels=ctx.settings.max_pixels, frame_limit=ctx.settings.max_frames)
        return read_frames(source, max_pixels=ctx.settings.max_pixels, frame_limit=ctx.settings.max_frames), info.fps
    if isinstance(source, np.ndarray) and source.ndim == 3:
        return [source], fps or DEFAULT_FPS
    return source, fps or DEFAULT_FPS


def _to_scan(found: ClipFaces, names: dict[str, str | None], fps: float, enrolled: int) -> LikenessScan:
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
        found.elapsed_s,
    )


def _scan(
    ctx: FlowContext, source: Any, *, fps: float | None, always: bool, max_samples: int | None = None
) -> LikenessScan:
    from detectors.faces import Gallery, scan_frames

    started = time.perf_counter()
    embedder = face_embedder()
    rows = likeness_store(ctx).gallery(embedder=embedder.name)
    enrolled = len(set(rows.person_ids))
    config = sampling_config(ctx, fps)
    if enrolled == 0 and not always:  # nobody to find: decode nothing
        return LikenessScan(0, 0, (), (), config.threshold, config.min_frames, 0, time.perf_counter() - started)
    frames, rate = _frames(ctx, source, fps)
    config = dataclasses.replace(sampling_config(ctx, rate), max_samples=max_samples)
    found = scan_frames(frames, embedder, Gallery(rows.person_ids, rows.descriptors), config)
    return _to_scan(found, rows.names, rate, enrolled)


def scan_clip(
    ctx: FlowContext,
    source: Any,
    *,
    fps: float | None = None,
    stage: str = "scan",
    actor: str = "cli",
    media_sha256: str | None = None,
    audit: bool = True,
    only_if_enrolled: bool = False,
    max_samples: int | None = None,
) -> LikenessScan:
    """Every face in the sampled frames with its nearest enrolled people; logged as ``likeness.scan``.

    ``only_if_enrolled``: with nobody enrolled, decode nothing and log nothing (``verify`` uses it).
    ``max_samples``: examine at most this many frames (a bound on time for long clips)."""
    from governance.records.likeness import LikenessScanEvent
    from governance.records.storage.db import session_scope

    scan = _scan(ctx, source, fps=fps, always=not only_if_enrolled, max_samples=max_samples)
    if not audit or (only_if_enrolled and scan.enrolled == 0):
        return scan
    with session_scope(ctx.engine) as session:
        entry = ctx.audit.append(
            session,
            LikenessScanEvent(
                stage=stage,
                media_sha256=media_sha256,
                frames_sampled=scan.frames_sampled,
                faces_found=len(scan.faces),
                person_ids=[m.person_id for m in scan.matches],
            ),
            actor=actor,
        )
    return dataclasses.replace(scan, audit_leaf_index=entry.leaf_index)


def _refusal_decision(
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


def _refuse(
    ctx: FlowContext,
    *,
    stage: str,
    person_ids: Sequence[str],
    scope: str,
    matches: Sequence[PersonMatch],
    decision: PolicyDecision | None,
    actor: str,
    content_id: str | None = None,
    media_sha256: str | None = None,
) -> LikenessBlocked:
    """Audit a likeness refusal and build the error to raise."""
    from governance.records.likeness import LikenessRefusalEvent
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        ctx.audit.append(
            session,
            LikenessRefusalEvent(
                stage=stage,
                person_ids=list(person_ids),
                scope=scope,
                matches=[
                    {"person_id": m.person_id, "distance": round(m.distance, 4), "frames": list(m.frames)}
                    for m in matches
                ],
                content_id=content_id,
                prompt_sha256=decision.prompt_sha256 if decision is not None else None,
                media_sha256=media_sha256,
            ),
            actor=actor,
        )
    jurisdiction = decision.jurisdiction if decision is not None else ctx.settings.jurisdiction
    if stage == "prompt" and decision is not None:
        reported = decision  # the policy's own decision: it already names the people in ``persons``
    else:
        reported = _refusal_decision(stage, person_ids, scope, decision, jurisdiction)
    return LikenessBlocked(stage=stage, person_ids=person_ids, scope=scope, matches=matches, decision=reported)


def check_likeness(
    ctx: FlowContext,
    source: Any,
    *,
    scope: str | None = None,
    at: datetime | None = None,
    stage: str = "output",
    fps: float | None = None,
    decision: PolicyDecision | None = None,
    actor: str = "cli",
    content_id: str | None = None,
    media_sha256: str | None = None,
    audit: bool = False,
) -> LikenessCheck:
    """The gate: LikenessBlocked (audited) when an enrolled person is present without a licence."""
    scope = scope or ctx.settings.likeness_scope
    at = at or datetime.now(UTC)
    scan = _scan(ctx, source, fps=fps, always=False)
    licenses: dict[str, str] = {}
    missing: list[str] = []
    for match in scan.matches:
        lic = ctx.consent.find_license(match.person_id, scope=scope, at=at)
        if lic is None:
            missing.append(match.person_id)
        else:
            licenses[match.person_id] = lic
    if missing:
        raise _refuse(
            ctx,
            stage=stage,
            person_ids=missing,
            scope=scope,
            actor=actor,
            content_id=content_id,
            matches=[m for m in scan.matches if m.person_id in missing],
            decision=decision,
            media_sha256=media_sha256,
        )
    check = LikenessCheck(stage, scope, scan, licenses, media_sha256)
    if audit and scan.enrolled:
        from governance.records.storage.db import session_scope

        with session_scope(ctx.engine) as session:
            ctx.audit.append_many(session, check.audit_events(content_id=content_id), actor=actor)
    return check


def check_prompt_likeness(
    ctx: FlowContext,
    decision: PolicyDecision,
    *,
    scope: str | None = None,
    at: datetime | None = None,
    actor: str = "cli",
) -> None:
    """After the policy asked for consent and found none: LikenessBlocked (exit 5, audited) when a
    person the prompt names is enrolled in the likeness registry; otherwise returns (the caller
    raises its own ``PolicyDenied``)."""
    if decision.allowed or not decision.persons:
        return
    scope = scope or ctx.settings.likeness_scope
    at = at or datetime.now(UTC)
    enrolled = likeness_store(ctx).is_enrolled(decision.persons)
    unlicensed = [
        p for p in decision.persons if p in enrolled and ctx.consent.find_license(p, scope=scope, at=at) is None
    ]
    if unlicensed:
        raise _refuse(
            ctx, stage="prompt", person_ids=unlicensed, scope=scope, matches=(), decision=decision, actor=actor
        )
