"""Errors raised by the generator package.

GeneratorError
├── ModelNotFoundError        missing model folder / unknown hub id offline
├── ModelLoadError            corrupt folder, unknown pipeline class, bad weights
└── GenerationParameterError  a size, frame count or step count the model cannot produce
"""

from __future__ import annotations

__all__ = ["GeneratorError", "ModelNotFoundError", "ModelLoadError", "GenerationParameterError"]


class GeneratorError(Exception):
    """Root of every error the generator package raises."""

    exit_code = 30


class ModelNotFoundError(GeneratorError):
    exit_code = 31


class ModelLoadError(GeneratorError):
    exit_code = 32


class GenerationParameterError(GeneratorError):
    exit_code = 33
