"""Provenance verification of an incoming clip: C2PA read → watermark detect → registry
lookups → one verdict with its evidence → audit.

Verdicts (one per clip):
- ``authentic``: a trusted manifest whose soft binding agrees with the watermark in the pixels.
- ``recovered``: no manifest, but the watermark resolves to a record of ours (its manifest is
  recovered from the manifest store).
- ``tampered``: an invalid manifest, or a valid manifest that disagrees with the pixels (a
  manifest grafted onto another clip).
- ``untrusted``: a valid manifest from a signer outside the trust anchors.
- ``unknown``: no evidence either way.
``flags`` carries extra findings such as ``protected-match``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.flows.context import FlowContext

if TYPE_CHECKING:  # pragma: no cover
    from detectors.provenance import ProvenanceReport
    from detectors.watermark import Detection
    from governance.registry import WorkMatch
    from governance.storage.records import GenerationRecordPublic

__all__ = ["VerifyReport", "verify", "decide_verdict", "VERDICTS"]

VERDICTS = ("authentic", "recovered", "tampered", "untrusted", "unknown")


@dataclass(frozen=True)
class VerifyReport:
    path: str
    file_sha256: str
    provenance: "ProvenanceReport"
    watermark: "Detection"
    record: "GenerationRecordPublic | None"
    matches: tuple["WorkMatch", ...]
    verdict: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    recovered_manifest: dict[str, Any] | None = None
    audit_leaf_index: int | None = None
    frames_read: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        record = self.record.model_dump(mode="json") if self.record is not None else None
        return {
            "path": self.path,
            "file_sha256": self.file_sha256,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "flags": list(self.flags),
            "c2pa": self.provenance.to_dict(),
            "watermark": self.watermark.to_dict(),
            "registry": {
                "record": record,
                "matches": [m.to_dict() for m in self.matches],
                "recovered_manifest": self.recovered_manifest,
            },
            "audit_leaf_index": self.audit_leaf_index,
        }


def decide_verdict(
    provenance: "ProvenanceReport",
    watermark: "Detection",
    *,
    record_found: bool,
) -> tuple[str, list[str]]:
    """The verdict and its reasons from the three pieces of evidence (pure; no I/O)."""
    reasons: list[str] = []
    state = provenance.state
    binding = provenance.soft_binding
    if state == "invalid":
        codes = ", ".join(provenance.codes) or "no codes"
        return "tampered", [f"C2PA manifest is invalid ({codes})"]

    if state == "valid":
        # An outside signer's mark uses a key we do not hold: only our own mark can contradict it.
        reasons.append(f"C2PA manifest is valid but its signer ({provenance.signer}) is not in the trust anchors")
        if watermark.detected and binding is not None and watermark.payload is not None:
            if watermark.payload.hex() != binding.payload_hex.lower():
                return "tampered", reasons + [
                    f"pixels carry ReelGuard payload {watermark.payload.hex()}, not the declared {binding.payload_hex}"
                ]
        return "untrusted", reasons

    if state == "trusted":
        if not provenance.ok:  # c2pa-rs leaves the top level trusted when an ingredient fails
            codes = ", ".join(provenance.ingredient_codes) or "no codes"
            return "tampered", [f"an ingredient of the manifest failed validation ({codes})"]
        reasons.append(f"C2PA manifest is valid and signed by a trusted signer ({provenance.signer})")
        if binding is None:
            reasons.append("manifest carries no soft binding; pixels not cross-checked")
            return "authentic", reasons
        if not watermark.detected:
            return "tampered", [
                f"manifest declares a {binding.alg} watermark with payload {binding.payload_hex} but none is "
                "in the pixels (manifest grafted onto other content?)"
            ]
        if watermark.payload is None or watermark.payload.hex() != binding.payload_hex.lower():
            found = watermark.payload.hex() if watermark.payload is not None else "undecodable"
            return "tampered", [
                f"watermark payload in the pixels ({found}) does not match the manifest's soft binding "
                f"({binding.payload_hex})"
            ]
        reasons.append(f"soft binding {binding.payload_hex} agrees with the watermark in the pixels")
        return "authentic", reasons

    # No manifest: fall back to the watermark and our records.
    reasons.append("no C2PA manifest in the file")
    if watermark.detected and record_found:
        reasons.append(f"watermark payload {watermark.payload.hex()} resolves to a ReelGuard generation record")
        return "recovered", reasons
    if watermark.detected:
        payload = watermark.payload.hex() if watermark.payload is not None else "undecodable"
        reasons.append(f"ReelGuard watermark detected (p={watermark.p_value:.2e}) but payload {payload} has no record here")
        return "unknown", reasons
    reasons.append("no ReelGuard watermark detected")
    return "unknown", reasons


def verify(ctx: FlowContext, path: str | Path, *, actor: str = "cli", max_frames: int = 240) -> VerifyReport:
    """Verify one clip and log the verification; raises MediaError for non-video input."""
    from detectors.provenance import read_provenance
    from detectors.video_io import probe, read_coded_frames
    from governance.audit.events import VerificationEvent
    from governance.manifest_store import ManifestStore
    from governance.signing.sign import sha256_file
    from governance.storage.db import session_scope
    from governance.storage.records import GenerationRecordPublic, get_record_by_payload

    path = Path(path)
    probe(path, max_pixels=ctx.settings.max_pixels)  # a clear MediaError before any other work
    file_sha256 = sha256_file(path)
    provenance = read_provenance(path, trust_anchors_pem=ctx.trust_anchors_pem)

    # Frames stream into the detector (it may stop early once confident); the registry samples
    # the clip on its own schedule, so neither holds a long clip in memory.
    frames = read_coded_frames(path, max_frames=max_frames, max_pixels=ctx.settings.max_pixels)
    detection = ctx.watermark.detect(frames, key=ctx.watermark_key, max_frames=max_frames)
    matches = tuple(ctx.registry.match_path(path))

    record = None
    recovered = None
    if detection.detected and detection.payload is not None:
        with session_scope(ctx.engine) as session:
            row = get_record_by_payload(session=session, payload_hex=detection.payload.hex())
            record = GenerationRecordPublic.model_validate(row) if row is not None else None
    verdict, reasons = decide_verdict(provenance, detection, record_found=record is not None)
    if verdict == "recovered" and record is not None:
        recovered = ManifestStore(ctx.settings).load(record.content_id)
        if recovered is not None:
            reasons.append(f"original manifest {record.manifest_label} recovered from the manifest store")
    flags: list[str] = []
    if matches:
        flags.append("protected-match")
        reasons.append(
            "near-duplicate of protected work(s): "
            + ", ".join(f"{m.title!r} by {m.owner} (score {m.score:.2f})" for m in matches[:3])
        )
    if provenance.state != "absent" and not provenance.claims_ai_generated:
        flags.append("not-declared-ai")

    with session_scope(ctx.engine) as session:
        entry = ctx.audit.append(
            session,
            VerificationEvent(
                file_sha256=file_sha256,
                verdict=verdict,
                reasons=reasons,
                flags=flags,
                c2pa_state=provenance.state,
                watermark_detected=detection.detected,
                payload_hex=detection.payload.hex() if detection.payload is not None else None,
                record_content_id=record.content_id if record is not None else None,
            ),
            actor=actor,
        )
        leaf_index = entry.leaf_index

    return VerifyReport(
        path=str(path),
        file_sha256=file_sha256,
        provenance=provenance,
        watermark=detection,
        record=record,
        matches=matches,
        verdict=verdict,
        reasons=tuple(reasons),
        flags=tuple(flags),
        recovered_manifest=recovered,
        audit_leaf_index=leaf_index,
        frames_read=detection.frames_used,
    )
