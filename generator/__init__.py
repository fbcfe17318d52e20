"""ReelGuard's generator: diffusers text-to-video pipelines behind one interface, plus an embedded
model trained by the project (``load_generator(None)``).

    from generator import load_generator, GenerationRequest
    result = load_generator()(GenerationRequest("a red circle moving right on a blue background"))
    result.frames   # (F, H, W, 3) uint8 RGB;  result.record: the ModelRecord the manifest cites
"""

from __future__ import annotations

from generator.base import GenerationRequest, GenerationResult, ModelRecord
from generator.diffusers_core import VideoGenerator, library_versions, load_generator
from generator.errors import GenerationParameterError, GeneratorError, ModelLoadError, ModelNotFoundError
from generator.loading import ModelInfo, default_model_path, describe_model, list_models, weights_digest

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
