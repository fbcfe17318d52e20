"""RFC 3161: client and loopback TSA round trip, bad responses, and manifests that outlive
their signing certificate because they carry a timestamp."""

from __future__ import annotations

import datetime as dt
import socket
import time

import httpx
import pytest
from asn1crypto import tsp

from detectors.provenance import read_provenance
from governance.provenance.keys import FileSigningBackend, identity_from_chain, load_or_create_identity, trust_bundle_pem
from governance.provenance.keys import certs
from governance.provenance.keys.backend import load_private_key
from governance.provenance.keys.identity import c2pa_dir, install_id
from governance.provenance.signing import sign_video
from governance.provenance.timestamp import (
    LoopbackTSA,
    TimestampError,
    issue_response,
    load_or_create_tsa,
    make_request,
    parse_response,
    request_timestamp,
)
from tests.c2pa_ts.support import make_clip, make_spec, new_settings


@pytest.fixture(scope="module")
def tsa_home(tmp_path_factory):
    base = tmp_path_factory.mktemp("tsa")
    settings = new_settings(base)
    with LoopbackTSA.from_settings(settings) as tsa:
        yield settings, tsa, base


def test_round_trip_returns_a_verified_token(tsa_home):
    settings, tsa, _ = tsa_home
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    token = request_timestamp(tsa.url, b"frame bytes")
    assert before - dt.timedelta(seconds=2) <= token.gen_time <= dt.datetime.now(dt.timezone.utc)
    assert certs.common_name(token.tsa_certificate) == f"ACME Studios Time-Stamp Authority {install_id(c2pa_dir(settings))}"
    assert token.hash_algorithm == "sha256" and len(token.message_imprint) == 32
    anchors = trust_bundle_pem(settings)
    assert certs.cert_pem(token.tsa_certificate) in anchors  # verifiers get the TSA certificate too


def test_tsa_on_ipv6_loopback_serves_a_bracketed_url(tsa_home):
    """``host="::1"`` is accepted, so it must bind (IPv6) and give a URL clients can parse."""
    settings, _, _ = tsa_home
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    key, cert, chain = load_or_create_tsa(settings)
    with LoopbackTSA(key, cert, chain, host="::1") as tsa:
        assert tsa.url.startswith("http://[::1]:")
        assert request_timestamp(tsa.url, b"frame bytes").hash_algorithm == "sha256"


def test_token_for_other_data_or_nonce_is_refused(tsa_home):
    settings, tsa, _ = tsa_home
    key, cert, chain = load_or_create_tsa(settings)
    request, nonce = make_request(b"original")
    response = issue_response(request, key=key, cert=cert)
    assert parse_response(response, data=b"original", nonce=nonce).serial_number > 0
    with pytest.raises(TimestampError, match="imprint"):
        parse_response(response, data=b"forged", nonce=nonce)
    with pytest.raises(TimestampError, match="nonce"):
        parse_response(response, data=b"original", nonce=nonce + 1)
    tampered = bytearray(response)
    tampered[-10] ^= 0x01
    with pytest.raises(TimestampError):
        parse_response(bytes(tampered), data=b"original", nonce=nonce)
    with pytest.raises(TimestampError, match="malformed"):
        parse_response(b"\x30\x03garbage")


def test_tsa_rejects_malformed_requests_and_foreign_signers(tsa_home):
    settings, tsa, _ = tsa_home
    key, cert, _ = load_or_create_tsa(settings)
    rejection = tsp.PKIStatusInfo.load(issue_response(b"\x30\x00junk", key=key, cert=cert)[2:])
    assert rejection["status"].native == "rejection"
    with pytest.raises(TimestampError, match="refused"):
        parse_response(issue_response(b"junk", key=key, cert=cert))
    reply = httpx.post(tsa.url, content=b"x", headers={"Content-Type": "text/plain"})
    assert reply.status_code == 415
    # a certificate without the timeStamping EKU must not vouch for time
    signer_key = certs.generate_key("es256")
    not_tsa = certs.issue_certificate(signer_key, common_name="x", organisation="x", profile="root")
    request, nonce = make_request(b"data")
    with pytest.raises(TimestampError, match="timeStamping"):
        parse_response(issue_response(request, key=signer_key, cert=not_tsa), data=b"data", nonce=nonce)
    with pytest.raises(TimestampError, match="unreachable|HTTP"):
        request_timestamp("http://127.0.0.1:9/", b"data", timeout=1)


def _short_lived_identity(settings, seconds: float):
    """A signer certificate from the project CA that expires ``seconds`` from now."""
    load_or_create_identity(settings)
    folder = c2pa_dir(settings)
    inter = certs.load_cert_chain((folder / "intermediate.cert.pem").read_bytes(), source="intermediate")[0]
    inter_key = load_private_key(folder / "intermediate.key.pem", settings.key_passphrase)
    key = certs.generate_key("es256")
    now = dt.datetime.now(dt.timezone.utc)
    leaf = certs.issue_certificate(
        key, common_name="Short-lived Signer", organisation="ACME Studios", profile="signer",
        issuer=(inter, inter_key), not_before=now - dt.timedelta(minutes=1), not_after=now + dt.timedelta(seconds=seconds),
    )
    return identity_from_chain([leaf, inter], FileSigningBackend.from_key(key))


def test_timestamped_manifest_stays_trusted_after_the_signer_expires(tsa_home, tmp_path):
    settings, tsa, _ = tsa_home
    identity = _short_lived_identity(settings, seconds=3)
    clip = make_clip(tmp_path / "clip.mp4")
    issued = tsa.issued
    stamped = sign_video(clip, tmp_path / "stamped.mp4", spec=make_spec(), identity=identity.with_tsa(tsa.url))
    bare = sign_video(clip, tmp_path / "bare.mp4", spec=make_spec(), identity=identity)
    assert tsa.issued == issued + 1  # c2pa-rs asked our TSA, once
    anchors = trust_bundle_pem(settings)
    report = read_provenance(stamped.path, trust_anchors_pem=anchors)
    assert report.state == "trusted" and report.signed_at is not None
    wait = (identity.not_after - dt.datetime.now(dt.timezone.utc)).total_seconds() + 1.2
    time.sleep(max(0.0, wait))
    after = read_provenance(stamped.path, trust_anchors_pem=anchors)
    assert after.state == "trusted", after.codes
    assert after.signed_at < identity.not_after
    expired = read_provenance(bare.path, trust_anchors_pem=anchors)
    assert expired.state == "invalid" and "signingCredential.expired" in expired.codes
    with pytest.raises(Exception, match="expired"):
        sign_video(clip, tmp_path / "late.mp4", spec=make_spec(), identity=identity.with_tsa(tsa.url))
    assert not (tmp_path / "late.mp4").exists()


def test_settings_tsa_url_reaches_identities_loaded_from_disk(tsa_home, tmp_path):
    settings, tsa, base = tsa_home
    configured = new_settings(base, tsa_url=tsa.url)  # same home, REELGUARD_TSA_URL set
    identity = load_or_create_identity(configured)
    assert identity.tsa_url == tsa.url
    signed = sign_video(make_clip(tmp_path / "clip.mp4"), tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).signed_at is not None
