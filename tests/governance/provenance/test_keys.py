"""Keys and certificates: creation, profiles, encryption at rest, rotation, import, backends."""

from __future__ import annotations

import datetime as dt
import logging
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from governance.core.errors import KeyMaterialError, PassphraseError, SigningError
from governance.provenance.keys import (
    FileSigningBackend,
    SigningBackend,
    create_identity,
    identity_from_chain,
    identity_info,
    import_identity,
    load_identity,
    load_or_create_identity,
    rotate_signer,
    trust_bundle_pem,
)
from governance.provenance.keys import certs
from governance.provenance.keys.identity import c2pa_dir, install_id
from tests.c2pa_ts.support import new_settings


def _ext(cert: x509.Certificate, cls):
    return cert.extensions.get_extension_for_class(cls)


def test_first_use_creates_ca_intermediate_signer_with_private_keys_0600(tmp_path):
    settings = new_settings(tmp_path)
    identity = load_or_create_identity(settings)
    folder = c2pa_dir(settings)
    for name in ("root.key.pem", "intermediate.key.pem", "signer.key.pem"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
        assert b"ENCRYPTED" not in (folder / name).read_bytes()[:64]
    assert identity.algorithm == "es256"
    assert identity.signer.startswith("ACME Studios C2PA Signer")
    assert load_or_create_identity(settings).fingerprint == identity.fingerprint  # second use loads
    assert "PRIVATE" not in repr(identity) and "BEGIN" not in repr(identity)


def test_signer_certificate_has_the_extensions_c2pa_rs_requires(tmp_path):
    settings = new_settings(tmp_path)
    identity = load_or_create_identity(settings)
    leaf, inter = certs.load_cert_chain(identity.chain_pem.encode(), source="chain")
    assert _ext(leaf, x509.KeyUsage).value.digital_signature
    assert _ext(leaf, x509.KeyUsage).critical
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in _ext(leaf, x509.ExtendedKeyUsage).value
    assert _ext(leaf, x509.BasicConstraints).value.ca is False
    assert _ext(leaf, x509.AuthorityKeyIdentifier).value.key_identifier == _ext(inter, x509.SubjectKeyIdentifier).value.digest
    assert _ext(inter, x509.BasicConstraints).value.ca is True
    anchors = certs.load_cert_chain(trust_bundle_pem(settings).encode(), source="bundle")
    assert [certs.common_name(a) for a in anchors] == [f"ACME Studios Root CA {install_id(c2pa_dir(settings))}"]
    assert inter.issuer == anchors[0].subject


def test_tsa_profile_has_critical_timestamping_eku():
    key = certs.generate_key("es256")
    root = certs.issue_certificate(key, common_name="R", organisation="O", profile="root")
    tsa_key = certs.generate_key("es256")
    tsa = certs.issue_certificate(tsa_key, common_name="T", organisation="O", profile="tsa", issuer=(root, key))
    eku = _ext(tsa, x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


@pytest.mark.parametrize("algorithm", ["es256", "es384", "ed25519", "ps256"])
def test_each_algorithm_creates_a_matching_identity(tmp_path, algorithm):
    identity = create_identity(new_settings(tmp_path), algorithm=algorithm)
    assert identity.algorithm == algorithm == identity.backend.algorithm


def test_unknown_algorithm_is_refused(tmp_path):
    with pytest.raises(KeyMaterialError, match="unsupported algorithm"):
        create_identity(new_settings(tmp_path), algorithm="rsa1024")


@pytest.mark.parametrize(("key_algorithm", "algorithm"), [("ed25519", "es256"), ("es256", "ed25519"), ("es256", "ps256")])
def test_signing_with_a_key_of_another_algorithm_is_a_key_material_error(key_algorithm, algorithm):
    """A key that cannot make the algorithm's signature is refused by name, not with a TypeError."""
    key = certs.generate_key(key_algorithm)
    with pytest.raises(KeyMaterialError, match="cannot sign"):
        certs.sign_bytes(key, algorithm, b"claim")


def test_encrypted_keys_need_the_right_passphrase_and_never_leak(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    settings = new_settings(tmp_path, key_passphrase="correct horse")
    load_or_create_identity(settings)
    key_file = c2pa_dir(settings) / "signer.key.pem"
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(PassphraseError, match="wrong passphrase") as wrong:
        load_identity(new_settings(tmp_path, key_passphrase="battery staple"))
    with pytest.raises(PassphraseError, match="is encrypted") as missing:
        load_identity(new_settings(tmp_path))
    text = str(wrong.value) + str(missing.value) + caplog.text + "".join(capsys.readouterr())
    assert "PRIVATE KEY" not in text and "correct horse" not in text
    assert load_identity(settings).algorithm == "es256"


def test_malformed_and_mismatched_key_material_is_refused(tmp_path):
    settings = new_settings(tmp_path)
    load_or_create_identity(settings)
    folder = c2pa_dir(settings)
    other = certs.generate_key("es256")
    (folder / "signer.key.pem").write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(KeyMaterialError, match="does not match"):
        load_identity(settings)
    (folder / "signer.chain.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(KeyMaterialError, match="not a valid PEM certificate"):
        load_identity(settings)
    (folder / "signer.chain.pem").unlink()
    with pytest.raises(KeyMaterialError, match="keys init"):
        load_identity(settings)


def test_rotation_replaces_the_signer_and_keeps_the_old_chain(tmp_path):
    settings = new_settings(tmp_path)
    old = load_or_create_identity(settings)
    rotation = rotate_signer(settings, algorithm="ed25519")
    new = load_identity(settings)
    assert rotation.old_fingerprint == old.fingerprint != rotation.new_fingerprint == new.fingerprint
    assert new.algorithm == "ed25519"
    assert (c2pa_dir(settings) / "retired" / f"{old.fingerprint[:16]}.chain.pem").is_file()
    assert [h["event"] for h in identity_info(settings).history] == ["created", "rotated"]


def _external_chain(eku=ExtendedKeyUsageOID.EMAIL_PROTECTION, *, expired=False):
    root_key = certs.generate_key("es256")
    root = certs.issue_certificate(root_key, common_name="Org Root", organisation="Org", profile="root")
    inter_key = certs.generate_key("es256")
    inter = certs.issue_certificate(
        inter_key, common_name="Org CA", organisation="Org", profile="intermediate", issuer=(root, root_key)
    )
    key = certs.generate_key("es256")
    now = dt.datetime.now(dt.timezone.utc)
    end = now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=30)
    leaf = certs.issue_certificate(
        key, common_name="Org Signer", organisation="Org", profile="signer", issuer=(inter, inter_key),
        not_before=now - dt.timedelta(days=2), not_after=end,
    )
    return root, inter, leaf, key


def test_import_adopts_an_organisation_chain_and_its_root(tmp_path):
    settings = new_settings(tmp_path, key_passphrase="at-rest")
    load_or_create_identity(settings)
    root, inter, leaf, key = _external_chain()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"transport")
    )
    rotation = import_identity(
        settings, chain_pem=certs.cert_pem(leaf, inter, root).encode(), key_pem=key_pem, key_passphrase="transport"
    )
    identity = load_identity(settings)
    assert identity.signer == "Org Signer" and rotation.new_fingerprint == identity.fingerprint
    assert certs.fingerprint(root) in {certs.fingerprint(c) for c in certs.load_cert_chain(trust_bundle_pem(settings).encode(), source="t")}
    signed_chain = certs.load_cert_chain(identity.chain_pem.encode(), source="c")
    assert [certs.common_name(c) for c in signed_chain] == ["Org Signer", "Org CA"]  # the root stays an anchor
    assert identity_info(settings).imported and identity_info(settings).encrypted
    with pytest.raises(KeyMaterialError, match="imported identity"):
        rotate_signer(settings)


def test_import_refuses_wrong_passphrase_mismatch_and_expired(tmp_path):
    settings = new_settings(tmp_path)
    root, inter, leaf, key = _external_chain()
    enc = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"right")
    )
    with pytest.raises(PassphraseError):
        import_identity(settings, chain_pem=certs.cert_pem(leaf, inter).encode(), key_pem=enc, key_passphrase="wrong")
    other = certs.generate_key("es256").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyMaterialError, match="does not match"):
        import_identity(settings, chain_pem=certs.cert_pem(leaf, inter).encode(), key_pem=other)
    root, inter, old_leaf, old_key = _external_chain(expired=True)
    plain = old_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(KeyMaterialError, match="expired"):
        import_identity(settings, chain_pem=certs.cert_pem(old_leaf, inter).encode(), key_pem=plain)
    with pytest.raises(KeyMaterialError, match="no certificate|not a valid"):
        import_identity(settings, chain_pem=b"garbage", key_pem=plain)


