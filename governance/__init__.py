"""ReelGuard governance: settings, keys, signing, storage, audit, and the flows that tie the
policy engine, the generator and the detectors together.

The small public surface::

    import governance
    outcome = governance.generate("a red circle moving right on a blue background", "out.mp4")
    report = governance.verify("out.mp4")
    print(report.verdict, report.reasons)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.errors import (
        AuditError,
        AuditIntegrityError,
        ConfigError,
        KeyMaterialError,
        OutputError,
        OutputExistsError,
        PassphraseError,
        PolicyDenied,
        ReelGuardError,
        SigningError,
        StorageError,
    )
    from governance.core.settings import Settings, get_settings
    from governance.flows import FlowContext, GenerateRequest, GenerationOutcome, ProtectedMaterialBlocked, VerifyReport

# Where each public name lives. Loaded on first access (PEP 562): ``import governance`` is what
# every ``reelguard`` command pays first, and the flows pull in numpy, scipy and the policy engine,
# which ``reelguard --help`` never needs.
_LAZY = {
    **{
        name: "governance.core.errors"
        for name in (
            "AuditError",
            "AuditIntegrityError",
            "ConfigError",
            "KeyMaterialError",
            "OutputError",
            "OutputExistsError",
            "PassphraseError",
            "PolicyDenied",
            "ReelGuardError",
            "SigningError",
            "StorageError",
        )
    },
    **{
        name: "governance.flows"
        for name in ("FlowContext", "GenerateRequest", "GenerationOutcome", "ProtectedMaterialBlocked", "VerifyReport")
    },
    "Settings": "governance.core.settings",
    "get_settings": "governance.core.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'governance' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "generate",
    "verify",
    "FlowContext",
    "GenerateRequest",
    "GenerationOutcome",
    "VerifyReport",
    "Settings",
    "get_settings",
    "ReelGuardError",
    "ConfigError",
    "StorageError",
    "KeyMaterialError",
    "PassphraseError",
    "SigningError",
    "OutputExistsError",
    "OutputError",
    "AuditError",
    "AuditIntegrityError",
    "PolicyDenied",
    "ProtectedMaterialBlocked",
]


def generate(
    prompt: str,
    output: str | Path,
    *,
    seed: int = 0,
    model: str | None = None,
    num_frames: int | None = None,
    width: int | None = None,
    height: int | None = None,
    jurisdiction: str | None = None,
    force: bool = False,
    context: FlowContext | None = None,
    **settings_overrides: Any,
) -> GenerationOutcome:
    """Gated, watermarked, signed and logged generation; raises PolicyDenied on refusal."""
    from governance.core.settings import get_settings
    from governance.flows import FlowContext, GenerateRequest
    from governance.flows import generate as _generate_flow

    ctx = context or FlowContext(get_settings(**settings_overrides))
    request = GenerateRequest(
        prompt=prompt,
        output=Path(output),
        seed=seed,
        model=model,
        num_frames=num_frames,
        width=width,
        height=height,
        jurisdiction=jurisdiction,
        force=force,
        actor="python",
    )
    return _generate_flow(ctx, request)


def verify(path: str | Path, *, context: FlowContext | None = None, **settings_overrides: Any) -> VerifyReport:
    """Verify one clip: C2PA, watermark, registry → one verdict with its evidence."""
    from governance.core.settings import get_settings
    from governance.flows import FlowContext
    from governance.flows import verify as _verify_flow

    ctx = context or FlowContext(get_settings(**settings_overrides))
    return _verify_flow(ctx, path, actor="python")
