"""What each C2PA validation code means for a verdict.

c2pa-rs reports codes from the C2PA specification's list (section 15, "Validation"). Only a
few mean the content or the claim changed after signing; most say a credential could not be
checked. Keeping the two apart is the difference between calling a real camera photo with an
expired certificate ``tampered`` and calling it ``unverifiable``.
"""

from __future__ import annotations

__all__ = ["INTEGRITY_CODES", "BINDING_CODES", "UNTRUSTED_CODES", "explain"]

# The asset's bytes no longer match what was signed (hard bindings).
BINDING_CODES = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
        "assertion.multiAssetHash.mismatch",
        "assertion.external-reference.hashMismatch",
        "assertion.alternativeContentRepresentation.hashMismatch",
    }
)
# The claim, an assertion or an embedded ingredient manifest changed (or was removed) after
# signing, or the time-stamp does not belong to this signature.
INTEGRITY_CODES = BINDING_CODES | frozenset(
    {
        "claimSignature.mismatch",
        "assertion.hashedURI.mismatch",
        "hashedURI.mismatch",
        "ingredient.manifest.mismatch",
        "ingredient.claimSignature.mismatch",
        "timeStamp.mismatch",
        # a signed part was removed or moved: what was signed is no longer all there
        "assertion.missing",
        "assertion.outsideManifest",
        "claim.hardBindings.missing",
        "claimSignature.missing",
        "assertion.action.redactionMismatch",
        "assertion.notRedacted",
    }
)
# The signature is good but no configured anchor or allowed certificate vouches for it.
UNTRUSTED_CODES = frozenset({"signingCredential.untrusted", "cawg.x509.credential.untrusted", "timeStamp.untrusted"})


# Plain words for the codes a verdict most often rests on (anything else is shown as the code).
_EXPLAIN = {
    "signingCredential.untrusted": "the signer's certificate does not chain to a trusted anchor or the allowed list",
    "signingCredential.expired": "the signer's certificate had expired and no trusted time-stamp shows the manifest was signed in time",
    "signingCredential.revoked": "the signer's certificate has been revoked",
    "signingCredential.invalid": "the signer's certificate is not acceptable for C2PA (key usage, EKU or profile)",
    "signingCredential.ocsp.revoked": "the signer's certificate was revoked (OCSP)",
    "signingCredential.ocsp.unknown": "the certificate's revocation status is unknown",
    "claim.malformed": "the claim does not follow the C2PA specification (a pre-release or non-conforming manifest)",
    "claimSignature.missing": "the claim carries no signature",
    "claimSignature.mismatch": "the claim signature does not match the claim (the claim changed after signing)",
    "claimSignature.outsideValidity": "the claim was signed outside the certificate's validity period",
    "manifest.inaccessible": "the manifest could not be accessed",
    "timeStamp.untrusted": "the time-stamp comes from an authority that is not trusted",
    "timeStamp.outsideValidity": "the time-stamp falls outside the certificate's validity",
    "timeStamp.mismatch": "the time-stamp does not belong to this signature",
    "assertion.dataHash.mismatch": "the file's bytes differ from what was signed",
    "assertion.bmffHash.mismatch": "the video's bytes differ from what was signed",
    "assertion.boxesHash.mismatch": "the file's boxes differ from what was signed",
    "assertion.hashedURI.mismatch": "an assertion changed after signing",
    "assertion.missing": "an assertion the claim signed is missing (removed after signing)",
    "claim.hardBindings.missing": "the claim has no hard binding to the content",
    "ingredient.manifest.missing": "an ingredient's manifest is referenced but missing",
    "ingredient.manifest.mismatch": "an ingredient's manifest changed after it was recorded",
    "assertion.action.ingredientMismatch": "an action names an ingredient that does not match",
    "cawg.ica.did_unavailable": "a CAWG identity assertion names a DID that could not be resolved",
    "cawg.x509.credential.untrusted": "a CAWG identity assertion's certificate is not trusted",
    "validation.notPerformed": "c2pa-rs reported the manifest invalid without a reason",
}


def explain(code: str) -> str:
    """``code``: plain words (the code itself stays in every message for look-up)."""
    words = _EXPLAIN.get(code)
    if words is None and code.startswith("cawg."):
        words = "a CAWG identity assertion could not be verified"
    return f"{code}: {words}" if words else code
