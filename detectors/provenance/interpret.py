"""c2pa-rs's reader JSON in, one typed ``ProvenanceReport`` out (pure: no I/O).

The state mirrors c2pa-rs's ``validation_state`` (Trusted / Valid / Invalid, or no manifest);
the codes are its failure codes as they are, never invented; ingredients carry their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from detectors.provenance.codes import BINDING_CODES, INTEGRITY_CODES
from detectors.provenance.disclosure import Disclosure, build_disclosure, no_credentials
from detectors.provenance.formats import MediaKind

__all__ = [
    "ProvenanceReport",
    "SoftBinding",
    "IngredientReport",
    "ActionReport",
    "ProvenanceState",
    "interpret",
    "AI_SOURCE_TYPES",
]

ProvenanceState = Literal["trusted", "valid", "invalid", "absent"]
Source = Literal["embedded", "sidecar", "remote", "store", "none"]

_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES = frozenset(
    _IPTC + name for name in ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
)
# Labels written by governance's signer (kept equal by tests/detectors/test_provenance).
GENERATION_LABEL = "org.reelguard.generation"
AIGC_LABEL = "org.reelguard.aigc"
SB942_LABEL = "org.reelguard.sb942"
TRAINING_MINING_LABEL = "cawg.training-mining"
_CAWG_IDENTITY = "cawg.identity"
INGREDIENT_SHA256_KEY = "org.reelguard.sha256"  # ingredient metadata field (governance's signer writes it)


@dataclass(frozen=True)
class SoftBinding:
    alg: str
    payload_hex: str


@dataclass(frozen=True)
class ActionReport:
    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class IngredientReport:
    title: str | None
    relationship: str | None
    format: str | None
    manifest_label: str | None  # None: the ingredient carried no manifest
    state: Literal["valid", "invalid", "unsigned"]
    codes: tuple[str, ...]  # failure codes, as recorded at signing and as found now
    sha256: str | None = None  # the ingredient file's digest, where the signer recorded one (ReelGuard does)


@dataclass(frozen=True)
class ProvenanceReport:
    state: ProvenanceState
    codes: tuple[str, ...] = ()  # failure codes of the active manifest
    source: Source = "none"
    media_kind: MediaKind = "other"
    format: str | None = None
    manifest_label: str | None = None
    signer: str | None = None  # signing certificate common name
    issuer: str | None = None  # signing certificate organisation ("Adobe Inc.", "OpenAI", ...)
    algorithm: str | None = None
    signed_at: dt.datetime | None = None  # the time-stamp's time, or the claim's time when untimestamped
    time_stamped: bool = False
    timestamp_trusted: bool = False
    claim_generator: str | None = None
    soft_bindings: tuple[SoftBinding, ...] = ()
    actions: tuple[ActionReport, ...] = ()
    cawg_identities: tuple[str, ...] = ()
    content_id: str | None = None
    generation: dict[str, Any] | None = None  # the org.reelguard.generation assertion
    aigc: dict[str, Any] | None = None  # GB 45438 Appendix E fields
    sb942: dict[str, Any] | None = None  # California SB 942 latent disclosure
    training_mining: dict[str, Any] | None = None
    ingredients: tuple[IngredientReport, ...] = ()
    disclosure: Disclosure = field(default_factory=no_credentials)
    binding_checked: bool = True  # False for a bare manifest store: no asset to hash
    remote_url: str | None = None
    manifest: dict[str, Any] | None = field(default=None, repr=False)  # active manifest as c2pa-rs reads it
    crjson: dict[str, Any] | None = field(default=None, repr=False)
    informational: tuple[str, ...] = ()
    error: str | None = None  # why a manifest that is there could not be read

    @property
    def soft_binding(self) -> SoftBinding | None:
        return self.soft_bindings[0] if self.soft_bindings else None

    @property
    def claims_ai_generated(self) -> bool:
        return self.disclosure.ai_generated is True

    @property
    def digital_source_type(self) -> str | None:
        return next((a.digital_source_type for a in self.actions if a.digital_source_type), None)

    @property
    def ingredient_codes(self) -> tuple[str, ...]:
        return tuple(code for ing in self.ingredients for code in ing.codes)

    @property
    def integrity_codes(self) -> tuple[str, ...]:
        return tuple(c for c in self.codes if c in INTEGRITY_CODES)

    @property
    def ok(self) -> bool:
        """Trusted or valid, and every ingredient that carried a manifest validated too."""
        return self.state in ("trusted", "valid") and not any(i.state == "invalid" for i in self.ingredients)

    def to_dict(self, *, verbose: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("manifest", "crjson", "disclosure")}
        out["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        out["soft_binding"] = asdict(self.soft_binding) if self.soft_binding else None
        out["claims_ai_generated"] = self.claims_ai_generated
        out["ok"] = self.ok
        if not verbose:
            for bulky in ("generation", "aigc", "sb942", "training_mining", "informational"):
                out.pop(bulky, None)
        return out


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list, else empty: the JSON mirrors whatever the signer wrote."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else empty."""
    return value if isinstance(value, dict) else {}


