"""What goes into a ReelGuard manifest: ``ManifestSpec`` and the c2pa-rs manifest definition.

Assertions (labels are public: detectors.provenance reads them back):

- ``c2pa.actions.v2``: ``c2pa.created`` (or ``c2pa.opened`` + ``c2pa.edited`` for edits of a
  parent clip) with digitalSourceType trainedAlgorithmicMedia, then ``c2pa.watermarked``
  (``c2pa.watermarked.bound`` when written to spec 2.4); ``allActionsIncluded`` is true.
- ``c2pa.soft-binding``: ``alg`` = the watermark scheme, one block whose value is the payload.
- ``org.reelguard.generation``: content id, model record, policy decision digest and action,
  jurisdiction, obligations, audit leaf index.
- ``cawg.training-mining``: training and data-mining permissions.
- ``org.reelguard.aigc``: GB 45438-2025 Appendix E implicit label (the ``AIGC`` field set).
- ``org.reelguard.sb942``: California SB 942 latent disclosure.

C2PA conformance (the Conformance Program 0.2 asset rubrics; tests/governance/test_conformance.py):
the claim is a v2 claim, every assertion above is a *created* assertion (ReelGuard made each
one itself; c2pa-rs would otherwise file all but the hard binding as *gathered*, and the
actions assertion must come first in ``created_assertions``), action descriptions sit at the
action's top level (a ``parameters.description`` is legacy), and ``spec_version`` picks the
specification written to. The 2.2 and 2.4 rubrics cannot both pass on one manifest: 2.4
requires ``claim_generator_info.specVersion`` = 2.4.x and deprecates ``c2pa.watermarked`` (for
``c2pa.watermarked.bound``), while 2.2 requires specVersion absent or 2.2.x and does not know
``c2pa.watermarked.bound``. The default is 2.4, the newer specification.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import rfc8785

from governance.core.errors import SigningError

__all__ = [
    "ManifestSpec",
    "C2PA_SPEC_VERSIONS",
    "Ingredient",
    "build_definition",
    "policy_digest",
    "TRAINED_ALGORITHMIC_MEDIA",
    "GENERATION_LABEL",
    "AIGC_LABEL",
    "SB942_LABEL",
    "TRAINING_MINING_LABEL",
    "DEFAULT_TRAINING_MINING",
    "mime_for",
    "INGREDIENT_SHA256_KEY",
]

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# C2PA specification versions a manifest can be written to (ManifestSpec.spec_version).
C2PA_SPEC_VERSIONS = ("2.2", "2.4")
GENERATION_LABEL = "org.reelguard.generation"
AIGC_LABEL = "org.reelguard.aigc"
SB942_LABEL = "org.reelguard.sb942"
TRAINING_MINING_LABEL = "cawg.training-mining"
DEFAULT_TRAINING_MINING: Mapping[str, str] = {
    "cawg.ai_inference": "notAllowed",
    "cawg.ai_generative_training": "notAllowed",
    "cawg.ai_training": "notAllowed",
    "cawg.data_mining": "notAllowed",
}
# Hostile-size guards: a manifest is a few kB; nothing legitimate needs more.
MAX_JSON_FIELD_BYTES = 64 * 1024
MAX_INGREDIENTS = 16
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_HEX = re.compile(r"^(?:[0-9a-f]{2}){1,64}$")
_MIME = {
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".avif": "image/avif",
    ".heic": "image/heic",
    ".c2pa": "application/c2pa",
}


def mime_for(path: str | os.PathLike[str]) -> str | None:
    """The MIME type c2pa-rs expects for ``path`` (None when unknown)."""
    suffix = Path(path).suffix.lower()
    return _MIME.get(suffix) or (mimetypes.guess_type(str(path))[0] if suffix not in (".webm", ".mkv") else None)


# Where an ingredient's file digest sits in its ``metadata`` (C2PA assertion metadata allows
# extra fields; c2pa-rs drops an ingredient-level ``hash`` but keeps these).
INGREDIENT_SHA256_KEY = "org.reelguard.sha256"


@dataclass(frozen=True)
class Ingredient:
    """An input of the generation (a reference image or clip: ``inputTo``, C2PA 2.x: "used as an
    input to a computational process, such as an AI/ML model") or the edited clip (``parentOf``).

    c2pa-rs reads the file's own manifest store, validates it and carries it in the output, so
    the chain stays verifiable; a file without credentials becomes a hash-only ingredient.
    ``sha256`` (of the whole file) is computed at signing; when given, a file that no longer
    has it is refused (SigningError), so the manifest never cites bytes other than those checked.
    """

    path: Path
    relationship: Literal["inputTo", "parentOf", "componentOf"] = "inputTo"
    title: str | None = None
    sha256: str | None = None
    media_type: str | None = None  # the sniffed type, when the file name's suffix may lie

    def __post_init__(self) -> None:
        if self.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise SigningError(f"ingredient sha256 must be 64 lowercase hex characters but is {self.sha256!r}")


@dataclass(frozen=True)
class ManifestSpec:
    title: str
    content_id: str  # 16 lowercase hex
    watermark_scheme: str
    watermark_payload_hex: str
    model_record: Mapping[str, Any]
    policy_decision: Mapping[str, Any]
    jurisdiction: str
    obligations: tuple[str, ...] = ()
    audit_leaf_index: int | None = None
    organisation: str = "ReelGuard"
    ingredients: tuple[Ingredient | str | os.PathLike[str], ...] = ()
    created_at: dt.datetime | None = None
    training_mining: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TRAINING_MINING))
    system_name: str | None = None  # SB 942 "name of the GenAI system"; default from model_record
    system_version: str | None = None
    generator_version: str = "0.1.0"
    spec_version: str = "2.4"  # C2PA specification written to: one of C2PA_SPEC_VERSIONS
    # The reference media the generation was conditioned on, as the flow checked them (file
    # sha256, kind, media type, their own credentials' state): org.reelguard.generation "references".
    references: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.spec_version not in C2PA_SPEC_VERSIONS:
            versions = ", ".join(C2PA_SPEC_VERSIONS)
            raise SigningError(f"spec_version must be one of {versions}, not {self.spec_version!r}")
        if not self.title or len(self.title) > 512:
            raise SigningError("manifest title must be 1-512 characters")
        if not _HEX16.match(self.content_id):
            raise SigningError(f"content_id must be 16 lowercase hex characters but is {self.content_id!r}")
        if not _HEX.match(self.watermark_payload_hex):
            raise SigningError("watermark_payload_hex must be 1-64 bytes of lowercase hex")
        if not self.watermark_scheme or len(self.watermark_scheme) > 128:
            raise SigningError("watermark_scheme must be 1-128 characters")
        if len(self.ingredients) > MAX_INGREDIENTS:
            raise SigningError(f"at most {MAX_INGREDIENTS} ingredients, got {len(self.ingredients)}")
        if self.audit_leaf_index is not None and self.audit_leaf_index < 0:
            raise SigningError("audit_leaf_index must be >= 0")
        if len(self.references) > MAX_INGREDIENTS:
            raise SigningError(f"at most {MAX_INGREDIENTS} references, got {len(self.references)}")
        for name in ("model_record", "policy_decision", "references"):
            size = len(_json(getattr(self, name), name))
            if size > MAX_JSON_FIELD_BYTES:
                raise SigningError(f"{name} is {size} bytes as JSON; the limit is {MAX_JSON_FIELD_BYTES}")

    def ingredient_list(self) -> list[Ingredient]:
        return [i if isinstance(i, Ingredient) else Ingredient(Path(i)) for i in self.ingredients]

    @property
    def is_edit(self) -> bool:
        return any(i.relationship == "parentOf" for i in self.ingredient_list())


def _json(value: Any, name: str) -> bytes:
    try:
        return json.dumps(value, sort_keys=True, default=str).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SigningError(f"{name} is not JSON-serialisable: {exc}") from None


def policy_digest(decision: Mapping[str, Any]) -> str:
    """SHA-256 hex of the decision's RFC 8785 canonical JSON (what the audit log commits to)."""
    try:
        return hashlib.sha256(rfc8785.dumps(json.loads(_json(decision, "policy_decision")))).hexdigest()
    except rfc8785.CanonicalizationError as exc:  # pragma: no cover - floats like NaN
        raise SigningError(f"policy_decision cannot be canonicalised: {exc}") from None


def _created(spec: ManifestSpec) -> str:
    at = spec.created_at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _system(spec: ManifestSpec) -> tuple[str, str]:
    record = spec.model_record
    name = spec.system_name or str(record.get("model_id") or record.get("pipeline_class") or "unknown")
    version = spec.system_version or str(
        record.get("revision") or str(record.get("weights_digest") or "")[:16] or "unknown"
    )
    return name, version


def build_definition(spec: ManifestSpec, *, fmt: str, ingredient_ids: list[str] | None = None) -> dict[str, Any]:
    """The c2pa-rs manifest definition (JSON) for ``spec``; ingredients are added by the caller."""
    created = _created(spec)
    system_name, system_version = _system(spec)
    agent = {"name": system_name, "version": system_version}
    ids = ingredient_ids or []  # none given: the definition cites no ingredient (zip stops short)
    parents = [i for i, ing in zip(ids, spec.ingredient_list(), strict=False) if ing.relationship == "parentOf"]
    inputs = [i for i, ing in zip(ids, spec.ingredient_list(), strict=False) if ing.relationship != "parentOf"]
    actions: list[dict[str, Any]] = []
    if parents:
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": parents[:1]}})
        actions.append(
            {
                "action": "c2pa.edited",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent,
                "when": created,
                **({"parameters": {"ingredientIds": inputs}} if inputs else {}),
            }
        )
    else:
        actions.append(
            {
                "action": "c2pa.created",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent,
                "when": created,
                **({"parameters": {"ingredientIds": inputs}} if inputs else {}),
            }
        )
    actions.append(
        {
            # 2.4 deprecates c2pa.watermarked; .bound: the watermark is tied to the c2pa.soft-binding below
            "action": "c2pa.watermarked.bound" if spec.spec_version == "2.4" else "c2pa.watermarked",
            "softwareAgent": {"name": "ReelGuard", "version": spec.generator_version},
            "description": f"invisible watermark {spec.watermark_scheme}",
        }
    )
    # JSON-safe copies (datetimes, enums, paths become strings) so c2pa-rs always gets valid JSON
    decision = json.loads(_json(spec.policy_decision, "policy_decision"))
    model = json.loads(_json(spec.model_record, "model_record"))
    generation = {
        "content_id": spec.content_id,
        "created_at": created,
        "model": model,
        "policy": {
            "digest": policy_digest(decision),
            "action": str(decision.get("action", "")),
            "rule_id": decision.get("rule_id"),
            "category": decision.get("category"),
            "pack_digest": decision.get("pack_digest"),
        },
        "jurisdiction": spec.jurisdiction,
        "obligations": list(spec.obligations),
        "audit_leaf_index": spec.audit_leaf_index,
        "watermark": {"scheme": spec.watermark_scheme, "payload_hex": spec.watermark_payload_hex},
    }
    if spec.references:  # absent, not empty, when there were none: older manifests read the same
        generation["references"] = json.loads(_json(list(spec.references), "references"))
    aigc = {
        "Label": "1",  # 1 = AI-generated (GB 45438-2025 Appendix E)
        "ContentProducer": spec.organisation,
        "ProduceID": spec.content_id,
        "ReservedCode1": f"{spec.watermark_scheme}:{spec.watermark_payload_hex}",
        "ContentPropagator": "",
        "PropagateID": "",
        "ReservedCode2": "",
    }
    sb942 = {
        "provider": spec.organisation,
        "system_name": system_name,
        "system_version": system_version,
        "created_at": created,
        "unique_id": spec.content_id,
        "ai_generated": True,
    }
    generator_info: dict[str, Any] = {"name": "ReelGuard", "version": spec.generator_version}
    if spec.spec_version != "2.2":  # specVersion exists from 2.3 on (mandatory for 2.4 conformance)
        generator_info["specVersion"] = f"{spec.spec_version}.0"  # SemVer
    assertions = [
        {"label": "c2pa.actions.v2", "data": {"actions": actions, "allActionsIncluded": True}},
        {
            "label": "c2pa.soft-binding",
            "data": {
                "alg": spec.watermark_scheme,
                "blocks": [{"scope": {}, "value": spec.watermark_payload_hex}],
                "name": "ReelGuard invisible video watermark",
            },
        },
        {"label": GENERATION_LABEL, "data": generation},
        {
            "label": TRAINING_MINING_LABEL,
            "data": {"entries": {k: {"use": v} for k, v in spec.training_mining.items()}},
        },
        {"label": AIGC_LABEL, "data": {"AIGC": aigc}},
        {"label": SB942_LABEL, "data": sb942},
    ]
    return {
        "claim_version": 2,
        "claim_generator_info": [generator_info],
        "title": spec.title,
        "format": fmt,
        # created, not gathered: ReelGuard makes every one of these itself (ingredients, added by
        # c2pa-rs from the ingredient files, stay gathered)
        "assertions": [{**assertion, "created": True} for assertion in assertions],
    }
