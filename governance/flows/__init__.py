"""The orchestration layer: the one place that imports across policies, generator, detectors
and governance. The CLI and the HTTP API are thin wrappers over these functions."""

from governance.flows.context import FlowContext
from governance.flows.generate import (
    GenerateRequest,
    GenerationOutcome,
    ProtectedMaterialBlocked,
    check_prompt,
    generate,
)
from governance.flows.verify import VERDICTS, VerifyOptions, VerifyReport, decide_verdict, verify

__all__ = [
    "FlowContext",
    "GenerateRequest",
    "GenerationOutcome",
    "ProtectedMaterialBlocked",
    "check_prompt",
    "generate",
    "VERDICTS",
    "VerifyOptions",
    "VerifyReport",
    "decide_verdict",
    "verify",
]
