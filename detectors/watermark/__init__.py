"""Invisible video watermarks: versioned schemes behind one interface, found by name.

from detectors.watermark import get_scheme, DEFAULT_SCHEME
scheme = get_scheme(DEFAULT_SCHEME)
marked = scheme.embed(frames, payload=8_bytes, key=32_bytes)   # lazy iterator
detection = scheme.detect(frames, key=32_bytes)                # -> Detection
"""

from detectors.watermark.base import (
    DEFAULT_SCHEME,
    Detection,
    WatermarkScheme,
    available_schemes,
    get_scheme,
    register_scheme,
)
from detectors.watermark.spread_spectrum import SpreadSpectrumV1

__all__ = [
    "DEFAULT_SCHEME",
    "Detection",
    "WatermarkScheme",
    "SpreadSpectrumV1",
    "available_schemes",
    "get_scheme",
    "register_scheme",
]

register_scheme(SpreadSpectrumV1.name, SpreadSpectrumV1)
