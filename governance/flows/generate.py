"""Compliance-gated generation: prompt → policy → model → label → watermark → H.264 → C2PA →
registry and audit, in that order, with no way around any stage.

Nothing leaves unmarked, unsigned or unlogged: the signed file is written under a hidden temp
name and renamed to the requested output only after the generation record and its audit events
are committed in one transaction. A denied prompt is logged and never reaches the model.

Crash safety: the hidden temps are listed in an in-flight journal (``governance.flows.doctor``)
before they are created, so a process killed at any point leaves nothing that the next flow
context or ``reelguard doctor`` cannot clean up (or, after the commit, finish).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.core.errors import OutputError, OutputExistsError, PolicyDenied, ReelGuardError
from governance.flows.context import FlowContext
from governance.flows.doctor import InflightJournal, fsync_dir, remove_stored_manifest, temp_paths
from governance.flows.labels import apply_visible_label

if TYPE_CHECKING:  # pragma: no cover
    from generator import ModelRecord
    from governance.records.registry import WorkMatch
    from policies import PolicyDecision

__all__ = ["GenerateRequest", "GenerationOutcome", "ProtectedMaterialBlocked", "generate", "check_prompt"]

StageCallback = Callable[[str], None]
StepCallback = Callable[[int, int], None]


class ProtectedMaterialBlocked(ReelGuardError):
    """The generated clip matched protected material and was not released."""

    exit_code = 4

    def __init__(self, matches: list["WorkMatch"], outcome: str) -> None:
        self.matches = matches
        self.outcome = outcome
        titles = ", ".join(f"{m.title!r} ({m.owner})" for m in matches[:3])
        super().__init__(f"generated clip matches protected material ({outcome}): {titles}")


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str
    output: Path
    seed: int = 0
    model: str | None = None
    num_frames: int | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    fps: float | None = None
    jurisdiction: str | None = None
    force: bool = False
    actor: str = "cli"


@dataclass(frozen=True)
class GenerationOutcome:
    output: Path
    content_id: str
    payload_hex: str
    watermark_scheme: str
    decision: "PolicyDecision"
    model_record: "ModelRecord"
    manifest_digest: str
    manifest_label: str
    file_sha256: str
    signer: str
    audit_leaf_index: int
    labels_applied: tuple[str, ...]
    registry_outcome: str
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "content_id": self.content_id,
            "payload": self.payload_hex,
            "watermark_scheme": self.watermark_scheme,
            "policy": self.decision.to_dict(),
            "model": self.model_record.to_dict(),
            "manifest_digest": self.manifest_digest,
            "manifest_label": self.manifest_label,
            "file_sha256": self.file_sha256,
            "signer": self.signer,
            "audit_leaf_index": self.audit_leaf_index,
            "labels_applied": list(self.labels_applied),
            "registry_outcome": self.registry_outcome,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


def _check_output(output: Path, *, force: bool) -> Path:
    output = Path(output).expanduser()
    if output.suffix.lower() not in {".mp4", ".m4v", ".mov"}:
        raise OutputError(f"{output}: output must be an .mp4, .m4v or .mov file (C2PA embeds in ISO BMFF)")
    if output.is_dir():
        raise OutputError(f"{output}: is a folder")
    if output.exists() and not force:
        raise OutputExistsError(f"{output}: already exists (pass --force to overwrite)")
    parent = output.parent.resolve()
    if not parent.is_dir():
        raise OutputError(f"{output}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{output}: folder {parent} is not writable")
    return parent / output.name


def check_prompt(ctx: FlowContext, prompt: str, *, jurisdiction: str | None = None) -> "PolicyDecision":
    """Stage 1 alone: the policy decision for ``prompt`` (consent registry consulted)."""
    return ctx.policy.check(prompt, jurisdiction=jurisdiction or ctx.settings.jurisdiction, consent=ctx.consent)


def _policy_event(decision: "PolicyDecision"):
    from governance.records.audit.events import PolicyDecisionEvent

    return PolicyDecisionEvent(
        prompt_sha256=decision.prompt_sha256,
        action=str(decision.action.value if hasattr(decision.action, "value") else decision.action),
        category=decision.category,
        rule_id=decision.rule_id,
        rule_ids=[hit.rule_id for hit in decision.hits],
        reason=decision.reason,
        pack_digest=decision.pack_digest,
        jurisdiction=decision.jurisdiction,
        consent_license_id=decision.consent_license_id,
        obligations=list(decision.obligations),
    )


def _record_refusal(ctx: FlowContext, decision: "PolicyDecision", actor: str) -> None:
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        ctx.audit.append(session, _policy_event(decision), actor=actor)


def _unlock_audit_key(ctx: FlowContext) -> None:
    """The audit log signs checkpoints on append with its own (possibly encrypted) key: open it
    now, so a wrong passphrase does not surface only at the final commit."""
    if not (ctx.settings.keys_path / "audit-log.key").exists():
        return
    from governance.records.audit.checkpoint import load_or_create_signer

    load_or_create_signer(ctx.settings, create=False)


def _new_payload(ctx: FlowContext) -> bytes:
    """A random 64-bit payload not used by any earlier record (collisions are ~2^-32 at 4B clips)."""
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import get_record_by_payload

    with session_scope(ctx.engine) as session:
        while True:
            payload = secrets.token_bytes(ctx.watermark.payload_bits // 8)
            if get_record_by_payload(session=session, payload_hex=payload.hex()) is None:
                return payload


def generate(
    ctx: FlowContext,
    request: GenerateRequest,
    *,
    on_stage: StageCallback | None = None,
    on_step: StepCallback | None = None,
) -> GenerationOutcome:
    """Run the whole gated pipeline for one prompt; raises PolicyDenied on refusal."""
    from generator import GenerationRequest
    from governance.records.audit.events import (
        GenerationEvent,
        GenerationRecordedEvent,
        ManifestSignedEvent,
        OutputRegistryCheckEvent,
        WatermarkEmbeddedEvent,
    )
    from governance.provenance.manifest_store import ManifestStore
    from governance.provenance.signing import ManifestSpec, sign_video
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecordCreate, create_record
    from detectors.video_io import VideoWriter

    stage = on_stage or (lambda _name: None)
    timings: dict[str, float] = {}
    output = _check_output(request.output, force=request.force)

    # 0. Keys first: every encrypted key generation needs (signer, TSA, audit checkpoints) is
    # decrypted before the policy model or the diffusion model loads, so a wrong passphrase
    # fails in well under a second instead of after a minute of work.
    stage("keys")
    t0 = time.perf_counter()
    identity = ctx.signing_identity
    key = ctx.watermark_key
    _unlock_audit_key(ctx)
    timings["keys"] = time.perf_counter() - t0

    # 1. Policy: a refused prompt is logged and never reaches the model.
    stage("policy")
    t0 = time.perf_counter()
    decision = check_prompt(ctx, request.prompt, jurisdiction=request.jurisdiction)
    timings["policy"] = time.perf_counter() - t0
    if not decision.allowed:
        _record_refusal(ctx, decision, request.actor)
        raise PolicyDenied(decision)

    # 2. Diffusion core.
    stage("generate")
    t0 = time.perf_counter()
    result = ctx.generator(request.model)(
        GenerationRequest(
            prompt=request.prompt,
            seed=request.seed,
            num_frames=request.num_frames,
            width=request.width,
            height=request.height,
            steps=request.steps,
            fps=request.fps,
        ),
        progress=on_step if on_step is not None else False,
    )
    record = result.record
    frames = np.asarray(result.frames)
    timings["generate"] = time.perf_counter() - t0

    # 3. Obligations of the jurisdiction that change pixels (e.g. China's visible label).
    labels: list[str] = []
    if "visible-label" in decision.obligations:
        frames = apply_visible_label(frames, fps=record.fps)
        labels.append("visible-label")
    labels.extend(o for o in decision.obligations if o in {"gb45438-implicit", "sb942-latent"})

    # 3b. Output-side check against protected material, before anything is released.
    stage("registry check")
    t0 = time.perf_counter()
    matches = ctx.registry.match_frames(frames, fps=record.fps)
    registry_outcome = "clear"
    if matches:
        registry_outcome = "review" if ctx.settings.protected_match_action == "review" else "blocked"
    timings["registry_check"] = time.perf_counter() - t0

    # 4. Watermark and encode to a hidden temp file beside the output.
    stage("watermark")
    t0 = time.perf_counter()
    payload = _new_payload(ctx)
    content_id = payload.hex()
    scheme = ctx.watermark
    unsigned, signed_tmp = temp_paths(output, content_id)
    # The journal names the temps (and this pid) before they exist, so a SIGKILL at any later
    # point leaves nothing that start-up recovery or `reelguard doctor` cannot find.
    journal = InflightJournal(ctx.settings)
    journal.begin(content_id=content_id, output=output, temps=(unsigned, signed_tmp), force=request.force)
    committed = False
    manifests = ManifestStore(ctx.settings)
    try:
        with VideoWriter(unsigned, fps=record.fps, crf=18) as writer:
            for frame in scheme.embed(frames, payload=payload, key=key):
                writer.write(frame)
        timings["watermark_encode"] = time.perf_counter() - t0

        if registry_outcome != "clear":
            with session_scope(ctx.engine) as session:
                ctx.audit.append(session, _policy_event(decision), actor=request.actor)
                ctx.audit.append(
                    session,
                    OutputRegistryCheckEvent(
                        content_id=content_id, outcome=registry_outcome, matches=[m.to_dict() for m in matches]
                    ),
                    actor=request.actor,
                )
            raise ProtectedMaterialBlocked(matches, registry_outcome)

        # 5. Sign, record and log in one transaction; the file appears only after commit.
        stage("sign")
        t0 = time.perf_counter()
        created_at = datetime.now(timezone.utc)
        with session_scope(ctx.engine) as session:
            ctx.audit.append(session, _policy_event(decision), actor=request.actor)
            generation_entry = ctx.audit.append(
                session,
                GenerationEvent(
                    content_id=content_id,
                    prompt_sha256=decision.prompt_sha256,
                    model_id=record.model_id,
                    pipeline_class=record.pipeline_class,
                    weights_digest=record.weights_digest,
                    seed=record.seed,
                    steps=record.steps,
                    width=record.width,
                    height=record.height,
                    num_frames=record.num_frames,
                    fps=record.fps,
                    jurisdiction=decision.jurisdiction,
                    labels_applied=labels,
                ),
                actor=request.actor,
            )
            ctx.audit.append(
                session,
                WatermarkEmbeddedEvent(content_id=content_id, scheme=scheme.name, payload_hex=payload.hex()),
                actor=request.actor,
            )
            spec = ManifestSpec(
                title=output.name,
                content_id=content_id,
                watermark_scheme=scheme.name,
                watermark_payload_hex=payload.hex(),
                model_record=record.to_dict(),
                policy_decision=decision.to_dict(),
                jurisdiction=decision.jurisdiction,
                obligations=tuple(decision.obligations),
                audit_leaf_index=generation_entry.leaf_index,
                organisation=ctx.settings.organisation,
                created_at=created_at,
            )
            signed = sign_video(unsigned, signed_tmp, spec=spec, identity=identity)
            ctx.audit.append(
                session,
                ManifestSignedEvent(
                    content_id=content_id,
                    manifest_digest=signed.manifest_digest,
                    manifest_label=signed.manifest_label,
                    file_sha256=signed.file_sha256,
                    signer=signed.signer,
                    generation_leaf_index=generation_entry.leaf_index,
                ),
                actor=request.actor,
            )
            ctx.audit.append(
                session,
                OutputRegistryCheckEvent(content_id=content_id, outcome=registry_outcome, matches=[]),
                actor=request.actor,
            )
            create_record(
                session=session,
                record_in=GenerationRecordCreate(
                    content_id=content_id,
                    payload_hex=payload.hex(),
                    watermark_scheme=scheme.name,
                    prompt_sha256=decision.prompt_sha256,
                    policy_action=str(decision.action.value),
                    policy_rule_id=decision.rule_id,
                    pack_digest=decision.pack_digest,
                    jurisdiction=decision.jurisdiction,
                    obligations=list(decision.obligations),
                    labels_applied=labels,
                    model_id=record.model_id,
                    pipeline_class=record.pipeline_class,
                    weights_digest=record.weights_digest,
                    seed=record.seed,
                    steps=record.steps,
                    width=record.width,
                    height=record.height,
                    num_frames=record.num_frames,
                    fps=record.fps,
                    manifest_digest=signed.manifest_digest,
                    manifest_label=signed.manifest_label,
                    file_sha256=signed.file_sha256,
                    output_name=output.name,
                    signer=signed.signer,
                    audit_leaf_index=generation_entry.leaf_index,
                    model_record=record.to_dict(),
                    policy_decision=decision.to_dict(),
                ),
            )
            ctx.audit.append(
                session,
                GenerationRecordedEvent(content_id=content_id, file_sha256=signed.file_sha256, output_name=output.name),
                actor=request.actor,
            )
            # Keep the manifest for recovery when a re-upload strips it. Saved last, just before
            # the commit: a failure removes it below, a kill leaves it to the journal's recovery.
            manifests.save(content_id, signed.manifest_json, signed.manifest_bytes)
        # Committed: only now does the signed file take the output's name.
        committed = True
        os.replace(signed_tmp, output)
        fsync_dir(output.parent)
        timings["sign_record"] = time.perf_counter() - t0
    except BaseException:
        if not committed:  # the transaction rolled back: drop a manifest saved inside it
            remove_stored_manifest(manifests, content_id)
        raise
    finally:
        unsigned.unlink(missing_ok=True)
        if committed and signed_tmp.exists():
            pass  # recorded but not placed: the journal keeps it for recovery to finish
        else:
            signed_tmp.unlink(missing_ok=True)
            journal.end(content_id)

    return GenerationOutcome(
        output=output,
        content_id=content_id,
        payload_hex=payload.hex(),
        watermark_scheme=scheme.name,
        decision=decision,
        model_record=record,
        manifest_digest=signed.manifest_digest,
        manifest_label=signed.manifest_label,
        file_sha256=signed.file_sha256,  # the rename does not change the bytes
        signer=signed.signer,
        audit_leaf_index=generation_entry.leaf_index,
        labels_applied=tuple(labels),
        registry_outcome=registry_outcome,
        timings_s=timings,
    )
