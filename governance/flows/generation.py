"""What one gated generation is: its request, its outcome, the error that stops a release, and
the small checks and records the flow (``governance.flows.generate``) runs around the model."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.core.errors import OutputError, OutputExistsError, ReelGuardError
from governance.flows.context import FlowContext

if TYPE_CHECKING:  # pragma: no cover
    from generator import ModelRecord
    from governance.records.registry import WorkMatch
    from policies import PolicyDecision

__all__ = [
    "GenerateRequest",
    "GenerationOutcome",
    "ProtectedMaterialBlocked",
    "check_prompt",
    "check_output",
    "new_payload",
    "policy_event",
    "record_refusal",
    "unlock_audit_key",
]


class ProtectedMaterialBlocked(ReelGuardError):
    """The generated clip matched protected material and was not released."""

    exit_code = 4

    def __init__(self, matches: list[WorkMatch], outcome: str) -> None:
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
    # Reference media (issue 18): one image or one clip that conditions the model, checked by
    # governance.flows.references before the model runs; strength as the pipeline defines it.
    image: Path | None = None
    video: Path | None = None
    strength: float | None = None
    actor: str | None = None  # None: the context's operator (``--actor`` or the OS user)


@dataclass(frozen=True)
class GenerationOutcome:
    output: Path
    content_id: str
    payload_hex: str
    watermark_scheme: str
    decision: PolicyDecision
    model_record: ModelRecord
    manifest_digest: str
    manifest_label: str
    file_sha256: str
    signer: str
    audit_leaf_index: int
    labels_applied: tuple[str, ...]
    registry_outcome: str
    timings_s: dict[str, float] = field(default_factory=dict)
    references: tuple[dict[str, Any], ...] = ()  # the checked reference media (file sha256, credentials)

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
            "references": [dict(r) for r in self.references],
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


def check_output(output: Path, *, force: bool) -> Path:
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


def check_prompt(ctx: FlowContext, prompt: str, *, jurisdiction: str | None = None) -> PolicyDecision:
    """Stage 1 alone: the policy decision for ``prompt`` (consent registry consulted)."""
    return ctx.policy.check(prompt, jurisdiction=jurisdiction or ctx.settings.jurisdiction, consent=ctx.consent)


def policy_event(decision: PolicyDecision):
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


def record_refusal(ctx: FlowContext, decision: PolicyDecision, actor: str) -> None:
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        ctx.audit.append(session, policy_event(decision), actor=actor)


def unlock_audit_key(ctx: FlowContext) -> None:
    """The audit log signs checkpoints on append with its own (possibly encrypted) key: open it
    now, so a wrong passphrase does not surface only at the final commit."""
    if not (ctx.settings.keys_path / "audit-log.key").exists():
        return
    from governance.records.audit.checkpoint import load_or_create_signer

    load_or_create_signer(ctx.settings, create=False)


def new_payload(ctx: FlowContext) -> bytes:
    """A random 64-bit payload not used by any earlier record (collisions are ~2^-32 at 4B clips)."""
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import get_record_by_payload

    with session_scope(ctx.engine) as session:
        while True:
            payload = secrets.token_bytes(ctx.watermark.payload_bits // 8)
            if get_record_by_payload(session=session, payload_hex=payload.hex()) is None:
                return payload
