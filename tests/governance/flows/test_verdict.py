"""decide_verdict: every combination of C2PA state, codes, soft bindings and watermark evidence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.provenance import INTEGRITY_CODES, IngredientReport, ProvenanceReport, SoftBinding
from detectors.watermark import Detection
from governance.flows.verify import VERDICTS, decide_verdict

PAYLOAD = bytes.fromhex("0011223344556677")
OTHER = bytes.fromhex("8899aabbccddeeff")
CREDENTIAL_CODES = ("signingCredential.expired", "signingCredential.revoked", "signingCredential.invalid",
                    "claim.malformed", "manifest.inaccessible", "cawg.ica.did_unavailable", "timeStamp.untrusted")


def report(state, *, binding=PAYLOAD, alg="reelguard.ss.v1", codes=None, ingredients=(), **kw):
    soft = (SoftBinding(alg=alg, payload_hex=binding.hex()),) if binding is not None else ()
    if codes is None:
        codes = ("assertion.bmffHash.mismatch",) if state == "invalid" else ()
    return ProvenanceReport(state=state, codes=tuple(codes), signer="Signer", issuer="Org", soft_bindings=soft,
                            ingredients=tuple(ingredients), manifest_label=None if state == "absent" else "urn:x", **kw)


def mark(payload=PAYLOAD, *, detected=True):
    return Detection(scheme="reelguard.ss.v1", detected=detected, payload=payload if detected else None,
                     p_value=1e-12 if detected else 0.4, score=9.0 if detected else 0.1)


@pytest.mark.parametrize(
    ("provenance", "watermark", "record_found", "expected"),
    [
        (report("trusted"), mark(), True, "authentic"),
        (report("trusted"), None, False, "authentic"),  # --only c2pa: pixels not examined
        (report("trusted", binding=None), mark(detected=False), False, "authentic"),
        (report("trusted"), mark(detected=False), False, "tampered"),  # grafted manifest
        (report("trusted"), mark(OTHER), True, "tampered"),  # manifest of another generation
        (report("trusted"), mark(None), False, "tampered"),  # mark present, payload unreadable
        (report("trusted", alg="com.digimarc.validate.1"), mark(detected=False), False, "authentic"),  # not ours
        (report("valid", alg="org.trustmark.v1"), mark(OTHER), False, "untrusted"),
        (report("valid"), mark(detected=False), False, "untrusted"),
        (report("valid"), mark(OTHER), True, "tampered"),
        (report("valid"), mark(), True, "untrusted"),
        (report("invalid"), mark(), True, "tampered"),
        (report("invalid", codes=("signingCredential.expired",)), mark(), True, "unverifiable"),
        (report("invalid", codes=("signingCredential.untrusted", "signingCredential.expired")), None, False, "unverifiable"),
        (report("invalid", codes=("signingCredential.untrusted", "claimSignature.mismatch")), None, False, "tampered"),
        (report("invalid", codes=(), error="pre-release manifest"), None, False, "unverifiable"),
        (report("invalid", codes=("assertion.missing", "assertion.action.malformed")), None, False, "tampered"),  # an assertion cut out
        (report("invalid", codes=("claim.hardBindings.missing",)), None, False, "tampered"),
        (report("valid", binding_checked=False), None, False, "unverifiable"),  # a bare .c2pa
        (report("absent", binding=None), mark(), True, "recovered"),
        (report("absent", binding=None), mark(), False, "unknown"),
        (report("absent", binding=None), mark(detected=False), False, "unknown"),
        (report("absent", binding=None), None, False, "unknown"),
    ],
)
def test_verdict_table(provenance, watermark, record_found, expected):
    verdict, reasons = decide_verdict(provenance, watermark, record_found=record_found)
    assert verdict == expected, reasons
    assert reasons and all(isinstance(r, str) and r for r in reasons)


def test_an_invalid_ingredient_does_not_make_the_asset_tampered():
    bad = IngredientReport(title="source.mp4", relationship="parentOf", format="video/mp4",
                           manifest_label="urn:y", state="invalid", codes=("assertion.bmffHash.mismatch",))
    verdict, _ = decide_verdict(report("trusted", ingredients=[bad]), mark(), record_found=True)
    assert verdict == "authentic"  # reported per ingredient (flag ingredient-invalid), not as tampering


def test_other_issuers_soft_binding_is_reported_as_declared():
    verdict, reasons = decide_verdict(report("trusted", alg="com.digimarc.validate.1"), None, record_found=False)
    assert verdict == "authentic" and any("cannot check" in r for r in reasons)


@given(
    state=st.sampled_from(["trusted", "valid", "invalid", "absent"]),
    codes=st.lists(st.sampled_from(sorted(INTEGRITY_CODES) + list(CREDENTIAL_CODES) + ["signingCredential.untrusted"]),
                   max_size=3),
    has_binding=st.booleans(),
    ours=st.booleans(),
    watermark=st.sampled_from(["none", "same", "other", "missing"]),
    record_found=st.booleans(),
)
def test_verdict_is_always_documented_and_tampered_means_integrity(state, codes, has_binding, ours, watermark,
                                                                   record_found):
    """Any evidence yields one documented verdict with reasons; ``tampered`` only from an
    integrity code or a ReelGuard soft binding the pixels contradict."""
    provenance = report(state, binding=PAYLOAD if has_binding else None, alg="reelguard.ss.v1" if ours else "x.y",
                        codes=codes if state != "absent" else ())
    detection = {"none": None, "same": mark(), "other": mark(OTHER), "missing": mark(detected=False)}[watermark]
    verdict, reasons = decide_verdict(provenance, detection, record_found=record_found)
    assert verdict in VERDICTS and reasons
    if verdict == "tampered":
        integrity = bool(set(provenance.codes) & INTEGRITY_CODES)
        contradicted = has_binding and ours and watermark in ("other", "missing") and state in ("trusted", "valid")
        assert integrity or contradicted
    if state == "invalid" and not set(provenance.codes) & INTEGRITY_CODES:
        assert verdict == "unverifiable"
    if verdict == "authentic":
        assert state == "trusted"