class CountingBackend:
    """Stands in for an HSM / KMS: only ``sign`` ever sees the data, the key stays inside."""

    def __init__(self, key):
        self._inner = FileSigningBackend.from_key(key)
        self.calls = 0

    @property
    def algorithm(self) -> str:
        return self._inner.algorithm

    def sign(self, data: bytes) -> bytes:
        self.calls += 1
        return self._inner.sign(data)


def test_custom_backend_plugs_in_through_the_protocol(tmp_path):
    root, inter, leaf, key = _external_chain()
    backend = CountingBackend(key)
    assert isinstance(backend, SigningBackend)
    identity = identity_from_chain([leaf, inter], backend)
    signer = identity.c2pa_signer()
    signer.close()
    with pytest.raises(KeyMaterialError, match="backend signs"):
        identity_from_chain([leaf, inter], CountingBackend(certs.generate_key("ed25519")))


def test_expired_identity_refuses_to_sign():
    root, inter, leaf, key = _external_chain(expired=True)
    identity = identity_from_chain([leaf, inter], FileSigningBackend.from_key(key))
    with pytest.raises(SigningError, match="expired"):
        identity.check_valid()


def test_interrupted_rotation_rolls_forward_or_back(tmp_path):
    from governance.provenance.keys.staging import commit_pending

    settings = new_settings(tmp_path)
    old = load_or_create_identity(settings)
    folder = c2pa_dir(settings)
    pending = folder / "pending"
    pending.mkdir(exist_ok=True)
    # crash after the new key, before its chain: the half-staged key is discarded
    (pending / "signer.key.pem").write_bytes((folder / "signer.key.pem").read_bytes())
    assert load_identity(settings).fingerprint == old.fingerprint and not (pending / "signer.key.pem").exists()
    # crash after the key was renamed into place but before the chain: the chain follows
    rotation = rotate_signer(settings)
    chain = (folder / "signer.chain.pem").read_bytes()
    (folder / "signer.chain.pem").write_text(old.chain_pem)  # as if the last rename had not happened
    (pending / "signer.chain.pem").write_bytes(chain)
    assert load_identity(settings).fingerprint == rotation.new_fingerprint
    commit_pending(folder)  # idempotent


def test_concurrent_first_use_creates_one_identity(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    settings = new_settings(tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        fingerprints = set(pool.map(lambda _: load_or_create_identity(settings).fingerprint, range(4)))
    assert len(fingerprints) == 1
    assert [h["event"] for h in identity_info(settings).history] == ["created"]
