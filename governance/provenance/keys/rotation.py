"""Changing the signer: rotation under the project's own intermediate CA, or import of an
organisation's key and chain. The replaced chain is kept under ``retired/`` and every change
is appended to the identity's history in ``identity.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from governance.core.errors import KeyMaterialError, PassphraseError
from governance.core.settings import Settings
from governance.provenance.keys import certs
from governance.provenance.keys.folder import locked_folder, now_utc, read_meta, save_meta, write_public
from governance.provenance.keys.identity import load_identity
from governance.provenance.keys.staging import SIGNER_DAYS, issue_signer, stage_signer

__all__ = ["KeyRotation", "import_identity", "rotate_signer"]


@dataclass(frozen=True)
class KeyRotation:
    old_fingerprint: str | None
    new_fingerprint: str
    algorithm: str


def rotate_signer(settings: Settings, *, algorithm: str | None = None, days: int = SIGNER_DAYS) -> KeyRotation:
    """Replace the signer key and certificate; the old chain is kept under ``retired/``.

    Manifests signed before keep verifying: their chain is embedded and the anchor is unchanged.
    """
    with locked_folder(settings) as folder:
        if not (folder / "intermediate.key.pem").exists():
            raise KeyMaterialError(
                f"{folder} holds no intermediate CA key (imported identity?): rotate by importing a new key and chain"
            )
        meta = read_meta(folder)
        old = load_identity(settings)
        alg = algorithm or meta.get("algorithm") or old.algorithm
        if alg not in certs.ALGORITHMS:
            raise KeyMaterialError(f"unsupported algorithm {alg!r}; choose one of {', '.join(certs.ALGORITHMS)}")
        retired = folder / "retired"
        retired.mkdir(mode=0o700, exist_ok=True)
        write_public(retired / f"{old.fingerprint[:16]}.chain.pem", old.chain_pem)
        cert = issue_signer(folder, settings, alg, days=days)
        rotation = KeyRotation(old_fingerprint=old.fingerprint, new_fingerprint=certs.fingerprint(cert), algorithm=alg)
        meta.setdefault("history", []).append(
            {
                "at": now_utc().isoformat(),
                "event": "rotated",
                "fingerprint": rotation.new_fingerprint,
                "replaced": old.fingerprint,
            }
        )
        meta["algorithm"] = alg
        save_meta(folder, meta)
    return rotation


def import_identity(
    settings: Settings,
    *,
    chain_pem: bytes,
    key_pem: bytes,
    key_passphrase: str | None = None,
    anchors_pem: bytes | None = None,
) -> KeyRotation:
    """Adopt an organisation's own signer key and chain (signer first, then intermediates).

    The key is re-encrypted with ``settings.key_passphrase``; ``anchors_pem`` (the root) is what
    verifiers should trust; when omitted, a self-signed last certificate in the chain is used.
    """
    chain = certs.load_cert_chain(chain_pem, source="imported chain")
    try:
        key = serialization.load_pem_private_key(key_pem, password=key_passphrase.encode() if key_passphrase else None)
    except TypeError:
        raise PassphraseError("imported key: passphrase missing or given for an unencrypted key") from None
    except ValueError:
        if key_passphrase:
            raise PassphraseError("imported key: wrong passphrase or malformed key") from None
        raise KeyMaterialError("imported key: not a valid PEM private key") from None
    certs.check_key_matches(key, chain[0], source="imported key")
    signer_key = certs.signing_key(key)
    alg = certs.algorithm_of(signer_key)
    leaf = chain[0]
    if now_utc() >= leaf.not_valid_after_utc:
        raise KeyMaterialError(
            f"imported certificate {certs.common_name(leaf)!r} expired on {leaf.not_valid_after_utc:%Y-%m-%d}"
        )
    anchors = certs.load_cert_chain(anchors_pem, source="imported anchors") if anchors_pem else []
    roots = [c for c in chain if c.issuer == c.subject]
    chain = [c for c in chain if c.issuer != c.subject]  # roots are anchors, never part of the signed chain
    if not anchors:
        anchors = roots
    if not chain:
        raise KeyMaterialError("imported chain holds only a self-signed certificate; C2PA needs a CA-issued signer")
    with locked_folder(settings) as folder:
        old = read_meta(folder)
        old_fp = None
        if (folder / "signer.chain.pem").exists():
            old_chain = certs.load_cert_chain((folder / "signer.chain.pem").read_bytes(), source="signer.chain.pem")
            old_fp = certs.fingerprint(old_chain[0])
            retired = folder / "retired"
            retired.mkdir(mode=0o700, exist_ok=True)
            write_public(retired / f"{old_fp[:16]}.chain.pem", certs.cert_pem(*old_chain))
        stage_signer(folder, signer_key, certs.cert_pem(*chain), settings.key_passphrase)
        if anchors:
            existing = (folder / "anchors.pem").read_text() if (folder / "anchors.pem").exists() else ""
            write_public(folder / "anchors.pem", existing + certs.cert_pem(*anchors))
        for private in ("intermediate.key.pem",):  # the dev CA can no longer issue for this identity
            (folder / private).unlink(missing_ok=True)
        history = old.get("history", [])
        history.append(
            {
                "at": now_utc().isoformat(),
                "event": "imported",
                "fingerprint": certs.fingerprint(leaf),
                "replaced": old_fp,
            }
        )
        save_meta(
            folder,
            {**old, "algorithm": alg, "imported": True, "encrypted": bool(settings.key_passphrase), "history": history},
        )
    return KeyRotation(old_fingerprint=old_fp, new_fingerprint=certs.fingerprint(leaf), algorithm=alg)
