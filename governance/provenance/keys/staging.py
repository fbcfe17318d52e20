"""Installing a new signer key and chain in the identity's folder without a window where a key
sits beside the wrong chain: both are written under ``pending/`` (key, then chain) and renamed
into place; a crash in between is rolled forward or back on the next load (``commit_pending``).

Shared by creation (identity.py) and by rotation and import (rotation.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509

from governance.core.settings import Settings
from governance.provenance.keys import certs
from governance.provenance.keys.backend import load_private_key, save_private_key
from governance.provenance.keys.folder import install_id, now_utc, write_public

__all__ = ["SIGNER_DAYS", "commit_pending", "issue_signer", "stage_signer"]

SIGNER_DAYS = 365


def issue_signer(folder: Path, settings: Settings, algorithm: str, *, days: int = SIGNER_DAYS) -> x509.Certificate:
    """New signer key + certificate from the intermediate on disk."""
    inter_cert = certs.load_cert_chain((folder / "intermediate.cert.pem").read_bytes(), source="intermediate.cert.pem")[
        0
    ]
    inter_key = load_private_key(folder / "intermediate.key.pem", settings.key_passphrase)
    key = certs.generate_key(algorithm)
    cert = certs.issue_certificate(
        key,
        common_name=f"{settings.organisation} C2PA Signer {install_id(folder)} {now_utc():%Y-%m-%d}",
        organisation=settings.organisation,
        profile="signer",
        issuer=(inter_cert, inter_key),
        days=days,
    )
    stage_signer(folder, key, certs.cert_pem(cert, inter_cert), settings.key_passphrase)
    return cert


def stage_signer(folder: Path, key: certs.PrivateKey, chain_pem: str, passphrase: str | None) -> None:
    """Install a new signer key + chain so a crash never leaves a key beside the wrong chain:
    both go to ``pending/`` first (key, then chain), then are renamed into place."""
    pending = folder / "pending"
    pending.mkdir(mode=0o700, exist_ok=True)
    save_private_key(pending / "signer.key.pem", key, passphrase)
    write_public(pending / "signer.chain.pem", chain_pem)
    commit_pending(folder)


def commit_pending(folder: Path) -> None:
    """Finish (or discard) an interrupted signer change; idempotent."""
    pending = folder / "pending"
    if not pending.is_dir():
        return
    if (pending / "signer.chain.pem").exists():  # the key was complete before the chain was written
        if (pending / "signer.key.pem").exists():
            os.replace(pending / "signer.key.pem", folder / "signer.key.pem")
        os.replace(pending / "signer.chain.pem", folder / "signer.chain.pem")
    else:
        (pending / "signer.key.pem").unlink(missing_ok=True)  # interrupted before the chain: roll back
