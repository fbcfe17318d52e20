"""Keys and certificates for C2PA signing: dev CA, rotation, import, trust bundle, backends.

    from governance.provenance.keys import SigningIdentity, load_or_create_identity, trust_bundle_pem
    identity = load_or_create_identity(settings)   # dev CA + signer on first use, keys 0600
    trust_bundle_pem(settings)                     # anchors verifiers should use

A key held in an HSM or KMS plugs in through ``SigningBackend`` + ``identity_from_chain``.
"""

from governance.provenance.keys.backend import FileSigningBackend, SigningBackend
from governance.provenance.keys.certs import ALGORITHMS, Algorithm
from governance.provenance.keys.identity import (
    IdentityInfo,
    SigningIdentity,
    create_identity,
    identity_from_chain,
    identity_info,
    load_identity,
    load_or_create_identity,
    trust_bundle_pem,
)
from governance.provenance.keys.rotation import KeyRotation, import_identity, rotate_signer

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "SigningBackend",
    "FileSigningBackend",
    "SigningIdentity",
    "KeyRotation",
    "IdentityInfo",
    "load_or_create_identity",
    "load_identity",
    "create_identity",
    "rotate_signer",
    "import_identity",
    "identity_from_chain",
    "identity_info",
    "trust_bundle_pem",
]
