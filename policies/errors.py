"""Errors raised by the policies package.

PolicyError
├── PolicyPackError    malformed pack: names the file, line and field
└── PromptError        empty, oversized or binary prompts
"""

from __future__ import annotations

__all__ = ["PolicyError", "PolicyPackError", "PromptError"]


class PolicyError(Exception):
    """Root of every error the policies package raises."""

    exit_code = 40


class PolicyPackError(PolicyError):
    exit_code = 41


class PromptError(PolicyError):
    exit_code = 42
