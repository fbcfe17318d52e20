"""C2PA conformance-program asset rubrics: load, evaluate on crJSON, and read provenance signals.

    from detectors.provenance.rubrics import crjson_from_reader, load_rubric, evaluate_rubric, signals
    store = crjson_from_reader(reader)                  # a c2pa.Reader over the asset
    report = evaluate_rubric(load_rubric("asset-rubric-integrity.yml"), store)
    found = signals(store)                              # Signal(id="fullyGenAIMedia", scope="active", ...)

crJSON (the C2PA JSON serialisation of a manifest store: ``manifests`` as a list, the active
manifest first, ``assertions`` keyed by label, ``claim`` / ``claim.v2``, ``signature``,
per-manifest ``validationResults``) comes straight from c2pa-rs (``Reader.crjson()``, in
c2pa-python 0.38): nothing is converted here, so nothing is lost in translation.

Split in three modules to stay short: rubric_loader (YAML to typed rubric), rubric_eval
(statements to a RubricReport) and rubric_signals (the signals rubric over the provenance
graph). This module is the place to import from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from detectors.errors import ProvenanceError
from detectors.provenance.rubric_eval import DataBlockResult, Outcome, RubricReport, StatementResult, evaluate_rubric
from detectors.provenance.rubric_loader import (
    DataBlock,
    Rubric,
    RubricError,
    Statement,
    bundled_rubrics,
    load_rubric,
    load_rubric_file,
)
from detectors.provenance.rubric_signals import (
    GENAI_SIGNALS,
    POSSIBLE_GENAI_SIGNALS,
    SIGNALS_RUBRIC,
    ManifestSignals,
    Signal,
    evaluate_signals,
    signal_ids,
    signals,
)

__all__ = [
    "Rubric",
    "Statement",
    "DataBlock",
    "RubricError",
    "RubricReport",
    "StatementResult",
    "DataBlockResult",
    "Outcome",
    "Signal",
    "ManifestSignals",
    "SIGNALS_RUBRIC",
    "GENAI_SIGNALS",
    "POSSIBLE_GENAI_SIGNALS",
    "bundled_rubrics",
    "load_rubric",
    "load_rubric_file",
    "evaluate_rubric",
    "evaluate_signals",
    "signals",
    "signal_ids",
    "crjson_from_reader",
    "crjson_from_json",
]

MAX_CRJSON_CHARS = 64 * 1024 * 1024  # crJSON inlines no binary data; a real store is a few 100 kB


class _CrJsonSource(Protocol):
    def crjson(self) -> str: ...


def crjson_from_reader(reader: _CrJsonSource) -> dict[str, Any]:
    """The crJSON of an open ``c2pa.Reader``, parsed; ``{"manifests": []}`` when it has none.

    c2pa-rs writes it natively (``Reader.crjson()``), with the validation results of the
    reader's context (trust anchors, verification settings) in each manifest.
    """
    try:
        text = reader.crjson()
    except Exception as exc:  # c2pa.C2paError and its many subclasses: the reader is unusable
        raise ProvenanceError(f"c2pa could not produce crJSON: {str(exc)[:200]}") from None
    return crjson_from_json(text)


def crjson_from_json(text: str) -> dict[str, Any]:
    """Parse crJSON text; ProvenanceError when it is not a JSON object with a manifests list."""
    if len(text) > MAX_CRJSON_CHARS:
        raise ProvenanceError(f"crJSON of {len(text)} characters exceeds {MAX_CRJSON_CHARS}")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise ProvenanceError("crJSON is not valid JSON") from None
    if not isinstance(document, Mapping):
        raise ProvenanceError("crJSON must be a JSON object")
    manifests = document.get("manifests", [])
    if not isinstance(manifests, list):
        raise ProvenanceError("crJSON 'manifests' must be a list")
    return {**document, "manifests": manifests}
