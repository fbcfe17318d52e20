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
    scan = open_scan(ctx, video_path)         # ClipScan fed by the caller's own decode (verify), or None
    record_scan(ctx, scan.finish(), stage="verify", actor=..., media_sha256=...)   # audited LikenessScan

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
The gate does not describe faces that continue a confirmed person (``GATE_SKIPS_CONFIRMED``).

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
    ClipScan,
    FaceSeen,
    LikenessBlocked,
    LikenessCheck,
    LikenessScan,
    PersonMatch,
    RemovedPerson,
    refusal_decision,
)

if TYPE_CHECKING:  # pragma: no cover
    from detectors.faces import FaceEmbedder, SamplingConfig
    from governance.records.likeness import EnrolledPerson, GalleryRows, LikenessStore
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
    "open_scan",
    "record_scan",
    "ClipScan",
    "GATE_SKIPS_CONFIRMED",
]

DEFAULT_FPS = 24.0
# The gate (check_likeness) only needs who is present, so it does not describe a face that continues
# a confirmed person's track (detectors.faces.clips). Chosen on DEV (bench_likeness.py, choose_on_dev);
# scan_clip and verify report every face and always describe them all.
GATE_SKIPS_CONFIRMED = True


# -- components ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def face_embedder() -> FaceEmbedder:
    """The process's face model (dlib; its weights load on first use)."""
    from detectors.faces import DlibEmbedder

    return DlibEmbedder()


def likeness_store(ctx: FlowContext) -> LikenessStore:
    from governance.records.likeness import LikenessStore

    return LikenessStore(ctx.engine, passphrase=ctx.settings.key_passphrase, audit=ctx.audit)


def sampling_config(
    ctx: FlowContext, fps: float | None, *, gate: bool = False, max_samples: int | None = None
) -> SamplingConfig:
    """The clip sampling for ``fps``; ``gate``: the yes/no form (``GATE_SKIPS_CONFIRMED``)."""
    from detectors.faces import SamplingConfig

    s = ctx.settings
    every = max(1, round((fps or DEFAULT_FPS) * s.likeness_sample_interval_s))
    return SamplingConfig(
        every=every,
        threshold=s.likeness_threshold,
        min_frames=s.likeness_min_frames,
        max_samples=max_samples,
        skip_confirmed=gate and GATE_SKIPS_CONFIRMED,
    )


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


@dataclasses.dataclass(frozen=True)
class _Enrolled:
    embedder: FaceEmbedder
    rows: GalleryRows
    count: int  # people


def _enrolled(ctx: FlowContext) -> _Enrolled:
    embedder = face_embedder()
    rows = likeness_store(ctx).gallery(embedder=embedder.name)
    return _Enrolled(embedder, rows, len(set(rows.person_ids)))


def _clip_scan(
    ctx: FlowContext, enrolled: _Enrolled, fps: float, *, gate: bool = False, max_samples: int | None = None
) -> ClipScan:
    from detectors.faces import ClipScanner, Gallery

    config = sampling_config(ctx, fps, gate=gate, max_samples=max_samples)
    gallery = Gallery(enrolled.rows.person_ids, enrolled.rows.descriptors)
    return ClipScan(ClipScanner(enrolled.embedder, gallery, config), enrolled.rows.names, fps, enrolled.count)


def open_scan(ctx: FlowContext, path: str | Path, *, max_samples: int | None = None) -> ClipScan | None:
    """A full scan of the video at ``path`` for a caller that decodes it anyway (verify feeds it
    the frames it decodes for the watermark); None when nobody is enrolled. The file is probed
    (sizes and frame count checked against the limits, MediaTooLargeError), never decoded here."""
    from detectors.video_io import probe

    enrolled = _enrolled(ctx)
    if enrolled.count == 0:
        return None
    info = probe(path, max_pixels=ctx.settings.max_pixels, frame_limit=ctx.settings.max_frames)
    return _clip_scan(ctx, enrolled, info.fps, max_samples=max_samples)


def _scan(
    ctx: FlowContext,
    source: Any,
    *,
    fps: float | None,
    always: bool,
    gate: bool = False,
    max_samples: int | None = None,
) -> LikenessScan:
    started = time.perf_counter()
    enrolled = _enrolled(ctx)
    if enrolled.count == 0 and not always:  # nobody to find: decode nothing
        config = sampling_config(ctx, fps)
        return LikenessScan(0, 0, (), (), config.threshold, config.min_frames, 0, time.perf_counter() - started)
    frames, rate = _frames(ctx, source, fps)
    scan = _clip_scan(ctx, enrolled, rate, gate=gate, max_samples=max_samples)
    scan.started = started
    for frame in frames:
        scan.scanner.add(frame)  # not ClipScan.add: here a bad frame or a model error is the caller's error
        if scan.scanner.done:
            break
    return scan.finish()


def record_scan(
    ctx: FlowContext, scan: LikenessScan, *, stage: str, actor: str, media_sha256: str | None
) -> LikenessScan:
    """Log ``scan`` as a ``likeness.scan`` event; the scan with the event's leaf index."""
    from governance.records.likeness import LikenessScanEvent
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        entry = ctx.audit.append(
            session,
            LikenessScanEvent(
                stage=stage,
                media_sha256=media_sha256,
                frames_sampled=scan.frames_sampled,
                faces_found=scan.faces_found,
                person_ids=[m.person_id for m in scan.matches],
            ),
            actor=actor,
        )
    return dataclasses.replace(scan, audit_leaf_index=entry.leaf_index)


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
    scan = _scan(ctx, source, fps=fps, always=not only_if_enrolled, max_samples=max_samples)
    if not audit or (only_if_enrolled and scan.enrolled == 0):
        return scan
    return record_scan(ctx, scan, stage=stage, actor=actor, media_sha256=media_sha256)


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
        reported = refusal_decision(stage, person_ids, scope, decision, jurisdiction)
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
    scan = _scan(ctx, source, fps=fps, always=False, gate=True)
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
