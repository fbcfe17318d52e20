"""RFC 8785 (JCS) canonical JSON, fast: byte-identical to ``rfc8785.dumps``, about 20x quicker.

The pure-Python reference spends ~0.5 ms on a typical event; appending thousands of events per
second needs less. For the values events actually hold (str-keyed objects, strings, safe
integers, ordinary floats) JCS coincides with the C ``json`` encoder once floats are mapped to
their ECMAScript form, so those take the fast path; anything else (non-BMP keys, which JCS
sorts by UTF-16 units; huge or tiny floats; out-of-range integers; odd types) goes to the
reference implementation, which also raises its precise errors. A property test keeps the two
in step.
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

__all__ = ["canonical_bytes"]

_INT_LIMIT = 2**53 - 1
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


class _Slow(Exception):
    """The value needs the reference implementation."""


def _prep(value: Any) -> Any:
    cls = type(value)
    if cls is str or value is None or cls is bool:
        return value
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if -_INT_LIMIT <= value <= _INT_LIMIT:
            return value
        raise _Slow
    if isinstance(value, float):
        if value == 0:
            return 0
        if math.isfinite(value):
            magnitude = abs(value)
            if value.is_integer() and magnitude < 1e16:
                return int(value)  # ECMAScript prints 16.0 as 16
            if 1e-4 <= magnitude < 1e16:
                return value  # here Python's shortest repr is ECMAScript's fixed notation
        raise _Slow
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                raise _Slow  # JCS sorts by UTF-16 code units; Python by code points
            out[key] = item if type(item) is str else _prep(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_prep(item) for item in value]
    raise _Slow


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``value`` (raises rfc8785's errors for bad input)."""
    try:
        return _encode(_prep(value)).encode("utf-8")
    except (_Slow, UnicodeEncodeError, TypeError, ValueError):
        return rfc8785.dumps(value)