def _codes(results: dict[str, Any] | None, kind: str) -> tuple[str, ...]:
    if not isinstance(results, dict):
        return ()
    return tuple(
        str(item.get("code")) for item in _list(results.get(kind)) if isinstance(item, dict) and item.get("code")
    )


def _assertions(manifest: dict[str, Any], label: str) -> list[dict[str, Any]]:
    return [
        a["data"]
        for a in _list(manifest.get("assertions"))
        if isinstance(a, dict)
        and isinstance(a.get("data"), dict)
        and (a.get("label") == label or str(a.get("label", "")).startswith(label + "__"))
    ]


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any] | None:
    found = _assertions(manifest, label)
    return found[0] if found else None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _soft_bindings(manifest: dict[str, Any]) -> tuple[SoftBinding, ...]:
    out = []
    for data in _assertions(manifest, "c2pa.soft-binding"):
        if not isinstance(data.get("alg"), str):
            continue
        for block in _list(data.get("blocks")):
            value = block.get("value") if isinstance(block, dict) else None
            if isinstance(value, str):
                out.append(SoftBinding(alg=data["alg"], payload_hex=value.lower()))
            elif isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
                out.append(SoftBinding(alg=data["alg"], payload_hex=bytes(value).hex()))  # a bstr as bytes
    return tuple(out)


def _actions(manifest: dict[str, Any]) -> tuple[ActionReport, ...]:
    out = []
    for label in ("c2pa.actions.v2", "c2pa.actions"):
        for data in _assertions(manifest, label):
            for action in _list(data.get("actions")):
                if not isinstance(action, dict) or not isinstance(action.get("action"), str):
                    continue
                agent = action.get("softwareAgent")
                if isinstance(agent, dict):
                    agent = agent.get("name")
                params = _dict(action.get("parameters"))
                description = action.get("description") or params.get("description")
                source = action.get("digitalSourceType")
                out.append(
                    ActionReport(
                        action["action"],
                        source if isinstance(source, str) else None,
                        agent if isinstance(agent, str) else None,
                        description if isinstance(description, str) else None,
                    )
                )
    return tuple(out)


def claim_generator_name(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict) and isinstance(info[0].get("name"), str):
        name, version = info[0]["name"], info[0].get("version")
        return f"{name} {version}" if isinstance(version, str) and version not in name else name
    generator = manifest.get("claim_generator")
    return generator if isinstance(generator, str) else None


def _cawg_identities(manifest: dict[str, Any]) -> tuple[str, ...]:
    """One line per CAWG identity assertion: who (verified identities or the X.509 signer) and how."""
    out = []
    for data in _assertions(manifest, _CAWG_IDENTITY):
        payload = _dict(data.get("signer_payload"))
        sig_type = payload.get("sig_type") or (
            "cawg.identity_claims_aggregation" if data.get("verifiedIdentities") else "identity"
        )
        who = []
        for v in _list(data.get("verifiedIdentities")):
            if isinstance(v, dict):
                name = v.get("name") or v.get("username")
                kind = str(v.get("type") or "").removeprefix("cawg.")
                who.append(f"{name} ({kind})" if name and kind else str(name or kind))
        sig = _dict(data.get("signature_info"))
        if not who and (sig.get("issuer") or sig.get("common_name")):
            who.append(", ".join(str(x) for x in (sig.get("issuer"), sig.get("common_name")) if x))
        issuer = data.get("issuer") if isinstance(data.get("issuer"), str) else None
        line = f"{sig_type}: {'; '.join(w for w in who if w) or 'unnamed'}"
        out.append(line + (f" (issued by {issuer})" if issuer else ""))
    return tuple(out)


