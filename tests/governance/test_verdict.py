"""decide_verdict: every combination of C2PA state, soft binding and watermark evidence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.provenance import IngredientReport, ProvenanceReport, SoftBinding
from detectors.watermark import Detection
from governance.flows.verify import VERDICTS, decide_verdict

PAYLOAD = bytes.fromhex("0011223344556677")
OTHER = bytes.fromhex("8899aabbccddeeff")


def report(state, *, binding=PAYLOAD, ingredients=()):
    soft = SoftBinding(alg="reelguard.ss.v1", payload_hex=binding.hex()) if binding is not None else None
    codes = ("assertion.bmffHash.mismatch",) if state == "invalid" else ()
    return ProvenanceReport(state=state, codes=codes, signer="ReelGuard Signer", soft_binding=soft,
                            ingredients=tuple(ingredients))


def mark(payload=PAYLOAD, *, detected=True):
    return Detection(scheme="reelguard.ss.v1", detected=detected, payload=payload if detected else None,
                     p_value=1e-12 if detected else 0.4, score=9.0 if detected else 0.1)


@pytest.mark.parametrize(
    ("provenance", "watermark", "record_found", "expected"),
    [
        (report("trusted"), mark(), True, "authentic"),
        (report("trusted", binding=None), mark(detected=False), False, "authentic"),
        (report("trusted"), mark(detected=False), False, "tampered"),  # grafted manifest
        (report("trusted"), mark(OTHER), True, "tampered"),  # manifest of another generation
        (report("trusted"), mark(None), False, "tampered"),  # mark present, payload unreadable
        (report("valid"), mark(detected=False), False, "untrusted"),
        (report("valid"), mark(OTHER), True, "tampered"),
        (report("valid"), mark(), True, "untrusted"),
        (report("invalid"), mark(), True, "tampered"),
        (report("absent", binding=None), mark(), True, "recovered"),
        (report("absent", binding=None), mark(), False, "unknown"),
        (report("absent", binding=None), mark(detected=False), False, "unknown"),
    ],
)
def test_verdict_table(provenance, watermark, record_found, expected):
    verdict, reasons = decide_verdict(provenance, watermark, record_found=record_found)
    assert verdict == expected
    assert reasons and all(isinstance(r, str) and r for r in reasons)


def test_tampered_ingredient_under_trusted_top_level_is_tampered():
    bad = IngredientReport(title="source.mp4", relationship="parentOf", format="video/mp4",
                           manifest_label="urn:x", state="invalid", codes=("assertion.bmffHash.mismatch",))
    verdict, reasons = decide_verdict(report("trusted", ingredients=[bad]), mark(), record_found=True)
    assert verdict == "tampered"
    assert "bmffHash" in reasons[0]


@given(
    state=st.sampled_from(["trusted", "valid", "invalid", "absent"]),
    has_binding=st.booleans(),
    detected=st.booleans(),
    same_payload=st.booleans(),
    record_found=st.booleans(),
)
def test_verdict_is_always_one_of_five_and_explained(state, has_binding, detected, same_payload, record_found):
    """Any evidence yields exactly one documented verdict with at least one reason."""
    provenance = report(state, binding=PAYLOAD if has_binding else None)
    watermark = mark(PAYLOAD if same_payload else OTHER, detected=detected)
    verdict, reasons = decide_verdict(provenance, watermark, record_found=record_found)
    assert verdict in VERDICTS
    assert reasons
    if state == "invalid":
        assert verdict == "tampered"
    if verdict == "authentic":
        assert state == "trusted"
