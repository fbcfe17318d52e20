"""One verdict from the evidence (pure: no I/O).

- ``authentic``: trusted credentials whose hard binding holds (and, where they declare a
  ReelGuard watermark, the pixels carry it with the same payload).
- ``recovered``: no credentials, but the watermark, or failing it the fingerprints of our own
  outputs, resolve to a record of ours.
- ``tampered``: an integrity failure only: a content hash, the claim signature or an assertion
  hash no longer matches, or a ReelGuard soft binding that the pixels contradict.
- ``untrusted``: valid credentials from a signer no configured list vouches for.
- ``unverifiable``: credentials that are there but cannot be checked: expired without a
  trusted time-stamp, revoked, EKU not accepted, remote manifest not fetched, pre-release or
  malformed, a bare manifest store without its asset; or this install's own credentials with
  no generation record behind them (an unrecorded release).
- ``unknown``: no evidence either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detectors.provenance.codes import explain

if TYPE_CHECKING:  # pragma: no cover
    from detectors.provenance import ProvenanceReport
    from detectors.watermark import Detection
    from governance.records.registry import OwnMatch

__all__ = ["VERDICTS", "decide_verdict", "is_own_binding"]

VERDICTS = ("authentic", "recovered", "tampered", "untrusted", "unverifiable", "unknown")


def is_own_binding(alg: str) -> bool:
    return alg.startswith("reelguard.")


def _who(p: ProvenanceReport) -> str:
    return ", ".join(x for x in (p.issuer, p.signer) if x) or "an unnamed signer"


def decide_verdict(
    provenance: ProvenanceReport,
    watermark: Detection | None,
    *,
    record_found: bool,
    unrecorded_own_release: bool = False,
    fingerprint_match: OwnMatch | None = None,
) -> tuple[str, list[str]]:
    """The verdict and its reasons. ``watermark`` is None when the pixels were not examined.

    ``unrecorded_own_release``: the credentials are this install's own ReelGuard credentials but
    no generation record exists for them (the caller looked); such a clip is never ``authentic``.
    ``fingerprint_match``: one of our own generated clips found by fingerprint whose record
    exists (the caller looked), used only when there are no credentials and the watermark
    leads to no record.
    """
    state = provenance.state
    if state == "absent":
        return _without_credentials(watermark, record_found=record_found, fingerprint=fingerprint_match)
    integrity = provenance.integrity_codes
    if integrity:
        return "tampered", ["C2PA integrity check failed: " + "; ".join(explain(c) for c in integrity)]
    if state == "invalid":
        problems = [explain(c) for c in provenance.codes if c != "signingCredential.untrusted"] or (
            [explain(c) for c in provenance.codes]
        )
        if provenance.error:
            problems.append(provenance.error)
        return "unverifiable", ["the credentials cannot be verified: " + ("; ".join(problems) or "no reason given")]
    reasons: list[str] = []
    for binding in provenance.soft_bindings:
        if not is_own_binding(binding.alg):
            reasons.append(
                f"declares a {binding.alg} soft binding (watermark or fingerprint) ReelGuard cannot check; reported as declared"
            )
    contradiction = _own_binding_contradicted(provenance, watermark, trusted=state == "trusted")
    if contradiction:
        return "tampered", [contradiction]
    if not provenance.binding_checked:
        return "unverifiable", [
            f"a bare manifest store signed by {_who(provenance)} ({state}); the content it binds "
            "to is not here, so its hard binding was not checked",
            *reasons,
        ]
    if state == "valid":
        return "untrusted", [
            f"valid C2PA credentials, but the signer ({_who(provenance)}) is on no configured trust list",
            *reasons,
        ]
    if unrecorded_own_release:
        return "unverifiable", [
            f"signed by this install ({_who(provenance)}) but no generation record exists for content id "
            f"{provenance.content_id} (manifest {provenance.manifest_label}): an unrecorded release, e.g. the temp "
            "file of an interrupted generation; run `reelguard doctor`",
            *reasons,
        ]
    reasons.insert(0, f"valid C2PA credentials from a trusted signer ({_who(provenance)}); the hard binding holds")
    if provenance.timestamp_trusted and provenance.signed_at is not None:
        reasons.append(f"time-stamped {provenance.signed_at:%Y-%m-%d %H:%M}Z by a trusted authority")
    own = [b for b in provenance.soft_bindings if is_own_binding(b.alg)]
    if own and watermark is None:
        reasons.append("the ReelGuard watermark it declares was not checked (pixels not examined)")
    elif own and watermark is not None and watermark.payload is not None:
        reasons.append(f"soft binding {own[0].payload_hex} agrees with the watermark in the pixels")
    return "authentic", reasons


def _own_binding_contradicted(p: ProvenanceReport, watermark: Detection | None, *, trusted: bool) -> str | None:
    own = [b for b in p.soft_bindings if is_own_binding(b.alg)]
    if not own or watermark is None:
        return None
    binding = own[0]
    if not watermark.detected:
        if not trusted:  # an outside signer may well declare our scheme name without our key
            return None
        return (
            f"manifest declares a {binding.alg} watermark with payload {binding.payload_hex} but none is in the "
            "pixels (manifest grafted onto other content?)"
        )
    found = watermark.payload.hex() if watermark.payload is not None else "undecodable"
    if found != binding.payload_hex.lower():
        return (
            f"watermark payload in the pixels ({found}) does not match the manifest's soft binding "
            f"({binding.payload_hex})"
        )
    return None


def _without_credentials(
    watermark: Detection | None, *, record_found: bool, fingerprint: OwnMatch | None = None
) -> tuple[str, list[str]]:
    reasons = ["no C2PA manifest in the file"]
    by_watermark = watermark is not None and watermark.detected and watermark.payload is not None and record_found
    if fingerprint is not None and not by_watermark:
        if watermark is None:
            reasons.append("the watermark was not checked")
        elif watermark.detected:
            reasons.append(f"ReelGuard watermark detected (p={watermark.p_value:.2e}) but it leads to no record here")
        else:
            reasons.append("no ReelGuard watermark detected")
        reasons.append(
            f"fingerprints match ReelGuard generation {fingerprint.content_id} ({fingerprint.fingerprint}, score "
            f"{fingerprint.score:.2f}, query {fingerprint.query_start:.2f}-{fingerprint.query_end:.2f} s = original "
            f"{fingerprint.ref_start:.2f}-{fingerprint.ref_end:.2f} s)"
        )
        return "recovered", reasons
    if watermark is None:
        reasons.append("the watermark was not checked")
        return "unknown", reasons
    if watermark.detected and record_found and watermark.payload is not None:
        reasons.append(f"watermark payload {watermark.payload.hex()} resolves to a ReelGuard generation record")
        return "recovered", reasons
    if watermark.detected:
        payload = watermark.payload.hex() if watermark.payload is not None else "undecodable"
        reasons.append(
            f"ReelGuard watermark detected (p={watermark.p_value:.2e}) but payload {payload} has no record here"
        )
        return "unknown", reasons
    reasons.append("no ReelGuard watermark detected")
    return "unknown", reasons
