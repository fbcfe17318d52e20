"""The fast canonical JSON is byte-identical to the rfc8785 reference, errors included."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.records.audit.canonical import canonical_bytes

scalars = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text() | st.sampled_from([0.0001, 1e-7, 1e16, 1e21, 123456789.125, -0.0, 2**53 + 0.0]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                      max_leaves=20)


def _reference(value):
    try:
        return rfc8785.dumps(value)
    except Exception as exc:  # noqa: BLE001 - compare the failure type
        return type(exc)


def _ours(value):
    try:
        return canonical_bytes(value)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(values)
def test_matches_rfc8785(value) -> None:
    """Same bytes as the reference for any JSON-like value (or the same error)."""
    assert _ours(value) == _reference(value)


@pytest.mark.parametrize("value", [{"\U0001f600": 1, "\ufb01": 2}, {"a": "\x00\x1f\"\\\u2028"}, {1: "x"}, [1e400], "\ud800"])
def test_edge_cases(value) -> None:
    assert _ours(value) == _reference(value)
