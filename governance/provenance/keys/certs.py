"""X.509 material for C2PA: key generation, CA / intermediate / signer / TSA certificates.

c2pa-rs accepts an end-entity signing certificate only with keyUsage digitalSignature, an
extended key usage it knows (emailProtection by default), ``CA:FALSE`` and an authority key
identifier; a TSA certificate needs the critical ``timeStamping`` EKU (RFC 3161 section 2.3).
Everything here is pure: nothing touches the disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Literal, get_args

from c2pa import C2paSigningAlg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from governance.core.errors import KeyMaterialError

__all__ = [
    "Algorithm",
    "ALGORITHMS",
    "PrivateKey",
    "CertProfile",
    "generate_key",
    "issue_certificate",
    "sign_bytes",
    "c2pa_alg",
    "algorithm_of",
    "signing_key",
    "fingerprint",
    "common_name",
    "cert_pem",
    "load_cert_chain",
    "check_key_matches",
]

Algorithm = Literal["es256", "es384", "ed25519", "ps256"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
CertProfile = Literal["root", "intermediate", "signer", "tsa"]

_C2PA_ALG = {
    "es256": C2paSigningAlg.ES256,
    "es384": C2paSigningAlg.ES384,
    "ed25519": C2paSigningAlg.ED25519,
    "ps256": C2paSigningAlg.PS256,
}
# CA certificates are signed with a hash matching the key strength; Ed25519 takes none.
_CERT_HASH = {"es256": hashes.SHA256, "es384": hashes.SHA384, "ps256": hashes.SHA256, "ed25519": None}


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh private key for ``algorithm`` (es256, es384, ed25519, ps256)."""
    if algorithm == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "es384":
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ps256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise KeyMaterialError(f"unsupported algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


def algorithm_of(key: object) -> str:
    """The C2PA algorithm name a private or public key signs with."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        curve = key.curve.name
        if curve == "secp256r1":
            return "es256"
        if curve == "secp384r1":
            return "es384"
        raise KeyMaterialError(f"unsupported elliptic curve {curve}; use P-256 or P-384")
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise KeyMaterialError(f"RSA key of {key.key_size} bits is too short; C2PA needs >= 2048")
        return "ps256"
    raise KeyMaterialError(f"unsupported key type {type(key).__name__}")


def signing_key(key: object) -> PrivateKey:
    """``key`` itself, once it is known to be a private key C2PA can sign with (``algorithm_of``)."""
    algorithm_of(key)  # refuses unsupported types, curves and sizes by name
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
        raise KeyMaterialError(f"a {type(key).__name__} is not a private key")
    return key


def c2pa_alg(algorithm: str) -> C2paSigningAlg:
    try:
        return _C2PA_ALG[algorithm]
    except KeyError:
        raise KeyMaterialError(f"unsupported algorithm {algorithm!r}") from None


def sign_bytes(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    """Sign ``data`` the way COSE (and so C2PA) wants it: raw r||s for ECDSA, PSS for RSA."""
    if algorithm in ("es256", "es384") and isinstance(key, ec.EllipticCurvePrivateKey):
        digest, size = (hashes.SHA256(), 32) if algorithm == "es256" else (hashes.SHA384(), 48)
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if algorithm == "ps256" and isinstance(key, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return key.sign(data, pss, hashes.SHA256())
    if algorithm in ALGORITHMS:
        raise KeyMaterialError(f"a {type(key).__name__} cannot sign {algorithm}")
    raise KeyMaterialError(f"unsupported algorithm {algorithm!r}")


def issue_certificate(
    key: PrivateKey,
    *,
    common_name: str,
    organisation: str,
    profile: CertProfile,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    days: int = 365,
) -> x509.Certificate:
    """Issue a certificate for ``key``; self-signed when ``issuer`` is None (root only)."""
    if profile != "root" and issuer is None:
        raise KeyMaterialError(f"a {profile} certificate needs an issuer")
    now = dt.datetime.now(dt.UTC)
    start = not_before or now - dt.timedelta(minutes=5)  # tolerate clock skew between hosts
    end = not_after or now + dt.timedelta(days=days)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    issuer_cert, signing_key = issuer if issuer else (None, key)
    issuer_name = issuer_cert.subject if issuer_cert else subject
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    aki_source = issuer_cert.public_key() if issuer_cert else public
    if not isinstance(aki_source, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, rsa.RSAPublicKey)):
        raise KeyMaterialError(f"unsupported issuer key type {type(aki_source).__name__}")
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_source), critical=False)
    is_ca = profile in ("root", "intermediate")
    path_len = 1 if profile == "root" else 0
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=path_len if is_ca else None), critical=True
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not is_ca,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=is_ca,
            crl_sign=is_ca,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if profile == "signer":
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    elif profile == "tsa":
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    hash_cls = _CERT_HASH[algorithm_of(signing_key)]
    if isinstance(signing_key, rsa.RSAPrivateKey):
        return builder.sign(signing_key, hashes.SHA256(), rsa_padding=padding.PKCS1v15())
    return builder.sign(signing_key, hash_cls() if hash_cls else None)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 hex of the certificate's DER encoding."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else cert.subject.rfc4514_string()


def cert_pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


def load_cert_chain(data: bytes, *, source: str) -> list[x509.Certificate]:
    """Parse one or more PEM certificates; a clear KeyMaterialError when malformed or empty."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise KeyMaterialError(f"{source}: not a valid PEM certificate chain ({exc})") from None
    if not certs:
        raise KeyMaterialError(f"{source}: contains no certificate")
    return certs


def check_key_matches(key: Any, cert: x509.Certificate, *, source: str) -> None:
    """Refuse a private key (or anything with ``public_key()``) not matching the certificate."""
    ours = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if ours != theirs:
        raise KeyMaterialError(f"{source}: the private key does not match the certificate {common_name(cert)!r}")
