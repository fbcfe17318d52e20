"""Reference media (``generate --image`` / ``--video``), checked before the model sees a pixel.

Two stages, so that bad input costs nothing and refusals come before any model loads:

1. ``load_reference`` (no model, no database): the file exists and is a regular file within the
   upload limit; its type comes from its bytes, not its name (a video given as ``--image`` is
   refused, and the other way round); declared dimensions and frame counts are checked against
   ``detectors.media_limits`` before decoding; then the pixels are decoded.
2. ``check_reference`` (after the prompt passed the policy): (a) the reference's own C2PA
   credentials are read against the verifier's trust store; they become an ``inputTo``
   ingredient of the output's manifest, with their validation; (b) credentials that forbid the
   use (the CAWG training-and-data-mining assertion, or its C2PA 1.x predecessor) refuse the
   generation; (c) the frames are matched against the protected-material registry; (d) faces
   go to the likeness guard. Every refusal is audited and nothing is generated.

Which training-and-data-mining entries govern. CAWG 1.1 defines ``cawg.ai_inference`` as "can
the asset be used as input to a trained AI/ML model for the purposes of inferring a result":
conditioning a generator on a reference is exactly that, so it governs. ReelGuard also honours
``cawg.ai_generative_training`` (the conservative reading: the output is generative media
derived from the asset, and many signers set only that entry), never ``cawg.ai_training`` or
``cawg.data_mining``. ``constrained`` counts as ``notAllowed``, as the specification says it
must "in the absence of additional information". The C2PA 1.x label ``c2pa.training-mining``
with ``c2pa.``-prefixed entries is read the same way. A forbidding assertion is honoured even
when the reference's signature does not validate: obeying a restriction is always safe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from governance.core.errors import ReelGuardError
from governance.flows.generate import ProtectedMaterialBlocked

if TYPE_CHECKING:  # pragma: no cover
    from detectors.provenance import ProvenanceReport
    from governance.core.settings import Settings
    from governance.flows.context import FlowContext
    from governance.provenance.signing import Ingredient
    from governance.records.registry import WorkMatch
    from policies import PolicyDecision

__all__ = [
    "Reference",
    "CheckedReference",
    "ReferenceMediaError",
    "ReferenceUseRefused",
    "ReferenceProtectedMaterial",
    "load_reference",
    "load_references",
    "store_reference",
    "stored_reference",
    "KEEP_STORED_S",
    "check_reference",
    "forbidding_entries",
    "IMAGE_TYPES",
    "VIDEO_TYPES",
    "MAX_REFERENCE_FRAMES",
    "MAX_REFERENCE_SIDE",
]

ReferenceKind = Literal["image", "video"]
# Types that both the decoders and c2pa-rs (which carries the reference as an ingredient) read.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/x-m4v"})
# Video-to-video pipelines take tens of frames (Wan: 81); more would only cost memory, and frames
# are shrunk to this long side on decode (every pipeline resizes to its own, smaller size).
MAX_REFERENCE_FRAMES = 81
MAX_REFERENCE_SIDE = 1280
_TDM_LABELS = ("cawg.training-mining", "c2pa.training-mining")
_GOVERNING = ("ai_inference", "ai_generative_training")
_FORBIDDING = frozenset({"notAllowed", "constrained"})


class ReferenceMediaError(ReelGuardError):
    """A reference file that cannot be used: missing, the wrong kind, an unsupported format."""

    exit_code = 34


class ReferenceUseRefused(ReelGuardError):
    """The reference's own credentials forbid using it as input to a generative model."""

    exit_code = 6

    def __init__(self, reference: Reference, entries: list[dict[str, str]]) -> None:
        self.reference = reference
        self.entries = entries
        said = ", ".join(f"{e['entry']}={e['use']}" for e in entries)
        super().__init__(
            f"reference {reference.path.name} (sha256 {reference.sha256[:16]}…): its Content "
            f"Credentials forbid use as input to generative AI ({said})"
        )


class ReferenceProtectedMaterial(ProtectedMaterialBlocked):
    """The reference itself matched protected material (exit 4, like an output match)."""

    def __init__(self, reference: Reference, matches: list[WorkMatch], outcome: str) -> None:
        super().__init__(matches, outcome)
        self.reference = reference
        titles = ", ".join(f"{m.title!r} ({m.owner})" for m in matches[:3])
        self.args = (f"reference {reference.path.name} matches protected material ({outcome}): {titles}",)


@dataclass(frozen=True)
class Reference:
    """A decoded reference: ``pixels`` is (H, W, 3) for an image, (F, H, W, 3) for a video."""

    path: Path
    kind: ReferenceKind
    media_type: str
    sha256: str  # of the file's bytes (what the ingredient and the record cite)
    size: int
    width: int
    height: int
    fps: float | None
    pixels: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        frames = 1 if self.kind == "image" else int(self.pixels.shape[0])
        return {
            "kind": self.kind,
            "title": self.path.name,
            "sha256": self.sha256,
            "media_type": self.media_type,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "frames": frames,
        }


