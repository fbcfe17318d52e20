"""ReelGuard's generator: diffusers text-to-video pipelines behind one interface, plus an embedded
model trained by the project (``load_generator(None)``).

    from generator import load_generator, GenerationRequest
    result = load_generator()(GenerationRequest("a red circle moving right on a blue background"))
    result.frames   # (F, H, W, 3) uint8 RGB;  result.record: the ModelRecord the manifest cites
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from generator.errors import GenerationParameterError, GeneratorError, ModelLoadError, ModelNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from generator.base import GenerationRequest, GenerationResult, ModelRecord
    from generator.diffusers_core import VideoGenerator, library_versions, load_generator
    from generator.loading import ModelInfo, default_model_path, describe_model, list_models, weights_digest

# torch and diffusers take seconds to import; importing ``generator.errors`` (as every CLI
# start does through governance.core.errors) must not pay for them, so the rest loads on first use.
_LAZY = {
    "GenerationRequest": "generator.base",
    "GenerationResult": "generator.base",
    "ModelRecord": "generator.base",
    "VideoGenerator": "generator.diffusers_core",
    "library_versions": "generator.diffusers_core",
    "load_generator": "generator.diffusers_core",
    "ModelInfo": "generator.loading",
    "default_model_path": "generator.loading",
    "describe_model": "generator.loading",
    "list_models": "generator.loading",
    "weights_digest": "generator.loading",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'generator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "load_generator",
    "VideoGenerator",
    "GenerationRequest",
    "GenerationResult",
    "ModelRecord",
    "default_model_path",
    "describe_model",
    "list_models",
    "ModelInfo",
    "weights_digest",
    "library_versions",
    "GeneratorError",
    "ModelNotFoundError",
    "ModelLoadError",
    "GenerationParameterError",
]
