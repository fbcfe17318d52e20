"""The signing identity on disk: dev CA, intermediate and signer under ``settings.keys_path/c2pa``.

Layout (private keys 0600, PKCS#8, encrypted when ``settings.key_passphrase`` is set)::

    c2pa/root.cert.pem  root.key.pem            project CA (absent for imported chains)
    c2pa/intermediate.cert.pem  intermediate.key.pem
    c2pa/signer.chain.pem  signer.key.pem       signer first, then its issuers (no root)
    c2pa/anchors.pem                            trust anchors verifiers should use
    c2pa/tsa.cert.pem  tsa.key.pem              loopback TSA (governance.provenance.timestamp)
    c2pa/retired/<fingerprint>.chain.pem        signers replaced by ``rotate_signer``
    c2pa/identity.json                          algorithm, fingerprints, rotation history
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import c2pa
from cryptography import x509

from governance.core.errors import KeyMaterialError, SigningError
from governance.core.settings import Settings
from governance.provenance.keys import certs
from governance.provenance.keys.backend import FileSigningBackend, SigningBackend, save_private_key
from governance.provenance.keys.folder import (
    c2pa_dir,
    install_id,
    key_id,
    locked_folder,
    now_utc,
    read_meta,
    save_meta,
    write_public,
)
from governance.provenance.keys.staging import commit_pending, issue_signer

__all__ = [
    "SigningIdentity",
    "IdentityInfo",
    "c2pa_dir",
    "load_or_create_identity",
    "load_identity",
    "create_identity",
    "trust_bundle_pem",
    "identity_info",
    "identity_from_chain",
    "install_id",
]

CA_DAYS = 3650


@dataclass(frozen=True)
class SigningIdentity:
    """A certificate chain plus the backend that signs for its first certificate."""

    algorithm: str
    chain_pem: str = field(repr=False)  # signer first, then intermediates; never the root
    backend: SigningBackend = field(repr=False)
    signer: str  # subject common name
    fingerprint: str  # sha256 of the signer certificate (DER)
    not_before: dt.datetime
    not_after: dt.datetime
    tsa_url: str | None = None

    def with_tsa(self, tsa_url: str | None) -> SigningIdentity:
        return replace(self, tsa_url=tsa_url)

    def check_valid(self, at: dt.datetime | None = None) -> None:
        """SigningError when the signer certificate is not valid at ``at`` (default now)."""
        now = at or dt.datetime.now(dt.UTC)
        if now >= self.not_after:
            raise SigningError(
                f"signer certificate {self.signer!r} expired on {self.not_after:%Y-%m-%d %H:%M:%S}Z; "
                "run `reelguard keys rotate`"
            )
        if now < self.not_before:
            raise SigningError(f"signer certificate {self.signer!r} is not valid before {self.not_before.isoformat()}")

    def c2pa_signer(self) -> c2pa.Signer:
        """A c2pa Signer that calls back into ``backend`` (the key never enters c2pa-rs)."""
        try:
            return c2pa.Signer.from_callback(
                self.backend.sign, certs.c2pa_alg(self.algorithm), self.chain_pem, self.tsa_url
            )
        except c2pa.C2paError as exc:
            raise SigningError(f"c2pa refused the signer {self.signer!r}: {exc}") from None


@dataclass(frozen=True)
class IdentityInfo:
    """What ``reelguard keys show`` prints: public facts only."""

    path: str
    algorithm: str
    signer: str
    fingerprint: str
    not_before: str
    not_after: str
    chain: tuple[str, ...]
    anchors: tuple[str, ...]
    encrypted: bool
    imported: bool
    history: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


def create_identity(settings: Settings, *, algorithm: str = "es256", force: bool = False) -> SigningIdentity:
    """Create a dev CA, intermediate and signer (refuses to overwrite unless ``force``)."""
    if algorithm not in certs.ALGORITHMS:
        raise KeyMaterialError(f"unsupported algorithm {algorithm!r}; choose one of {', '.join(certs.ALGORITHMS)}")
    with locked_folder(settings) as folder:
        if (folder / "signer.chain.pem").exists() and not force:
            raise KeyMaterialError(f"a signing identity already exists in {folder}; use --force to replace it")
        org = settings.organisation
        root_key = certs.generate_key(algorithm)
        ident = key_id(root_key.public_key())
        root = certs.issue_certificate(
            root_key, common_name=f"{org} Root CA {ident}", organisation=org, profile="root", days=CA_DAYS
        )
        inter_key = certs.generate_key(algorithm)
        inter = certs.issue_certificate(
            inter_key,
            common_name=f"{org} Intermediate CA {ident}",
            organisation=org,
            profile="intermediate",
            issuer=(root, root_key),
            days=CA_DAYS,
        )
        save_private_key(folder / "root.key.pem", root_key, settings.key_passphrase)
        save_private_key(folder / "intermediate.key.pem", inter_key, settings.key_passphrase)
        write_public(folder / "root.cert.pem", certs.cert_pem(root))
        write_public(folder / "intermediate.cert.pem", certs.cert_pem(inter))
        write_public(folder / "anchors.pem", certs.cert_pem(root))
        for stale in ("tsa.cert.pem", "tsa.key.pem"):  # a TSA cert from an old CA would not chain
            (folder / stale).unlink(missing_ok=True)
        signer = issue_signer(folder, settings, algorithm)
        save_meta(
            folder,
            {
                "algorithm": algorithm,
                "imported": False,
                "encrypted": bool(settings.key_passphrase),
                "created_at": now_utc().isoformat(),
                "history": [
                    {"at": now_utc().isoformat(), "event": "created", "fingerprint": certs.fingerprint(signer)}
                ],
            },
        )
    return load_identity(settings)


def identity_from_chain(
    chain: list[x509.Certificate], backend: SigningBackend, *, tsa_url: str | None = None
) -> SigningIdentity:
    """A SigningIdentity over a parsed chain and any backend (HSM / KMS plug-in point)."""
    leaf = chain[0]
    if certs.algorithm_of(leaf.public_key()) != backend.algorithm:
        raise KeyMaterialError(
            f"backend signs {backend.algorithm} but the certificate holds a {certs.algorithm_of(leaf.public_key())} key"
        )
    return SigningIdentity(
        algorithm=backend.algorithm,
        chain_pem=certs.cert_pem(*chain),
        backend=backend,
        signer=certs.common_name(leaf),
        fingerprint=certs.fingerprint(leaf),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        tsa_url=tsa_url,
    )


def load_identity(settings: Settings) -> SigningIdentity:
    """Load the identity on disk; KeyMaterialError when missing, malformed or mismatched."""
    folder = c2pa_dir(settings)
    if (folder / "pending").is_dir() and any((folder / "pending").iterdir()):
        with locked_folder(settings):
            commit_pending(folder)
    chain_path = folder / "signer.chain.pem"
    try:
        data = chain_path.read_bytes()
    except FileNotFoundError:
        raise KeyMaterialError(f"no signing identity in {folder}; run `reelguard keys init`") from None
    except OSError as exc:
        raise KeyMaterialError(f"cannot read {chain_path}: {exc.strerror}") from None
    chain = certs.load_cert_chain(data, source=str(chain_path))
    backend = FileSigningBackend(folder / "signer.key.pem", passphrase=settings.key_passphrase)
    certs.check_key_matches(backend, chain[0], source=str(folder / "signer.key.pem"))
    return identity_from_chain(chain, backend, tsa_url=settings.tsa_url)


def load_or_create_identity(settings: Settings, *, algorithm: str = "es256") -> SigningIdentity:
    """The home's identity, created (dev CA + intermediate + signer) on first use."""
    if not (c2pa_dir(settings) / "signer.chain.pem").exists():
        try:
            return create_identity(settings, algorithm=algorithm)
        except KeyMaterialError:
            if not (c2pa_dir(settings) / "signer.chain.pem").exists():
                raise  # a real failure, not a lost race
    return load_identity(settings)


