"""The verifier's trust store and ``reelguard trust``: bundled lists, additions, updates, EKUs,
kept apart from the signing identity."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from typer.testing import CliRunner

from governance.core.errors import TrustError
from governance.core.settings import get_settings
from governance.provenance.keys import certs, load_or_create_identity, trust_bundle_pem
from governance.provenance.trust import BUNDLED, TrustStore, parse_certificates
from governance.service.cli.main import app
from tests.conftest import SHARED, require_shared

runner = CliRunner()


def _root(name: str = "Operator Root") -> x509.Certificate:
    key = certs.generate_key("es256")
    return certs.issue_certificate(key, common_name=name, organisation="Operator", profile="root")


def test_bundled_lists_load_with_their_sources(home):
    store = TrustStore(get_settings())
    names = {s.name: s for s in store.sources()}
    assert set(names) >= {spec.name for spec in BUNDLED}
    assert len(names["c2pa"].certificates) == 30 and len(names["c2pa-tsa"].certificates) == 22
    assert "CC BY 4.0" in names["c2pa"].origin and names["c2pa"].dated == "2026-08-05"
    config = store.config()
    assert config.anchors_pem and config.allowed_pem and config.tsa_anchors_pem
    assert "1.3.6.1.4.1.311.76.59.1.9" in config.ekus  # Microsoft's C2PA signing EKU


def test_bundled_copies_are_the_published_lists():
    folder = require_shared(SHARED / "c2pa" / "trust")
    from governance.provenance.trust.lists import bundled_bytes

    pairs = {"c2pa": "C2PA-TRUST-LIST.pem", "c2pa-tsa": "C2PA-TSA-TRUST-LIST.pem",
             "cai-anchors": "cai-verify-anchors.pem", "cai-allowed": "cai-verify-allowed.pem"}
    for spec in BUNDLED:
        assert bundled_bytes(spec) == (folder / pairs[spec.name]).read_bytes(), spec.name


def test_json_trust_list_gives_the_same_certificates_as_its_pem():
    folder = require_shared(SHARED / "c2pa" / "trust")
    from_json = parse_certificates((folder / "C2PA-TRUST-LIST.json").read_bytes(), source="json")
    from_pem = parse_certificates((folder / "C2PA-TRUST-LIST.pem").read_bytes(), source="pem")
    assert {c.fingerprint(certs.hashes.SHA256()) for c in from_json} == {c.fingerprint(certs.hashes.SHA256()) for c in from_pem}


@pytest.mark.parametrize("data", [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
                                  b"{}", b'{"LoTE": {"TrustedEntitiesList": []}}', b"\x00" * 100])
def test_anything_but_certificates_is_refused_clearly(home, data):
    with pytest.raises(TrustError):
        TrustStore(get_settings()).add(data, kind="anchor", source="bad.pem")


def test_operator_additions_and_ekus(home):
    store = TrustStore(get_settings())
    root = _root()
    pem = certs.cert_pem(root).encode()
    assert store.add(pem, kind="anchor", source="mine.pem") == 1
    assert store.add(pem, kind="anchor", source="mine.pem") == 0  # no duplicates
    assert certs.cert_pem(root) in store.config().anchors_pem
    assert store.add_eku("1.2.840.113549.1.9.99") and not store.add_eku("1.2.840.113549.1.9.99")
    assert "1.2.840.113549.1.9.99" in store.config().ekus
    with pytest.raises(TrustError):
        store.add_eku("not.an.oid")
    with pytest.raises(TrustError):
        store.add(pem, kind="root", source="x")  # type: ignore[arg-type]
    fingerprint = certs.fingerprint(root)
    assert store.remove(fingerprint[:12]) == 1
    assert certs.cert_pem(root) not in store.config().anchors_pem


def test_importing_trust_never_changes_who_we_sign_as(home):
    settings = get_settings()
    identity = load_or_create_identity(settings)
    exported = trust_bundle_pem(settings)
    store = TrustStore(settings)
    store.add(certs.cert_pem(_root()).encode(), kind="anchor", source="mine.pem")
    store.update("c2pa", certs.cert_pem(_root("Newer List Root")).encode(), origin="newer.pem")
    assert trust_bundle_pem(settings) == exported  # keys export-trust: only our own chain
    assert load_or_create_identity(settings).fingerprint == identity.fingerprint
    result = runner.invoke(app, ["keys", "export-trust"])
    assert result.exit_code == 0 and result.stdout == exported


def test_update_and_revert_a_bundled_list(home):
    store = TrustStore(get_settings())
    newer = certs.cert_pem(_root("Newer List Root")).encode()
    updated = store.update("c2pa", newer, origin="https://example.invalid/list.pem")
    assert len(updated.certificates) == 1 and updated.origin.startswith("updated from")
    with pytest.raises(TrustError, match="unknown list"):
        store.update("nope", newer, origin="x")
    with pytest.raises(TrustError):
        store.update("c2pa", b"garbage", origin="x")  # validated before anything is replaced
    assert len(next(s for s in store.sources() if s.name == "c2pa").certificates) == 1
    assert store.revert("c2pa")
    assert len(next(s for s in store.sources() if s.name == "c2pa").certificates) == 30


def test_own_ca_is_trusted_only_when_wanted(home):
    settings = get_settings()
    load_or_create_identity(settings)
    assert "own" in {s.name for s in TrustStore(settings).sources()}
    assert "own" not in {s.name for s in TrustStore(get_settings(trust_own_ca=False)).sources()}
    assert {s.name for s in TrustStore(get_settings(trust_lists=[])).sources()} == {"own"}


def test_signer_names_tell_installs_apart(tmp_path):
    one = load_or_create_identity(get_settings(home=tmp_path / "a"))
    two = load_or_create_identity(get_settings(home=tmp_path / "b"))
    assert one.signer != two.signer  # same organisation, different installs


def test_trust_cli(home, tmp_path):
    pem = tmp_path / "mine.pem"
    pem.write_text(certs.cert_pem(_root()))
    listed = runner.invoke(app, ["trust", "list", "--json"])
    assert listed.exit_code == 0
    assert {s["name"] for s in json.loads(listed.stdout)["sources"]} >= {"c2pa", "c2pa-tsa", "cai-anchors", "cai-allowed"}
    assert runner.invoke(app, ["trust", "add", str(pem)]).exit_code == 0
    assert runner.invoke(app, ["trust", "add", "--eku", "1.3.6.1.4.1.99999.1"]).exit_code == 0
    shown = json.loads(runner.invoke(app, ["trust", "show", "operator-anchor", "--json"]).stdout)
    assert [c["organisation"] for c in shown] == ["Operator"]
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    result = runner.invoke(app, ["trust", "add", str(bad)])
    assert result.exit_code == 26 and "not a PEM" in result.output
    assert runner.invoke(app, ["trust", "update", "c2pa", str(pem)]).exit_code == 0
    assert runner.invoke(app, ["trust", "update", "c2pa", "x", "--revert"]).exit_code == 0
    # a URL naming a private address is refused before any connection
    result = runner.invoke(app, ["trust", "update", "c2pa", "https://10.1.2.3/list.pem"])
    assert result.exit_code == 26 and "remote.refused" in result.output
    assert runner.invoke(app, ["trust", "remove", shown[0]["fingerprint"]]).exit_code == 0


def _signer_with_eku(eku_oid: str):
    """Root, intermediate, a signer whose only EKU is ``eku_oid``, and the signer's key."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes

    root_key, inter_key, key = (certs.generate_key("es256") for _ in range(3))
    root = certs.issue_certificate(root_key, common_name="Contoso Root", organisation="Contoso", profile="root")
    inter = certs.issue_certificate(inter_key, common_name="Contoso CA", organisation="Contoso", profile="intermediate",
                                    issuer=(root, root_key))
    now = dt.datetime.now(dt.timezone.utc)
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Contoso Signer"),
                                     x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Contoso")]))
            .issuer_name(inter.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(eku_oid)]), critical=False)
            .sign(inter_key, hashes.SHA256()))
    return root, inter, leaf, key