@dataclass(frozen=True)
class CheckedReference:
    """A reference that passed every check, with what its credentials said."""

    reference: Reference
    provenance: ProvenanceReport
    likeness_licenses: dict[str, str] = field(default_factory=dict)  # person id -> consent licence used

    def ingredient(self) -> Ingredient:
        from governance.provenance.signing import Ingredient

        ref = self.reference
        return Ingredient(ref.path, "inputTo", title=ref.path.name, sha256=ref.sha256, media_type=ref.media_type)

    def to_dict(self) -> dict[str, Any]:
        p = self.provenance
        c2pa = {
            "state": p.state,
            "manifest_label": p.manifest_label,
            "issuer": p.issuer,
            "signer": p.signer,
            "codes": list(p.codes),
            "ai_generated": p.disclosure.ai_generated,
        }
        out = {**self.reference.to_dict(), "c2pa": c2pa}
        if self.likeness_licenses:
            out["likeness_licenses"] = dict(self.likeness_licenses)
        return out


def _refuse(path: Path, message: str) -> ReferenceMediaError:
    return ReferenceMediaError(f"{path}: {message}")


def load_reference(path: str | Path, kind: ReferenceKind, settings: Settings) -> Reference:
    """Check and decode one reference file (stage 1: no model, no database)."""
    from detectors.provenance.formats import format_from_bytes

    path = Path(path).expanduser()
    flag = f"--{kind}"
    if not path.exists():
        raise _refuse(path, f"no such file (given as {flag})")
    if not path.is_file():
        raise _refuse(path, f"not a regular file (given as {flag})")
    size = path.stat().st_size
    if size == 0:
        raise _refuse(path, "empty file")
    if size > settings.max_upload_bytes:
        raise _refuse(path, f"{size} bytes is over the limit of {settings.max_upload_bytes} (max_upload_bytes)")
    with open(path, "rb") as handle:
        head = handle.read(64)
    found = format_from_bytes(head)
    if found is None:
        raise _refuse(path, f"not a media file ReelGuard reads (given as {flag})")
    if found.kind != kind and found.kind in ("image", "video"):
        raise _refuse(
            path,
            f"is {'a video' if found.kind == 'video' else 'an image'} ({found.mime}); "
            f"pass it with --{found.kind}, not {flag}",
        )
    allowed = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
    if found.mime not in allowed:
        names = ", ".join(sorted(m.split("/")[1].upper() for m in allowed))
        raise _refuse(path, f"{found.mime} is not supported as a reference {kind}; use {names}")
    if kind == "image":
        return _load_image(path, found.mime, size, settings)
    return _load_video(path, found.mime, size, settings)


def load_references(request: Any, settings: Settings) -> list[Reference]:
    """The references a ``GenerateRequest`` names (``image`` / ``video``, ``strength``), loaded."""
    image, video, strength = request.image, request.video, request.strength
    if image is not None and video is not None:
        raise ReferenceMediaError("give either --image or --video, not both: pipelines take one source")
    if strength is not None and not 0 < strength <= 1:
        raise ReferenceMediaError(f"--strength has to be in (0, 1] but is {strength}")
    if strength is not None and image is None and video is None:
        raise ReferenceMediaError("--strength needs a reference (--image or --video)")
    if image is not None:
        return [load_reference(image, "image", settings)]
    if video is not None:
        return [load_reference(video, "video", settings)]
    return []


def _load_image(path: Path, media_type: str, size: int, settings: Settings) -> Reference:
    from detectors.video_io import decode_image

    data = path.read_bytes()
    # decode_image reads the header first: a huge declared size is refused before OpenCV runs
    pixels = decode_image(data, max_pixels=settings.max_pixels, what=str(path))
    return Reference(
        path,
        "image",
        media_type,
        hashlib.sha256(data).hexdigest(),
        size,
        int(pixels.shape[1]),
        int(pixels.shape[0]),
        None,
        pixels,
    )


def _load_video(path: Path, media_type: str, size: int, settings: Settings) -> Reference:
    import cv2

    from detectors.video_io import probe, read_frames

    info = probe(path, max_pixels=settings.max_pixels, frame_limit=settings.max_frames)  # metadata only
    scale = min(1.0, MAX_REFERENCE_SIDE / max(info.width, info.height))
    frames = []
    for frame in read_frames(
        path, max_frames=MAX_REFERENCE_FRAMES, max_pixels=settings.max_pixels, frame_limit=settings.max_frames
    ):
        if scale < 1.0:
            frame = cv2.resize(
                frame,
                (max(2, round(frame.shape[1] * scale)), max(2, round(frame.shape[0] * scale))),
                interpolation=cv2.INTER_AREA,
            )
        frames.append(frame)
    if not frames:
        raise _refuse(path, "no frame could be decoded")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return Reference(
        path, "video", media_type, digest.hexdigest(), size, info.width, info.height, info.fps, np.stack(frames)
    )