def trust_bundle_pem(settings: Settings) -> str:
    """PEM of the anchors verifiers should trust: the project CA (which also issued the TSA
    certificate), imported roots, and the TSA certificate itself. Empty when no identity exists."""
    folder = c2pa_dir(settings)
    seen: dict[str, x509.Certificate] = {}
    for name in ("anchors.pem", "root.cert.pem", "tsa.cert.pem"):
        path = folder / name
        if path.is_file():
            for cert in certs.load_cert_chain(path.read_bytes(), source=str(path)):
                seen.setdefault(certs.fingerprint(cert), cert)
    return certs.cert_pem(*seen.values())


def identity_info(settings: Settings) -> IdentityInfo:
    """Public facts about the identity; reads certificates only (no passphrase needed)."""
    folder = c2pa_dir(settings)
    chain_path = folder / "signer.chain.pem"
    if not chain_path.is_file():
        raise KeyMaterialError(f"no signing identity in {folder}; run `reelguard keys init`")
    chain = certs.load_cert_chain(chain_path.read_bytes(), source=str(chain_path))
    leaf = chain[0]
    meta = read_meta(folder)
    anchors_pem = trust_bundle_pem(settings)
    anchors = certs.load_cert_chain(anchors_pem.encode(), source="anchors") if anchors_pem else []
    try:
        encrypted = b"ENCRYPTED" in (folder / "signer.key.pem").read_bytes()[:64]
    except OSError:
        encrypted = False
    return IdentityInfo(
        path=str(folder),
        algorithm=certs.algorithm_of(leaf.public_key()),
        signer=certs.common_name(leaf),
        fingerprint=certs.fingerprint(leaf),
        not_before=leaf.not_valid_before_utc.isoformat(),
        not_after=leaf.not_valid_after_utc.isoformat(),
        chain=tuple(c.subject.rfc4514_string() for c in chain),
        anchors=tuple(f"{c.subject.rfc4514_string()} sha256:{certs.fingerprint(c)[:16]}" for c in anchors),
        encrypted=encrypted,
        imported=bool(meta.get("imported")),
        history=tuple(meta.get("history", [])),
    )