def test_microsoft_eku_signer_is_trusted_and_an_unaccepted_eku_is_unverifiable(tmp_path):
    from cryptography.hazmat.primitives import serialization

    from detectors.provenance import TrustConfig, read_provenance
    from governance.flows.verdict import decide_verdict
    from governance.provenance.keys import import_identity, load_identity
    from governance.provenance.signing import sign_video
    from tests.c2pa_ts.support import make_clip, make_spec

    settings = get_settings(home=tmp_path / "signer")
    root, inter, leaf, key = _signer_with_eku("1.3.6.1.4.1.311.76.59.1.9")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    import_identity(settings, chain_pem=certs.cert_pem(leaf, inter).encode(), key_pem=key_pem,
                    anchors_pem=certs.cert_pem(root).encode())
    asset = sign_video(make_clip(tmp_path / "clip.mp4", frames=6), tmp_path / "signed.mp4", spec=make_spec(),
                       identity=load_identity(settings))
    verifier = TrustStore(get_settings(home=tmp_path / "verifier", trust_lists=[], trust_own_ca=False))
    verifier.add(certs.cert_pem(root).encode(), kind="anchor", source="contoso-root.pem")
    report = read_provenance(asset.path, trust=verifier.config())
    assert report.state == "trusted" and report.issuer == "Contoso", report.codes
    narrow = TrustConfig(anchors_pem=certs.cert_pem(root), ekus=("1.3.6.1.5.5.7.3.4",))  # emailProtection only
    refused = read_provenance(asset.path, trust=narrow)
    assert refused.state == "invalid" and any(c.startswith("signingCredential.") for c in refused.codes), refused.codes
    assert decide_verdict(refused, None, record_found=False)[0] == "unverifiable"