def _ingredient_deltas(results: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Failure codes per ingredient assertion label (the last path segment of its URI)."""
    out: dict[str, tuple[str, ...]] = {}
    for delta in _list(results.get("ingredientDeltas")):
        if isinstance(delta, dict) and isinstance(delta.get("ingredientAssertionURI"), str):
            label = delta["ingredientAssertionURI"].rsplit("/", 1)[-1]
            out[label] = out.get(label, ()) + _codes(delta.get("validationDeltas"), "failure")
    return out


def _ingredients(manifest: dict[str, Any], deltas: dict[str, tuple[str, ...]]) -> tuple[IngredientReport, ...]:
    out = []
    for ing in _list(manifest.get("ingredients")):
        if not isinstance(ing, dict):
            continue
        label = ing.get("active_manifest")
        results = _dict(ing.get("validation_results"))
        recorded = _codes(results.get("activeManifest"), "failure")
        found = deltas.get(str(ing.get("label")), ())
        codes = tuple(dict.fromkeys(recorded + found))
        state: Literal["valid", "invalid", "unsigned"]
        if not label:
            state = "unsigned"
        else:
            state = "invalid" if any(c != "signingCredential.untrusted" for c in codes) else "valid"
        metadata = _dict(ing.get("metadata"))
        digest = metadata.get(INGREDIENT_SHA256_KEY)
        out.append(
            IngredientReport(
                ing.get("title"),
                ing.get("relationship"),
                ing.get("format"),
                label,
                state,
                codes,
                digest if isinstance(digest, str) else None,
            )
        )
    return tuple(out)


def interpret(
    store: dict[str, Any],
    *,
    crjson: dict[str, Any] | None = None,
    source: Source = "embedded",
    media_kind: MediaKind = "other",
    format: str | None = None,
    binding_checked: bool = True,
    remote_url: str | None = None,
) -> ProvenanceReport:
    """Turn c2pa-rs's reader JSON (``Reader.json()``, plus ``Reader.crjson()`` for the signals)
    into a ProvenanceReport. Without an asset (``binding_checked=False``) the hard-binding
    mismatch codes are expected and set aside."""
    common: dict[str, Any] = {
        "source": source,
        "media_kind": media_kind,
        "format": format,
        "binding_checked": binding_checked,
        "remote_url": remote_url,
    }
    label = store.get("active_manifest")
    manifests = _dict(store.get("manifests"))
    manifest = manifests.get(label) if label else None
    state_raw = str(store.get("validation_state") or "Invalid")
    results = _dict(store.get("validation_results"))
    active = results.get("activeManifest")
    codes = _codes(active, "failure")
    if not binding_checked:
        codes = tuple(c for c in codes if c not in BINDING_CODES)
    if not isinstance(manifest, dict):
        return ProvenanceReport(
            state="invalid",
            codes=codes,
            error="the manifest store names no readable active manifest",
            disclosure=Disclosure(label="Content Credentials present but not readable"),
            **common,
        )
    state: ProvenanceState = {"Trusted": "trusted", "Valid": "valid"}.get(state_raw, "invalid")  # type: ignore[assignment]
    successes = _codes(active, "success")
    if not binding_checked and state == "invalid" and all(c == "signingCredential.untrusted" for c in codes):
        # only the (uncheckable) binding failed: judge the signature and trust on their own
        state = "trusted" if not codes and "signingCredential.trusted" in successes else "valid"
    if state == "invalid" and not codes:
        codes = ("validation.notPerformed",)  # c2pa-rs said Invalid without a reason (verification off)
    sig = _dict(manifest.get("signature_info"))
    generation = _assertion(manifest, GENERATION_LABEL)
    aigc_data = _assertion(manifest, AIGC_LABEL)
    content_id = generation.get("content_id") if generation else None
    ingredients = _ingredients(manifest, _ingredient_deltas(results))
    actions = _actions(manifest)
    claim_generator = claim_generator_name(manifest)
    signed_at = _parse_time(sig.get("time"))
    return ProvenanceReport(
        state=state,
        codes=codes,
        manifest_label=label,
        signer=sig.get("common_name"),
        issuer=sig.get("issuer"),
        algorithm=sig.get("alg"),
        signed_at=signed_at,
        time_stamped=any(c.startswith("timeStamp.") for c in successes + codes),
        timestamp_trusted="timeStamp.trusted" in successes,
        claim_generator=claim_generator,
        soft_bindings=_soft_bindings(manifest),
        actions=actions,
        cawg_identities=_cawg_identities(manifest),
        content_id=content_id if isinstance(content_id, str) else None,
        generation=generation,
        aigc=(aigc_data or {}).get("AIGC") if aigc_data else None,
        sb942=_assertion(manifest, SB942_LABEL),
        training_mining=_assertion(manifest, TRAINING_MINING_LABEL),
        ingredients=ingredients,
        disclosure=build_disclosure(
            crjson,
            manifest=manifest,
            actions=actions,
            claim_generator=claim_generator,
            issuer=sig.get("issuer"),
            signed_at=signed_at,
        ),
        manifest=manifest,
        crjson=crjson,
        informational=_codes(active, "informational"),
        **common,
    )
