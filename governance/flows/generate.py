"""Compliance-gated generation: prompt → policy → model → label → watermark → H.264 → C2PA →
registry and audit, in that order, with no way around any stage.

Nothing leaves unmarked, unsigned or unlogged: the signed file is written under a hidden temp
name and renamed to the requested output only after the generation record and its audit events
are committed in one transaction. A denied prompt is logged and never reaches the model.

Crash safety: the hidden temps are listed in an in-flight journal (``governance.flows.inflight``)
before they are created, so a process killed at any point leaves nothing that the next flow
context or ``reelguard doctor`` cannot clean up (or, after the commit, finish).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from governance.core.errors import PolicyDenied
from governance.flows.context import FlowContext
from governance.flows.generation import (
    GenerateRequest,
    GenerationOutcome,
    ProtectedMaterialBlocked,
    check_output,
    check_prompt,
    new_payload,
    policy_event,
    record_refusal,
    unlock_audit_key,
)
from governance.flows.inflight import InflightJournal, fsync_dir, temp_paths
from governance.flows.labels import apply_visible_label
from governance.flows.likeness import check_likeness, check_prompt_likeness
from governance.flows.recovery import remove_stored_manifest

__all__ = ["GenerateRequest", "GenerationOutcome", "ProtectedMaterialBlocked", "generate", "check_prompt"]

StageCallback = Callable[[str], None]
StepCallback = Callable[[int, int], None]


def generate(
    ctx: FlowContext,
    request: GenerateRequest,
    *,
    on_stage: StageCallback | None = None,
    on_step: StepCallback | None = None,
) -> GenerationOutcome:
    """Run the whole gated pipeline for one prompt; raises PolicyDenied on refusal."""
    from detectors.video_io import VideoWriter
    from generator import GenerationRequest
    from governance.provenance.manifest_store import ManifestStore
    from governance.provenance.signing import ManifestSpec, SignOptions, sign_video
    from governance.provenance.signing.hashing import sha256_file
    from governance.records.audit.events import (
        GenerationEvent,
        GenerationRecordedEvent,
        ManifestSignedEvent,
        OutputRegistryCheckEvent,
        RegistryChangeEvent,
        WatermarkEmbeddedEvent,
    )
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecordCreate, create_record

    stage = on_stage or (lambda _name: None)
    timings: dict[str, float] = {}
    actor = request.actor if request.actor is not None else ctx.actor
    request = replace(request, actor=actor)
    ctx.check_environment()  # production refuses the development CA before any work
    # What the model cannot make fails now, from its configs, before keys, policy or weights load.
    from governance.flows.model_limits import check_params

    check_params(
        request.model or ctx.settings.model, num_frames=request.num_frames, width=request.width, height=request.height
    )
    output = check_output(request.output, force=request.force)
    # Reference media are read and decoded now (file, type, declared size): bad input fails
    # before any key is opened or any model loads.
    from governance.flows.references import check_reference, load_references

    references = load_references(request, ctx.settings)

    # 0. Keys first: every encrypted key generation needs (signer, TSA, audit checkpoints) is
    # decrypted before the policy model or the diffusion model loads, so a wrong passphrase
    # fails in well under a second instead of after a minute of work.
    stage("keys")
    t0 = time.perf_counter()
    identity = ctx.signing_identity
    key = ctx.watermark_key
    unlock_audit_key(ctx)
    timings["keys"] = time.perf_counter() - t0

    # 1. Policy: a refused prompt is logged and never reaches the model.
    stage("policy")
    t0 = time.perf_counter()
    decision = check_prompt(ctx, request.prompt, jurisdiction=request.jurisdiction)
    timings["policy"] = time.perf_counter() - t0
    if not decision.allowed:
        record_refusal(ctx, decision, actor)
        # A person the prompt names who is enrolled in the likeness registry: exit 5, not 3.
        check_prompt_likeness(ctx, decision, actor=actor)
        raise PolicyDenied(decision)

    # 1b. Reference media: credentials (an ingredient), their permission, protected material,
    # likeness. A refusal is audited inside and nothing reaches the model.
    checked = []
    if references:
        stage("references")
        t0 = time.perf_counter()
        checked = [check_reference(ctx, ref, decision=decision, actor=actor) for ref in references]
        timings["references"] = time.perf_counter() - t0
    reference_info = tuple(c.to_dict() for c in checked)

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
            image=next((c.reference.pixels for c in checked if c.reference.kind == "image"), None),
            video=next((c.reference.pixels for c in checked if c.reference.kind == "video"), None),
            strength=request.strength,
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
    # 3c. Likeness guard (issue 18): an enrolled face without a consent licence blocks the
    # release before anything is written (LikenessBlocked, exit 5, the refusal audited inside).
    stage("likeness check")
    t0 = time.perf_counter()
    likeness = check_likeness(ctx, frames, fps=record.fps, stage="output", decision=decision, actor=actor)
    timings["likeness_check"] = time.perf_counter() - t0
    # Our own fingerprints of the released pixels, stored with the record below (issue 21): the
    # third layer that traces a clip whose manifest and watermark are both gone.
    t0 = time.perf_counter()
    own_fingerprints = ctx.registry.own.fingerprint_frames(frames, fps=record.fps)
    timings["own_fingerprints"] = time.perf_counter() - t0

    # 4. Watermark and encode to a hidden temp file beside the output.
    stage("watermark")
    t0 = time.perf_counter()
    payload = new_payload(ctx)
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
                ctx.audit.append(session, policy_event(decision), actor=actor)
                ctx.audit.append(
                    session,
                    OutputRegistryCheckEvent(
                        content_id=content_id, outcome=registry_outcome, matches=[m.to_dict() for m in matches]
                    ),
                    actor=actor,
                )
            raise ProtectedMaterialBlocked(matches, registry_outcome)

        # 5. Sign, record and log in one transaction; the file appears only after commit.
        stage("sign")
        t0 = time.perf_counter()
        created_at = datetime.now(UTC)
        with session_scope(ctx.engine) as session:
            ctx.audit.append(session, policy_event(decision), actor=actor)
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
                actor=actor,
            )
            ctx.audit.append(
                session,
                WatermarkEmbeddedEvent(content_id=content_id, scheme=scheme.name, payload_hex=payload.hex()),
                actor=actor,
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
                ingredients=tuple(c.ingredient() for c in checked),
                references=reference_info,
            )
            # With references, c2pa-rs validates their credentials against the verifier's trust
            # store as it adds them, so the recorded ingredient validation reads as verify would.
            sign_options = SignOptions(trust=ctx.trust.c2pa_settings() or None) if checked else None
            signed = sign_video(unsigned, signed_tmp, spec=spec, identity=identity, options=sign_options)
            # The record, the audit log and the registry all key on the file's hash: read it back
            # should the signing options ever skip hashing (they do not here; the type allows it).
            file_sha256 = signed.file_sha256 or sha256_file(signed_tmp)
            ctx.audit.append(
                session,
                ManifestSignedEvent(
                    content_id=content_id,
                    manifest_digest=signed.manifest_digest,
                    manifest_label=signed.manifest_label,
                    file_sha256=file_sha256,
                    signer=signed.signer,
                    generation_leaf_index=generation_entry.leaf_index,
                ),
                actor=actor,
            )
            ctx.audit.append(
                session,
                OutputRegistryCheckEvent(content_id=content_id, outcome=registry_outcome, matches=[]),
                actor=actor,
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
                    file_sha256=file_sha256,
                    output_name=output.name,
                    signer=signed.signer,
                    audit_leaf_index=generation_entry.leaf_index,
                    model_record={
                        **record.to_dict(),
                        **({"references": list(reference_info)} if reference_info else {}),
                    },
                    policy_decision=decision.to_dict(),
                ),
            )
            ctx.audit.append(
                session,
                GenerationRecordedEvent(content_id=content_id, file_sha256=file_sha256, output_name=output.name),
                actor=actor,
            )
            if likeness.scan.enrolled:  # the faces scanned and the licences used, with the record
                ctx.audit.append_many(session, likeness.audit_events(content_id=content_id), actor=actor)
            own_owner = ctx.settings.organisation or "reelguard"
            own_work = ctx.registry.own.add(
                session,
                content_id=content_id,
                file_sha256=file_sha256,
                name=output.name,
                owner=own_owner,
                clip=own_fingerprints,
            )
            ctx.audit.append(
                session,
                RegistryChangeEvent(
                    action="add", work_id=own_work, owner=own_owner, title=f"generated {content_id}", assets=1
                ),
                actor=actor,
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
        file_sha256=file_sha256,  # the rename does not change the bytes
        signer=signed.signer,
        audit_leaf_index=generation_entry.leaf_index,
        labels_applied=tuple(labels),
        registry_outcome=registry_outcome,
        timings_s=timings,
        references=reference_info,
    )
