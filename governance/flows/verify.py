"""Provenance verification of incoming media: credentials → watermark → registry → one verdict
→ audit. The verdict rules are in ``governance.flows.verdict``.

Credentials are read for every supported file (video, image, audio, a bare ``.c2pa``),
whatever its size. The watermark and the registry look at pixels, so they run for video only,
and only within the pixel limits; ``stages`` picks what runs (``{"c2pa"}`` is the fast triage
path: no decoding at all).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detectors.errors import DetectorError, MediaError
from governance.flows.context import FlowContext
from governance.flows.likeness_results import ClipScan
from governance.flows.own_release import unrecorded_own_release
from governance.flows.verdict import VERDICTS, decide_verdict

if TYPE_CHECKING:  # pragma: no cover
    from detectors.provenance import Disclosure, ProvenanceReport
    from detectors.watermark import Detection
    from governance.flows.likeness import LikenessScan
    from governance.records.registry import WorkMatch
    from governance.records.storage.records import GenerationRecordPublic

__all__ = ["VerifyReport", "VerifyOptions", "Recovery", "verify", "decide_verdict", "VERDICTS", "STAGES"]

STAGES = frozenset({"c2pa", "watermark", "registry"})
_HASHER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reelguard-sha256")


@dataclass(frozen=True)
class VerifyOptions:
    stages: frozenset[str] = STAGES
    manifest: Path | None = None  # an explicit manifest store (sidecar) for the file
    max_frames: int = 240

    def __post_init__(self) -> None:
        unknown = set(self.stages) - STAGES
        if unknown or not self.stages:
            raise ValueError(f"stages must be a non-empty subset of {sorted(STAGES)}, got {sorted(self.stages)}")


@dataclass(frozen=True)
class Recovery:
    """The evidence behind a ``recovered`` verdict: which layer found the record, how strongly
    (watermark: the pilot's z-score; fingerprint: coverage x mean frame similarity, 0..1) and
    where (seconds of the query; for a fingerprint, also of our original clip)."""

    recovered_by: str  # "watermark" | "fingerprint"
    content_id: str
    score: float
    query_start: float | None = None
    query_end: float | None = None
    ref_start: float | None = None
    ref_end: float | None = None
    fingerprint: str | None = None  # "pdq" | "orb" | "layout" when recovered by fingerprint

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyReport:
    path: str
    file_sha256: str
    provenance: ProvenanceReport
    watermark: Detection | None
    record: GenerationRecordPublic | None
    matches: tuple[WorkMatch, ...]
    verdict: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    stages: tuple[str, ...] = ()
    disclosure: Disclosure | None = None  # when the flow knows more than the credentials (recovered)
    recovered_manifest: dict[str, Any] | None = None
    audit_leaf_index: int | None = None
    frames_read: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    recovery: Recovery | None = None  # how a ``recovered`` verdict found its record
    likeness: LikenessScan | None = None  # enrolled people's faces (issue 18); None: not scanned

    def to_dict(self, *, verbose: bool = True) -> dict[str, Any]:
        """The report as JSON values. ``verbose=False`` (the CLI's default ``--json``) leaves out
        the bulk a reader rarely needs: per-bit watermark confidences, the ReelGuard assertions'
        bodies, the recovered manifest (its label stays) and the record's copied model record
        and policy decision."""
        record = self.record.model_dump(mode="json") if self.record is not None else None
        watermark = self.watermark.to_dict() if self.watermark is not None else None
        recovered: Any = self.recovered_manifest
        if not verbose:
            if record is not None:
                record = {k: v for k, v in record.items() if k not in ("model_record", "policy_decision")}
            if watermark is not None:
                watermark.pop("bit_confidence", None)
            if recovered is not None:
                recovered = {"active_manifest": recovered.get("active_manifest")}
        return {
            "path": self.path,
            "file_sha256": self.file_sha256,
            "media_kind": self.provenance.media_kind,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "flags": list(self.flags),
            "stages": list(self.stages),
            "c2pa": self.provenance.to_dict(verbose=verbose),
            "disclosure": (self.disclosure or self.provenance.disclosure).to_dict(),
            "watermark": watermark,
            "registry": {
                "record": record,
                "matches": [m.to_dict() for m in self.matches],
                "recovered_manifest": recovered,
            },
            "audit_leaf_index": self.audit_leaf_index,
            "recovery": self.recovery.to_dict() if self.recovery is not None else None,
            "likeness": self.likeness.summary_dict()
            if self.likeness is not None
            else {"matches": [], "scanned": False},
        }


def verify(
    ctx: FlowContext,
    path: str | Path,
    *,
    actor: str | None = None,
    max_frames: int = 240,
    options: VerifyOptions | None = None,
) -> VerifyReport:
    """Verify one file and log the verification. MediaError for a file that is not media."""
    from detectors.provenance import read_provenance
    from governance.provenance.signing.sign import sha256_file

    options = options or VerifyOptions(max_frames=max_frames)
    actor = actor or ctx.actor  # None: the context's operator (``--actor`` or the OS user)
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    # The SHA-256 for the audit log runs beside c2pa-rs's own read (two cores, one pass each).
    digest: Future[str] = _HASHER.submit(sha256_file, path)
    try:
        provenance = read_provenance(path, trust=ctx.trust, sidecar=options.manifest, remote=ctx.remote_fetch)
    finally:
        file_sha256 = digest.result()
    reasons: list[str] = []
    detection, matches, frames_skipped, own = None, (), None, ()
    span: tuple = (None,) * 5
    faces = _open_faces(ctx, path, provenance, options)
    if provenance.media_kind == "video" and options.stages & {"watermark", "registry"}:
        try:
            detection, matches, frames_skipped, own, span = _pixels(ctx, path, options, provenance, faces)
        except DetectorError as exc:
            if provenance.manifest_label is None:
                raise  # no credentials were read either: the file's own error is the answer
            frames_skipped = f"pixels not examined: {exc}"  # the credentials still stand on their own
            if isinstance(faces, ClipScan) and faces.frames_seen == 0 and faces.error is None:
                faces.error = str(exc)  # not a frame decoded: nothing for the faces either
    record = _record_for(ctx, detection)
    recovery = None
    if record is not None and detection is not None:
        recovery = Recovery("watermark", record.content_id, round(float(detection.score), 4), *span)
    elif own:  # no manifest, no watermark: our own fingerprints (issue 21)
        record = _record_by_content(ctx, own[0].content_id)
        if record is not None:
            recovery = Recovery(
                "fingerprint",
                record.content_id,
                own[0].score,
                own[0].query_start,
                own[0].query_end,
                own[0].ref_start,
                own[0].ref_end,
                own[0].fingerprint,
            )
    unrecorded = unrecorded_own_release(ctx, provenance)
    verdict, verdict_reasons = decide_verdict(
        provenance,
        detection,
        record_found=record is not None,
        unrecorded_own_release=unrecorded,
        fingerprint_match=own[0] if own and recovery is not None and recovery.recovered_by == "fingerprint" else None,
    )
    reasons += verdict_reasons
    if frames_skipped:
        reasons.append(frames_skipped)
    recovered, disclosure = None, None
    if verdict == "recovered" and record is not None:
        from governance.provenance.manifest_store import ManifestStore

        recovered = ManifestStore(ctx.settings).load(record.content_id)
        if recovered is not None:
            reasons.append(f"original manifest {record.manifest_label} recovered from the manifest store")
        disclosure = _recovered_disclosure(record, by=recovery.recovered_by if recovery else "watermark")
    elif record is not None and provenance.disclosure.ai_generated is not True:
        disclosure = _recovered_disclosure(record)  # stripped or broken credentials: the record still says it
    flags = _flags(provenance, matches, reasons)
    likeness = _likeness(ctx, faces, actor=actor, file_sha256=file_sha256, reasons=reasons)
    if likeness is not None and likeness.matches:
        flags.append("likeness-match")
    if unrecorded:
        flags.append("unrecorded-release")
    stages = tuple(sorted(options.stages)) if provenance.media_kind == "video" else ("c2pa",)
    leaf_index = _audit(
        ctx,
        actor=actor,
        file_sha256=file_sha256,
        verdict=verdict,
        reasons=reasons,
        flags=flags,
        provenance=provenance,
        detection=detection,
        record=record,
    )
    return VerifyReport(
        path=str(path),
        file_sha256=file_sha256,
        provenance=provenance,
        watermark=detection,
        record=record,
        matches=tuple(matches),
        verdict=verdict,
        reasons=tuple(reasons),
        flags=tuple(flags),
        stages=stages,
        disclosure=disclosure,
        recovered_manifest=recovered,
        audit_leaf_index=leaf_index,
        frames_read=detection.frames_used if detection is not None else 0,
        recovery=recovery if verdict == "recovered" else None,
        likeness=likeness,
    )


def _open_faces(
    ctx: FlowContext, path: Path, provenance: ProvenanceReport, options: VerifyOptions
) -> ClipScan | str | None:
    """The face scan (registry stage, videos) that ``_pixels``' decode pass feeds: None when nobody
    is enrolled (no frame examined), a reason when it cannot run; 120 samples (a minute) at most."""
    if provenance.media_kind != "video" or "registry" not in options.stages:
        return None
    from governance.flows.likeness import open_scan

    try:
        return open_scan(ctx, path, max_samples=120)
    except DetectorError as exc:
        return f"faces not examined: {exc}"


def _likeness(
    ctx: FlowContext, faces: ClipScan | str | None, *, actor: str, file_sha256: str, reasons: list[str]
) -> LikenessScan | None:
    """Enrolled people's faces, scanned in ``_pixels``' decode pass; logged as ``likeness.scan``."""
    if faces is None or isinstance(faces, str):
        reasons += [faces] if faces else []
        return None
    from governance.flows.likeness import record_scan

    if faces.error is not None:
        reasons.append(f"faces not examined: {faces.error}")
        return None
    scan = record_scan(ctx, faces.finish(), stage="verify", actor=actor, media_sha256=file_sha256)
    for m in scan.matches:
        reasons.append(
            f"face of enrolled person {m.person_id} (score {m.score:.2f}, {len(m.frames)} frames, "
            f"first at {m.first_seen_s:.2f} s)"
        )
    return scan


def _recovered_disclosure(record: GenerationRecordPublic, *, by: str = "watermark") -> Disclosure:
    """Our own record says it: a ReelGuard generation is AI-made, whatever was stripped."""
    from detectors.provenance import Disclosure

    return Disclosure(
        ai_generated=True,
        signals=("fullyGenAIMedia",),
        tool=record.model_id,
        label=f"Made with AI: {record.model_id}, generated {record.created_at:%Y-%m-%d} "
        f"(credentials recovered from the {by})",
    )


def _pixels(
    ctx: FlowContext, path: Path, options: VerifyOptions, provenance: ProvenanceReport, faces: ClipScan | str | None
) -> tuple[Any, tuple[Any, ...], str | None, tuple[Any, ...], tuple]:
    """Watermark detection and registry matching (protected works; our own outputs only when
    neither credentials nor the watermark lead to a record); MediaError when the frames are over
    the limits or do not decode. The last item is the watermark's time span (start, end, None x3).
    ``faces`` (a ``ClipScan``) sees every frame the watermark pass decodes, then the rest it needs."""
    from detectors.video_io import probe, read_coded_frames

    info = probe(path, max_pixels=ctx.settings.max_pixels)  # refuses huge declared sizes before decoding
    detection = None
    face_scan = faces if isinstance(faces, ClipScan) else None
    if "watermark" in options.stages or face_scan is not None:
        # One decode pass: frames stream into the watermark detector (it may stop early once
        # confident) and the face scan, which then reads on from the same decoder up to its bound.
        coded = read_coded_frames(
            path, max_frames=options.max_frames if face_scan is None else None, max_pixels=ctx.settings.max_pixels
        )
        try:
            if "watermark" in options.stages:
                frames = coded if face_scan is None else face_scan.tee(coded)
                detection = ctx.watermark.detect(frames, key=ctx.watermark_key, max_frames=options.max_frames)
        finally:
            if face_scan is not None:
                face_scan.drain(coded)  # even when the watermark failed: the faces stand on their own
    span = (
        0.0,
        round(detection.frames_used / info.fps, 3) if detection is not None and info.fps else None,
        None,
        None,
        None,
    )
    if "registry" not in options.stages:
        return detection, (), None, (), span
    own = provenance.state == "absent" and _record_for(ctx, detection) is None
    scan = ctx.registry.scan_path(path, own=own)
    return detection, scan.matches, None, scan.own, span


def _record_by_content(ctx: FlowContext, content_id: str) -> GenerationRecordPublic | None:
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecordPublic, get_record

    with session_scope(ctx.engine) as session:
        row = get_record(session=session, content_id=content_id)
        return GenerationRecordPublic.model_validate(row) if row is not None else None


def _record_for(ctx: FlowContext, detection: Detection | None) -> GenerationRecordPublic | None:
    if detection is None or not detection.detected or detection.payload is None:
        return None
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecordPublic, get_record_by_payload

    with session_scope(ctx.engine) as session:
        row = get_record_by_payload(session=session, payload_hex=detection.payload.hex())
        return GenerationRecordPublic.model_validate(row) if row is not None else None


def _flags(provenance: ProvenanceReport, matches: tuple[Any, ...], reasons: list[str]) -> list[str]:
    flags: list[str] = []
    if matches:
        flags.append("protected-match")
        reasons.append(
            "near-duplicate of protected work(s): "
            + ", ".join(f"{m.title!r} by {m.owner} (score {m.score:.2f})" for m in matches[:3])
        )
    if provenance.disclosure.ai_generated is True:
        flags.append("ai-generated")
    elif provenance.state != "absent":
        flags.append("not-declared-ai")
    bad = [i for i in provenance.ingredients if i.state == "invalid"]
    if bad:
        flags.append("ingredient-invalid")
        reasons += [f"ingredient {i.title or i.manifest_label!r} failed validation: {', '.join(i.codes)}" for i in bad]
    if provenance.source == "remote":
        flags.append("remote-manifest")
    return flags


def _audit(
    ctx: FlowContext,
    *,
    actor: str,
    file_sha256: str,
    verdict: str,
    reasons: list[str],
    flags: list[str],
    provenance: ProvenanceReport,
    detection: Detection | None,
    record: Any,
) -> int:
    from governance.records.audit.events import VerificationEvent
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        entry = ctx.audit.append(
            session,
            VerificationEvent(
                file_sha256=file_sha256,
                verdict=verdict,
                reasons=reasons,
                flags=flags,
                c2pa_state=provenance.state,
                watermark_detected=bool(detection is not None and detection.detected),
                payload_hex=detection.payload.hex()
                if detection is not None and detection.payload is not None
                else None,
                record_content_id=record.content_id if record is not None else None,
            ),
            actor=actor,
        )
        return entry.leaf_index
