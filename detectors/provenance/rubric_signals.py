"""Provenance signals (inception and transformation) from the C2PA local signals rubric.

The rubric is *local*: each statement is evaluated with one manifest as ``@``, for every
manifest of the store (the active one first, then the ingredients' manifests), plus a
synthetic manifest for each flat ingredient (an ingredient assertion without an
``activeManifest``) that declares a ``digitalSourceType`` directly or through a
``c2pa.opened`` action of its parent: a ``c2pa.created`` action with that source type, as the
conformance program's evaluator builds it.

The rubric matches only 2.x structures (``c2pa.actions.v2``, ``c2pa.ingredient.v3``) and
exact source-type URIs. Most Content Credentials in circulation are older or looser (Adobe
Firefly and Photoshop, Amazon Titan and Digimarc write ``c2pa.actions`` v1; some Firefly
versions write ``https://cv.iptc.org/...``; a c2pa-rs fixture has a leading space), so by
default every manifest is *also* evaluated through a lenient view: ``c2pa.actions`` shown as
``c2pa.actions.v2``, a v1/v2 ingredient (``c2pa_manifest``) as ``c2pa.ingredient.v3``
(``activeManifest``), and each ``digitalSourceType`` trimmed and with ``https://`` read as the
``http://`` the IPTC and C2PA vocabularies define. A signal found only through that view is
marked ``lenient=True``; pass ``lenient=False`` for the rubric exactly as published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from detectors.provenance.rubric_eval import RubricReport, evaluate_rubric
from detectors.provenance.rubric_loader import Rubric, load_rubric

__all__ = [
    "Signal",
    "ManifestSignals",
    "evaluate_signals",
    "signals",
    "signal_ids",
    "SIGNALS_RUBRIC",
    "GENAI_SIGNALS",
    "POSSIBLE_GENAI_SIGNALS",
]

SIGNALS_RUBRIC = "asset-rubric-signals-local.yml"
# Signals that say generative AI made or changed the content ...
GENAI_SIGNALS = frozenset({"fullyGenAIMedia", "partlyGenAICreation", "perceptibleGenAI"})
# ... and those that say it may have (the rubric's own "may contain" / "possibly" wording).
POSSIBLE_GENAI_SIGNALS = frozenset(
    {"compositionMayContainGenAI", "screenCaptureMayContainGenAI", "perceptiblePossiblyGenAI"}
)
Scope = Literal["active", "ingredient"]
_SCHEMES = ("https://cv.iptc.org/", "https://c2pa.org/")


@dataclass(frozen=True)
class Signal:
    id: str  # e.g. "fullyGenAIMedia"
    trait: str  # the rubric statement id, e.g. "inception:signal_fullyGenAIMedia"
    kind: Literal["inception", "transformation"]
    scope: Scope  # "active": the asset's own manifest; "ingredient": anything it was made from
    manifest_label: str  # the manifest it was found in (for a flat ingredient: its parent's)
    manifest_index: int  # position of that manifest in crJSON ``manifests``
    pseudo: bool = False  # from a flat ingredient's declared digitalSourceType
    ingredient: str | None = None  # the flat ingredient's assertion label, when pseudo
    lenient: bool = False  # found only through the lenient view (see the module docstring)


@dataclass(frozen=True)
class ManifestSignals:
    """The signals rubric's full report for one node of the provenance graph."""

    manifest_index: int
    manifest_label: str
    scope: Scope
    pseudo: bool
    ingredient: str | None
    lenient_view: bool
    report: RubricReport


@lru_cache(maxsize=1)
def _signals_rubric() -> Rubric:
    return load_rubric(SIGNALS_RUBRIC)


def evaluate_signals(
    crjson: Mapping[str, Any], *, lenient: bool = True, rubric: Rubric | None = None
) -> tuple[ManifestSignals, ...]:
    """One report per manifest and per flat ingredient, each followed (``lenient``) by the
    report on its lenient view when that view differs from the manifest itself."""
    rubric = rubric or _signals_rubric()
    nodes: list[ManifestSignals] = []

    def add(
        index: int,
        label: str,
        scope: Scope,
        ingredient: str | None,
        document: Mapping[str, Any],
        view: Mapping[str, Any] | None,
    ) -> None:
        pseudo = ingredient is not None
        nodes.append(ManifestSignals(index, label, scope, pseudo, ingredient, False, evaluate_rubric(rubric, document)))
        if lenient and view is not None:
            nodes.append(ManifestSignals(index, label, scope, pseudo, ingredient, True, evaluate_rubric(rubric, view)))

    for index, manifest in enumerate(_manifests(crjson)):
        label = str(manifest.get("label") or f"#{index}")
        add(index, label, "active" if index == 0 else "ingredient", None, manifest, _lenient_view(manifest))
        for key, source_type in _flat_ingredients(manifest):
            strict = _pseudo_manifest(label, key, source_type)
            normalized = _normalize(source_type)
            view = _pseudo_manifest(label, key, normalized) if normalized != source_type else None
            add(index, label, "ingredient", key, strict, view)
    return tuple(nodes)


