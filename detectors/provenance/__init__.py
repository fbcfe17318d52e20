"""C2PA provenance, read and interpreted: no network, no writes, no governance imports.

from detectors.provenance import read_provenance, TrustConfig
report = read_provenance("clip.mp4", trust=TrustConfig(anchors_pem=...))
report.state, report.codes, report.issuer, report.disclosure.label
"""

from detectors.provenance.codes import BINDING_CODES, INTEGRITY_CODES, UNTRUSTED_CODES
from detectors.provenance.disclosure import Disclosure, SignalFound
from detectors.provenance.formats import MediaFormat, sniff_format
from detectors.provenance.interpret import (
    AI_SOURCE_TYPES,
    ActionReport,
    IngredientReport,
    ProvenanceReport,
    ProvenanceState,
    SoftBinding,
    interpret,
)
from detectors.provenance.reader import read_manifest_store, read_provenance
from detectors.provenance.rubrics import (
    RubricError,
    RubricReport,
    Signal,
    StatementResult,
    evaluate_rubric,
    load_rubric,
    signals,
)
from detectors.provenance.trust import DEFAULT_EKUS, TrustConfig

__all__ = [
    "ProvenanceReport",
    "SoftBinding",
    "IngredientReport",
    "ActionReport",
    "ProvenanceState",
    "Disclosure",
    "SignalFound",
    "TrustConfig",
    "DEFAULT_EKUS",
    "MediaFormat",
    "sniff_format",
    "read_provenance",
    "read_manifest_store",
    "interpret",
    "AI_SOURCE_TYPES",
    "INTEGRITY_CODES",
    "BINDING_CODES",
    "UNTRUSTED_CODES",
    "RubricReport",
    "StatementResult",
    "RubricError",
    "Signal",
    "load_rubric",
    "evaluate_rubric",
    "signals",
]
