"""The watermark abstraction: a scheme embeds and detects; a registry finds schemes by name.

A scheme's ``name`` is versioned (``reelguard.ss.v1``): a changed layout or key derivation is a
new scheme registered beside the old one, so clips marked years ago still verify.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.errors import WatermarkError

__all__ = [
    "DEFAULT_SCHEME",
    "Detection",
    "WatermarkScheme",
    "register_scheme",
    "get_scheme",
    "available_schemes",
]

DEFAULT_SCHEME = "reelguard.ss.v1"


@dataclass(frozen=True)
class Detection:
    """What a detector found in a clip.

    ``detected`` is the zero-bit decision (is a mark of this scheme and key present?) taken at
    the scheme's calibrated false-positive rate; ``p_value`` is the probability that an unmarked
    clip scores at least this high, corrected for every resynchronisation hypothesis searched.
    ``payload`` is set only when the mark is detected and the error-correcting code decodes.
    """

    scheme: str
    detected: bool
    payload: bytes | None
    p_value: float
    score: float
    bit_confidence: tuple[float, ...] = ()
    bit_accuracy_estimate: float | None = None
    frames_used: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (payload as hex, floats rounded for humans)."""
        return {
            "scheme": self.scheme,
            "detected": self.detected,
            "payload": self.payload.hex() if self.payload is not None else None,
            "p_value": float(self.p_value),
            "score": round(float(self.score), 4),
            "bit_confidence": [round(float(c), 4) for c in self.bit_confidence],
            "bit_accuracy_estimate": (
                None if self.bit_accuracy_estimate is None else round(float(self.bit_accuracy_estimate), 4)
            ),
            "frames_used": int(self.frames_used),
            "details": {k: _jsonable(v) for k, v in self.details.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else round(float(value), 6)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


class WatermarkScheme(ABC):
    """One watermarking technique: a keyed payload in, frames out; frames in, a Detection out."""

    name: str
    payload_bits: int
    false_positive_rate: float

    @abstractmethod
    def embed(
        self,
        frames: Iterable[np.ndarray],
        *,
        payload: bytes,
        key: bytes,
        strength: float | None = None,
    ) -> Iterator[np.ndarray]:
        """Lazily yield the marked frames, one per input frame (validates arguments eagerly)."""

    @abstractmethod
    def detect(self, frames: Iterable[Any], *, key: bytes, max_frames: int | None = None) -> Detection:
        """Look for this scheme's mark under ``key``; reads at most ``max_frames`` frames.
        ``frames`` are RGB arrays, or ``detectors.video_io.CodedFrame`` when the picture types
        are known (``read_coded_frames``), which a scheme may use to weigh frames."""

    def check_key(self, key: bytes) -> bytes:
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise WatermarkError(f"{self.name}: the key must be at least 16 bytes (32 recommended)")
        return bytes(key)

    def check_payload(self, payload: bytes) -> bytes:
        size = self.payload_bits // 8
        if not isinstance(payload, (bytes, bytearray)) or len(payload) != size:
            got = len(payload) if isinstance(payload, (bytes, bytearray)) else type(payload).__name__
            raise WatermarkError(f"{self.name}: the payload must be exactly {size} bytes, got {got}")
        return bytes(payload)


_REGISTRY: dict[str, Callable[[], WatermarkScheme]] = {}


def register_scheme(name: str, factory: Callable[[], WatermarkScheme]) -> None:
    """Make a scheme available to ``get_scheme`` under its versioned ``name``."""
    if name in _REGISTRY:
        raise WatermarkError(f"watermark scheme {name!r} is already registered")
    _REGISTRY[name] = factory


def available_schemes() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_scheme(name: str = DEFAULT_SCHEME) -> WatermarkScheme:
    """The scheme registered as ``name`` (e.g. ``DEFAULT_SCHEME``)."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_schemes()) or "none"
        raise WatermarkError(f"unknown watermark scheme {name!r} (known: {known})") from None
    return factory()