def signals(crjson: Mapping[str, Any], *, lenient: bool = True) -> tuple[Signal, ...]:
    """Every signal present anywhere in the store, with where it was found (active first)."""
    found: list[Signal] = []
    strict: set[tuple[int, str | None, str]] = set()
    for node in evaluate_signals(crjson, lenient=lenient):
        for result in node.report.results:
            if result.outcome != "pass":
                continue
            key = (node.manifest_index, node.ingredient, result.id)
            if node.lenient_view and key in strict:
                continue  # the published rubric already found it there
            if not node.lenient_view:
                strict.add(key)
            kind: Literal["inception", "transformation"] = (
                "transformation" if result.id.startswith("transformation:") else "inception"
            )
            found.append(
                Signal(
                    id=result.id.split(":", 1)[-1].removeprefix("signal_"),
                    trait=result.id,
                    kind=kind,
                    scope=node.scope,
                    manifest_label=node.manifest_label,
                    manifest_index=node.manifest_index,
                    pseudo=node.pseudo,
                    ingredient=node.ingredient,
                    lenient=node.lenient_view,
                )
            )
    return tuple(found)


def signal_ids(found: Iterable[Signal]) -> tuple[str, ...]:
    """The distinct signal ids in ``found``, sorted."""
    return tuple(sorted({signal.id for signal in found}))


def _manifests(crjson: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    manifests = crjson.get("manifests") if isinstance(crjson, Mapping) else None
    if not isinstance(manifests, list):
        return []
    return [manifest for manifest in manifests if isinstance(manifest, Mapping)]


def _assertions(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    assertions = manifest.get("assertions")
    return assertions if isinstance(assertions, Mapping) else {}


def _normalize(source_type: Any) -> Any:
    """A digitalSourceType as the vocabularies spell it: trimmed, ``http://`` not ``https://``."""
    if not isinstance(source_type, str):
        return source_type
    text = source_type.strip()
    if text.startswith(_SCHEMES):
        text = "http://" + text[len("https://") :]
    return text


def _normalized_actions(actions: Mapping[str, Any]) -> dict[str, Any]:
    items = actions.get("actions")
    if not isinstance(items, list):
        return dict(actions)
    fixed = [
        {**item, "digitalSourceType": _normalize(item["digitalSourceType"])}
        if isinstance(item, Mapping) and "digitalSourceType" in item
        else item
        for item in items
    ]
    return {**actions, "actions": fixed}


def _lenient_view(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """``manifest`` read leniently (see the module docstring), or None when nothing differs."""
    assertions = dict(_assertions(manifest))
    actions = assertions.get("c2pa.actions.v2", assertions.get("c2pa.actions"))
    if isinstance(actions, Mapping):
        assertions["c2pa.actions.v2"] = _normalized_actions(actions)
    if "c2pa.ingredient.v3" not in assertions:
        for label in ("c2pa.ingredient.v2", "c2pa.ingredient"):
            ingredient = assertions.get(label)
            if isinstance(ingredient, Mapping):
                view = dict(ingredient)
                if "activeManifest" not in view and "c2pa_manifest" in view:
                    view["activeManifest"] = view["c2pa_manifest"]  # renamed in ingredient v3
                assertions["c2pa.ingredient.v3"] = view
                break
    if assertions == _assertions(manifest):
        return None
    return {**manifest, "assertions": assertions}


def _flat_ingredients(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(ingredient label, source type) for each ingredient without a manifest of its own whose
    source type is declared on it or on a ``c2pa.opened`` action of ``manifest``."""
    assertions = _assertions(manifest)
    out: list[tuple[str, str]] = []
    for key, ingredient in assertions.items():
        if not str(key).startswith("c2pa.ingredient") or not isinstance(ingredient, Mapping):
            continue
        link = ingredient.get("activeManifest")
        if isinstance(link, Mapping) and link.get("url"):
            continue  # a real manifest: evaluated in its own right
        source_type = ingredient.get("digitalSourceType") or _opened_source_type(assertions)
        if isinstance(source_type, str) and source_type:
            out.append((str(key), source_type))
    return out


def _pseudo_manifest(parent_label: str, ingredient: str, source_type: str) -> dict[str, Any]:
    return {
        "label": f"{parent_label}#{ingredient}",
        "assertions": {
            "c2pa.actions.v2": {
                "allActionsIncluded": True,
                "actions": [{"action": "c2pa.created", "digitalSourceType": source_type}],
            }
        },
    }


def _opened_source_type(assertions: Mapping[str, Any]) -> Any:
    for key, value in assertions.items():
        if not str(key).startswith("c2pa.actions") or not isinstance(value, Mapping):
            continue
        for action in value.get("actions") or ():
            if (
                isinstance(action, Mapping)
                and action.get("action") == "c2pa.opened"
                and action.get("digitalSourceType")
            ):
                return action["digitalSourceType"]
    return None
