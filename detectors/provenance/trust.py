"""What a verifier trusts, as c2pa-rs takes it: anchors, an allowed list, accepted EKUs, TSAs.

Real validators (c2patool, the CAI verify site) combine four things: CA certificates a signer
may chain to (anchors), end-entity certificates accepted one by one (the allowed list), the
extended key usages a signing certificate may carry, and the time-stamp authorities whose
tokens prove when a manifest was signed. ``TrustConfig`` holds them as data; where they come
from (bundled lists, an operator's additions, the install's own CA) is governance's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TrustConfig", "DEFAULT_EKUS", "MICROSOFT_C2PA_EKU", "C2PA_SIGNING_EKU", "DOCUMENT_SIGNING_EKU"]

C2PA_SIGNING_EKU = "1.3.6.1.4.1.62558.2.1"  # id-kp-c2pa-claimSigning (C2PA 2.x)
MICROSOFT_C2PA_EKU = "1.3.6.1.4.1.311.76.59.1.9"  # what Microsoft's C2PA signers carry
DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"
# emailProtection and documentSigning are what the C2PA 1.x signers in the wild carry.
# timeStamping and OCSPSigning are left out although c2pa-rs's own test configuration lists
# them: with them any time-stamp authority's certificate (every TSA on the TSA list) would pass
# as a claim signer. c2pa-rs still validates time-stamp tokens without them (tested).
DEFAULT_EKUS = (
    "1.3.6.1.5.5.7.3.4",  # emailProtection
    DOCUMENT_SIGNING_EKU,
    MICROSOFT_C2PA_EKU,
    C2PA_SIGNING_EKU,
)


@dataclass(frozen=True)
class TrustConfig:
    """PEM text of each kind plus the accepted EKUs. An empty config trusts nothing: every good
    signature then reads ``valid`` with ``signingCredential.untrusted``."""

    anchors_pem: str = ""
    allowed_pem: str = ""
    tsa_anchors_pem: str = ""
    ekus: tuple[str, ...] = DEFAULT_EKUS

    @property
    def empty(self) -> bool:
        return not (self.anchors_pem.strip() or self.allowed_pem.strip())

    def c2pa_settings(self) -> dict[str, Any]:
        """The ``trust`` table of c2pa-rs's settings. c2pa-rs validates time-stamp tokens against
        its one anchor list, so TSA roots join the anchors there; the EKU list still keeps a TSA
        certificate from passing as a claim signer unless its EKUs say so."""
        if self.empty:
            return {}
        trust: dict[str, Any] = {
            "trust_anchors": _join(self.anchors_pem, self.tsa_anchors_pem),
            "trust_config": "\n".join(self.ekus) + "\n",
        }
        if self.allowed_pem.strip():
            trust["allowed_list"] = self.allowed_pem
        return trust


def _join(*pems: str) -> str:
    return "".join(p if p.endswith("\n") else p + "\n" for p in pems if p.strip())