def forbidding_entries(manifest: dict[str, Any] | None) -> list[dict[str, str]]:
    """The training-and-data-mining entries of ``manifest`` (c2pa-rs's JSON of one manifest) that
    forbid using the asset as input to generative AI; [] when none does."""
    found: list[dict[str, str]] = []
    assertions = manifest.get("assertions") if isinstance(manifest, dict) else None
    for assertion in assertions if isinstance(assertions, list) else ():
        if not isinstance(assertion, dict) or not isinstance(assertion.get("data"), dict):
            continue
        label = str(assertion.get("label", ""))
        base = label.split("__", 1)[0]  # repeated assertions carry a __N suffix
        if base not in _TDM_LABELS:
            continue
        prefix = base.split(".", 1)[0]
        entries = assertion["data"].get("entries")
        for name in _GOVERNING:
            entry = entries.get(f"{prefix}.{name}") if isinstance(entries, dict) else None
            if not isinstance(entry, dict):
                continue
            use = entry.get("use")
            if use in _FORBIDDING:
                item = {"assertion": label, "entry": f"{prefix}.{name}", "use": str(use)}
                info = entry.get("constraint_info")
                if isinstance(info, str) and info:
                    item["constraint_info"] = info[:500]
                found.append(item)
    return found


def _audit_refusal(
    ctx: FlowContext,
    decision: PolicyDecision,
    reference: Reference,
    *,
    category: str,
    rule_ids: list[str],
    reason: str,
    actor: str,
) -> None:
    """The refusal as a policy decision (the prompt's decision, overruled by its reference)."""
    from governance.records.audit.events import PolicyDecisionEvent
    from governance.records.storage.db import session_scope

    event = PolicyDecisionEvent(
        prompt_sha256=decision.prompt_sha256,
        action="deny",
        category=category,
        rule_id=rule_ids[0] if rule_ids else None,
        rule_ids=rule_ids,
        reason=f"reference {reference.kind} sha256:{reference.sha256}: {reason}",
        pack_digest=decision.pack_digest,
        jurisdiction=decision.jurisdiction,
        consent_license_id=decision.consent_license_id,
    )
    with session_scope(ctx.engine) as session:
        ctx.audit.append(session, event, actor=actor)


def check_reference(
    ctx: FlowContext, reference: Reference, *, decision: PolicyDecision, actor: str
) -> CheckedReference:
    """Stage 2: credentials, their permission, protected material, likeness; raises on refusal."""
    from detectors.provenance import read_provenance

    # (a) the reference's own credentials, read as the verifier reads them (offline, trust store)
    provenance = read_provenance(reference.path, trust=ctx.trust)
    # (b) credentials that forbid the use
    forbidden = forbidding_entries(provenance.manifest)
    if forbidden:
        error = ReferenceUseRefused(reference, forbidden)
        _audit_refusal(
            ctx,
            decision,
            reference,
            category="reference-credentials",
            rule_ids=[f"{e['assertion']}:{e['entry']}" for e in forbidden],
            reason=str(error),
            actor=actor,
        )
        raise error
    # (c) protected material, as for outputs
    fps = reference.fps or 25.0
    matches = ctx.registry.match_frames(reference.pixels, fps=fps)
    if matches:
        outcome = "review" if ctx.settings.protected_match_action == "review" else "blocked"
        _audit_refusal(
            ctx,
            decision,
            reference,
            category="reference-protected-material",
            rule_ids=[f"work:{m.work_id}" for m in matches],
            reason=f"matches protected material ({outcome}): "
            + ", ".join(f"{m.title!r} ({m.owner}) score {m.score:.2f}" for m in matches[:5]),
            actor=actor,
        )
        raise ReferenceProtectedMaterial(reference, matches, outcome)
    # (d) faces: the likeness guard decides and audits its own refusals (exit 5)
    licenses = _check_likeness(ctx, reference, decision=decision, actor=actor)
    return CheckedReference(reference, provenance, licenses)


def _check_likeness(ctx: FlowContext, reference: Reference, *, decision: PolicyDecision, actor: str) -> dict[str, str]:
    """Licences used for enrolled people in the reference (LikenessBlocked, exit 5, otherwise)."""
    from governance.flows.likeness import check_likeness

    check = check_likeness(
        ctx,
        reference.pixels,
        stage="reference",
        fps=reference.fps,
        decision=decision,
        actor=actor,
        media_sha256=reference.sha256,
        audit=True,
    )
    return dict(check.licenses)


# References that outlive a request (API jobs) live in reference_store; re-exported here.
from governance.flows.reference_store import KEEP_STORED_S, store_reference, stored_reference  # noqa: E402
