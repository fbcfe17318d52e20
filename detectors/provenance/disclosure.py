"""What the credentials say about AI, for a label a platform can show.

The signals are the C2PA conformance program's (the local signals rubric, evaluated by
``detectors.provenance.rubrics`` over the active manifest and every ingredient manifest).
The rubric is read leniently (the ``https://`` form of IPTC source types, stray whitespace,
version-1 ``c2pa.actions``), and Adobe's legacy ``com.adobe.generative-ai`` assertion counts as
fully AI-made. ``ai_generated`` is true when any GenAI signal is present
anywhere, false only when the credentials positively state capture or non-AI creation, and
null otherwise, including when there are no credentials: no evidence is not "not AI".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from detectors.provenance.interpret import ActionReport

__all__ = ["Disclosure", "SignalFound", "build_disclosure", "no_credentials", "GENAI_SIGNALS", "NON_AI_SIGNALS"]

# Signals that say AI made all or part of what is shown.
GENAI_SIGNALS = frozenset({"fullyGenAIMedia", "partlyGenAICreation", "perceptibleGenAI"})
# Signals that say it was captured, or made by hand, with no AI.
NON_AI_SIGNALS = frozenset({"capturedMedia", "capturedMediaStitched", "nonGenAIDigitalCreation"})
_LEGACY_ADOBE_AI = "com.adobe.generative-ai"


@dataclass(frozen=True)
class SignalFound:
    signal: str  # e.g. "fullyGenAIMedia"
    scope: str  # "active" or "ingredient"
    manifest_label: str | None


@dataclass(frozen=True)
class Disclosure:
    ai_generated: bool | None = None
    signals: tuple[str, ...] = ()  # distinct signal ids, active manifest first
    evidence: tuple[SignalFound, ...] = ()
    label: str | None = None
    tool: str | None = None  # the generator or editor the credentials name

    def to_dict(self) -> dict[str, Any]:
        return {
            "ai_generated": self.ai_generated,
            "signals": list(self.signals),
            "label": self.label,
            "tool": self.tool,
            "evidence": [{"signal": e.signal, "scope": e.scope, "manifest": e.manifest_label} for e in self.evidence],
        }


def no_credentials() -> Disclosure:
    return Disclosure(ai_generated=None, label="No Content Credentials")


def _signals(crjson: dict[str, Any]) -> tuple[SignalFound, ...]:
    """The rubric's signals (read leniently: https IPTC URIs, stray spaces, version-1 actions),
    plus Adobe's legacy ``com.adobe.generative-ai`` assertion, which Firefly's 2023 files use
    instead of a source type and which the rubric does not know."""
    from detectors.provenance.rubrics import signals

    found = [SignalFound(s.id, s.scope, s.manifest_label) for s in signals(crjson)]
    manifests = crjson.get("manifests")
    for index, manifest in enumerate(manifests if isinstance(manifests, list) else ()):
        assertions = manifest.get("assertions") if isinstance(manifest, dict) else None
        if isinstance(assertions, dict) and any(k.split("__", 1)[0] == _LEGACY_ADOBE_AI for k in assertions):
            scope = "active" if index == 0 else "ingredient"
            found.append(SignalFound("fullyGenAIMedia", scope, manifest.get("label")))
    return tuple(dict.fromkeys(found))


def _product(claim_generator: str | None) -> str | None:
    """``Adobe_Photoshop/24.7.0 (build ...) adobe_c2pa/0.4.6 c2pa-rs/0.18.0`` -> ``Adobe Photoshop``."""
    if not claim_generator:
        return None
    head = claim_generator.split(" c2pa", 1)[0].split(" adobe_c2pa", 1)[0].split(" c2patool", 1)[0]
    return head.split("/", 1)[0].split(" (", 1)[0].replace("_", " ").strip() or None


def _agents(actions: Sequence[ActionReport], kinds: tuple[str, ...]) -> list[str]:
    return [
        a.software_agent.strip()
        for a in actions
        if a.software_agent and a.software_agent.strip() and (not kinds or a.action in kinds)
    ]


def _device(manifest: dict[str, Any]) -> str | None:
    """Camera make and model from an EXIF assertion, when the capture device recorded them."""
    assertions = manifest.get("assertions")
    for assertion in assertions if isinstance(assertions, list) else ():
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("stds.exif"):
            continue
        data = assertion.get("data")
        if not isinstance(data, dict):
            continue
        make, model = data.get("tiff:Make") or data.get("exif:Make"), data.get("tiff:Model") or data.get("exif:Model")
        parts = [str(x).strip() for x in (make, model) if isinstance(x, str) and x.strip()]
        if parts:
            return " ".join(parts) if len(parts) < 2 or parts[0].lower() not in parts[1].lower() else parts[1]
    return None


def build_disclosure(
    crjson: dict[str, Any] | None,
    *,
    manifest: dict[str, Any],
    actions: Sequence[ActionReport],
    claim_generator: str | None,
    issuer: str | None,
    signed_at: dt.datetime | None,
) -> Disclosure:
    """The disclosure of the active ``manifest``, from its signals (``crjson``) and the actions
    and claim generator ``interpret`` already read from it."""
    evidence = _signals(crjson) if crjson else ()
    ids = tuple(dict.fromkeys(e.signal for e in evidence))
    genai = [e for e in evidence if e.signal in GENAI_SIGNALS]
    if genai:
        ai: bool | None = True
    elif any(e.signal in NON_AI_SIGNALS for e in evidence):
        ai = False
    else:
        ai = None
    # who created the content, which tool signed the last edit, the capturing camera
    editor = _product(claim_generator)
    created = _agents(actions, ("c2pa.created",)) or _agents(actions, ())
    generator = created[0] if created else editor
    editor = editor or generator
    device = _device(manifest)
    when = f", signed {signed_at:%Y-%m-%d}" if signed_at else ""
    unnamed = issuer or "an unnamed tool"
    if ai and any(e.signal == "fullyGenAIMedia" and e.scope == "active" for e in genai):
        tool, label = generator, f"Made with AI: {generator or unnamed}{when}"
    elif ai:
        tool, label = editor, f"Edited with {editor or unnamed}; contains AI-generated elements{when}"
    elif ai is False and ("capturedMedia" in ids or "capturedMediaStitched" in ids):
        tool = device or editor
        label = f"Camera capture, {tool or unnamed}{when}"
    elif ai is False:
        tool, label = editor, f"Made without generative AI: {editor or unnamed}{when}"
    else:
        tool, label = (
            editor,
            f"Content Credentials from {issuer or editor or 'an unnamed signer'}{when}; they say nothing about AI",
        )
    return Disclosure(ai_generated=ai, signals=ids, evidence=evidence, tool=tool, label=label)
