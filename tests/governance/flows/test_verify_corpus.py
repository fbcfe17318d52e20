"""The dev corpus of real Content Credentials (../shared/c2pa/samples, 45 files from other
issuers) through ``reelguard verify FILE --json``: state, verdict, issuer and disclosure per file.

The expectations follow the C2PA specification's meaning of each code, with the official C2PA
trust list, the TSA list and the CAI anchors and allowed list loaded (the bundled defaults):
integrity failures are ``tampered``; credentials that cannot be checked (expired without a
trusted time-stamp, CAWG identity unresolvable, pre-release claims, remote manifests not
fetched) are ``unverifiable``; good signatures from signers on no list are ``untrusted``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from governance.service.cli.main import app
from tests.conftest import C2PA_SAMPLES, require_shared

runner = CliRunner()
T, F, N = True, False, None

# file: (c2pa.state, verdict, c2pa.issuer, disclosure.ai_generated)
EXPECTED = {
    "c2pa-content-c__genai-picture-validate-protected.jpg": ("valid", "untrusted", "Digimarc", T),
    "c2pa-content-c__photo-rddm-validate-protected.jpg": ("valid", "untrusted", "Digimarc", N),
    "c2pa-js-legacy__c2pa-actions-1.2.png": ("trusted", "authentic", "Adobe Inc.", N),
    "c2pa-js-legacy__composite-dst.jpg": ("valid", "untrusted", "C2PA Test Signing Cert", T),
    "c2pa-js-legacy__crypto-social.png": ("invalid", "unverifiable", None, N),  # pre-release manifest
    "c2pa-js-legacy__firefly-1.jpg": ("trusted", "authentic", "Adobe Inc.", T),  # legacy Adobe AI assertion
    "c2pa-js-legacy__gen-fill.jpg": ("trusted", "authentic", "Adobe Inc.", T),  # c2pa.placed + AI
    "c2pa-js-legacy__genai-actions-v2.jpg": ("trusted", "authentic", "Adobe Inc.", T),
    "c2pa-node__cloud-only-firefly.jpg": ("invalid", "unverifiable", None, N),  # remote, not fetched
    "c2pa-node__earth.mp4": ("absent", "unknown", None, N),
    "c2pa-node__testv2.jpg": ("invalid", "unverifiable", "Adobe Inc.", N),  # claim.malformed
    "c2pa-python__C-recorded-as-mov.mov": ("absent", "unknown", None, N),
    "c2pa-python__sample1_signed.wav": ("valid", "untrusted", "C2PA Test Signing Cert", N),
    "c2pa-rs__CA.jpg": ("valid", "untrusted", "C2PA Test Signing Cert", N),
    "c2pa-rs__CACAE-uri-CA.jpg": ("valid", "untrusted", "C2PA Test Signing Cert", N),
    "c2pa-rs__CA_ct.jpg": ("valid", "untrusted", "C2PA Test Signing Cert", N),
    "c2pa-rs__C_with_CAWG_data.jpg": ("valid", "untrusted", "C2PA Test Signing Cert", F),  # digitalCapture
    "c2pa-rs__E-sig-CA.jpg": ("invalid", "tampered", "C2PA Test Signing Cert", N),
    "c2pa-rs__XCA.jpg": ("invalid", "tampered", "C2PA Test Signing Cert", N),
    "c2pa-rs__adobe-20220124-E-clm-CAICAI.jpg": ("invalid", "tampered", "C2PA Test Signing Cert", N),
    "c2pa-rs__adobe_connected_identities.jpg": ("invalid", "unverifiable", "Adobe Inc.", N),
    "c2pa-rs__c.mov": ("absent", "unknown", None, N),
    "c2pa-rs__cloud.jpg": ("invalid", "unverifiable", None, N),
    "c2pa-rs__cloud_manifest.c2pa": ("valid", "unverifiable", "C2PA Test Signing Cert", N),  # bare store
    "c2pa-rs__dashinit.mp4": ("invalid", "tampered", "Media Publisher Company", N),
    "c2pa-rs__legacy.mp4": ("valid", "untrusted", None, N),
    "c2pa-rs__libpng-test_with_url.png": ("invalid", "unverifiable", None, N),
    "c2pa-rs__manifest_data.c2pa": ("valid", "unverifiable", "C2PA Test Signing Cert", N),
    "c2pa-rs__ocsp.jpg": ("trusted", "authentic", "Adobe Inc.", T),
    "c2pa-rs__sample1.m4a": ("absent", "unknown", None, N),
    "c2pa-rs__sample1.wav": ("absent", "unknown", None, N),
    "c2pa-rs__sample1.webp": ("absent", "unknown", None, N),
    "c2pa-rs__test.avi": ("absent", "unknown", None, N),
    "c2pa-rs__verify.jpeg": ("trusted", "authentic", "Adobe Inc.", N),
    "c2pa-rs__video1.mp4": ("valid", "untrusted", "C2PA Test Signing Cert", N),
    "c2pa-rs__video1_no_manifest.mp4": ("absent", "unknown", None, N),
    "c2pa-ts__amazon-titan-g1.png": ("valid", "untrusted", "Amazon Web Services, Inc.", T),
    "c2pa-ts__test-video.mp4": ("absent", "unknown", None, N),
    "public-testfil__adobe-20220124-CAICAI.jpg": ("valid", "untrusted", "C2PA Test Signing Cert", N),
    "public-testfil__adobe-20220124-E-clm-CAICAI.jpg": ("invalid", "tampered", "C2PA Test Signing Cert", N),
    "public-testfil__adobe-20220124-E-dat-CA.jpg": ("invalid", "tampered", "C2PA Test Signing Cert", N),
    "public-testfil__adobe-20220124-E-sig-CA.jpg": ("invalid", "tampered", "C2PA Test Signing Cert", N),
    "public-testfil__nikon-20221019-building.jpeg": ("invalid", "unverifiable", "NIKON CORPORATION", N),  # expired
    "public-testfil__truepic-20230212-camera.jpg": ("invalid", "tampered", "Truepic", N),
    "public-testfil__truepic-20230212-landscape.jpg": ("invalid", "tampered", "Truepic", N),
}


@pytest.fixture(scope="module")
def verified(tmp_path_factory) -> dict[str, dict]:
    """Every sample verified in one CLI call (a warm batch), credentials only."""
    import os

    samples = require_shared(C2PA_SAMPLES)
    home = tmp_path_factory.mktemp("home")
    env = {"REELGUARD_HOME": str(home), "REELGUARD_POLICY_SEMANTIC": "false"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = runner.invoke(app, ["verify", str(samples), "--only", "c2pa", "--json"])
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    return {report["path"].rsplit("/", 1)[-1]: report for report in reports}


def test_the_corpus_is_what_the_table_lists():
    samples = require_shared(C2PA_SAMPLES)
    assert sorted(p.name for p in samples.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file(verified, name):
    state, verdict, issuer, ai = EXPECTED[name]
    report = verified[name]
    assert "error" not in report, report
    assert (report["c2pa"]["state"], report["verdict"]) == (state, verdict), report["reasons"]
    assert report["c2pa"]["issuer"] == issuer
    assert report["disclosure"]["ai_generated"] is ai, report["disclosure"]
    assert report["disclosure"]["label"]  # every file gets something a platform can show
    assert report["reasons"] and isinstance(report["flags"], list) and isinstance(report["c2pa"]["codes"], list)


def test_tampered_only_for_integrity_codes(verified):
    from detectors.provenance import INTEGRITY_CODES

    for name, report in verified.items():
        integrity = set(report["c2pa"]["codes"]) & INTEGRITY_CODES
        assert (report["verdict"] == "tampered") == bool(integrity), name


def test_labels_say_who_made_it(verified):
    assert verified["c2pa-ts__amazon-titan-g1.png"]["disclosure"]["label"].startswith("Made with AI: Titan Image Generator G1, signed 2024-09-25")
    assert verified["c2pa-js-legacy__gen-fill.jpg"]["disclosure"]["label"].startswith("Edited with Adobe Photoshop; contains AI-generated elements")
    assert verified["c2pa-rs__C_with_CAWG_data.jpg"]["disclosure"]["label"].startswith("Camera capture")
    assert verified["c2pa-rs__video1_no_manifest.mp4"]["disclosure"]["label"] == "No Content Credentials"
    assert "fullyGenAIMedia" in verified["c2pa-js-legacy__firefly-1.jpg"]["disclosure"]["signals"]
    assert "perceptibleGenAI" in verified["c2pa-js-legacy__gen-fill.jpg"]["disclosure"]["signals"]


def test_cawg_identity_time_stamp_and_ingredients_are_shown(verified):
    ica = verified["c2pa-rs__adobe_connected_identities.jpg"]["c2pa"]["cawg_identities"]
    assert any("testuser23" in line for line in ica)
    assert verified["c2pa-rs__C_with_CAWG_data.jpg"]["c2pa"]["cawg_identities"] == ["cawg.x509.cose: C2PA Test Signing Cert, C2PA Signer"]
    firefly = verified["c2pa-js-legacy__firefly-1.jpg"]["c2pa"]
    assert firefly["time_stamped"] and firefly["timestamp_trusted"] and firefly["signed_at"].startswith("2023-03-21")
    composite = verified["c2pa-js-legacy__genai-actions-v2.jpg"]["c2pa"]
    assert composite["ingredients"] and composite["claim_generator"].startswith("Adobe")


def test_remote_manifest_is_named_not_fetched(verified):
    report = verified["c2pa-rs__cloud.jpg"]
    assert report["c2pa"]["codes"] == ["manifest.inaccessible"]
    assert report["c2pa"]["remote_url"].startswith("https://cai-manifests.adobe.com/")
    assert "remote fetching is off" in " ".join(report["reasons"])


def test_expired_signer_is_unverifiable_with_its_codes(verified):
    report = verified["public-testfil__nikon-20221019-building.jpeg"]
    assert "signingCredential.expired" in report["c2pa"]["codes"]
    assert "expired" in " ".join(report["reasons"])


def test_fail_on_sets_the_exit_code(home):
    samples = require_shared(C2PA_SAMPLES)
    tampered = samples / "c2pa-rs__XCA.jpg"
    assert runner.invoke(app, ["verify", str(tampered), "--only", "c2pa", "--json"]).exit_code == 0
    assert runner.invoke(app, ["verify", str(tampered), "--only", "c2pa", "--fail-on", "tampered,unverifiable"]).exit_code == 9
    assert runner.invoke(app, ["verify", str(tampered), "--only", "c2pa", "--fail-on", "authentic"]).exit_code == 0
    assert runner.invoke(app, ["verify", str(tampered), "--fail-on", "fake"]).exit_code == 2
