"""BCH(127, 64): every payload survives up to 10 wrong bits, soft decoding a few more."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.errors import WatermarkError
from detectors.watermark.ecc import CODE_BITS, bch_decode, bch_encode


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(min_size=8, max_size=8), errors=st.sets(st.integers(0, CODE_BITS - 1), max_size=10))
def test_hard_errors_up_to_t_are_corrected(payload, errors):
    """Flipping at most 10 of the 127 bits never changes the decoded payload."""
    bits = bch_encode(payload)
    received = bits.copy()
    received[list(errors)] ^= 1
    word = bch_decode(1.0 - 2.0 * received)
    assert word is not None and word.payload == payload and word.errors == len(errors)


def test_soft_decoding_fixes_more_than_t_when_the_weak_bits_are_known():
    rng = np.random.default_rng(7)
    payload = rng.bytes(8)
    llr = 1.0 - 2.0 * bch_encode(payload).astype(np.float64)
    wrong = rng.choice(CODE_BITS, 13, replace=False)
    llr[wrong] *= -0.1  # thirteen errors, each flagged as unreliable
    word = bch_decode(llr)
    assert word is not None and word.payload == payload


def test_bad_shapes_are_refused():
    with pytest.raises(WatermarkError):
        bch_encode(b"1234567")
    with pytest.raises(WatermarkError):
        bch_decode(np.zeros(64))
