"""Consent licences carry the digest of their evidence; a setting makes evidence mandatory."""

from __future__ import annotations

import hashlib

import pytest
from typer.testing import CliRunner

from governance.records.consent import ConsentError, ConsentRegistry
from governance.records.storage.db import get_engine


@pytest.fixture
def engine(tmp_path):
    return get_engine(f"sqlite:///{tmp_path / 'consent.db'}")


def test_evidence_digest_is_recorded_and_can_be_required(engine):
    digest = hashlib.sha256(b"signed release").hexdigest()
    lic = ConsentRegistry(engine, require_evidence=False).grant(
        person_id="jane", granted_by="Jane", evidence_sha256=digest
    )
    assert lic.evidence_sha256 == digest and ConsentRegistry(engine).list()[0].evidence_sha256 == digest
    strict = ConsentRegistry(engine, require_evidence=True)
    with pytest.raises(ConsentError, match="requires evidence"):
        strict.grant(person_id="jane", granted_by="Jane")
    with pytest.raises(ConsentError, match="64 lower-case hex"):
        strict.grant(person_id="jane", granted_by="Jane", evidence_sha256="abc")
    assert len(ConsentRegistry(engine).list()) == 1


def test_cli_grant_hashes_the_evidence_file_and_honours_the_setting(home, tmp_path, monkeypatch):
    from governance.service.cli.main import app

    evidence = tmp_path / "release.pdf"
    evidence.write_bytes(b"%PDF-1.7 signed by Jane")
    runner = CliRunner()
    monkeypatch.setenv("REELGUARD_CONSENT_EVIDENCE_REQUIRED", "true")
    refused = runner.invoke(app, ["consent", "grant", "jane-doe", "--by", "Jane Doe"])
    assert refused.exit_code == 19 and "requires evidence" in refused.output
    missing = runner.invoke(
        app, ["consent", "grant", "jane-doe", "--by", "Jane Doe", "--evidence", str(tmp_path / "nope")]
    )
    assert missing.exit_code == 19 and "no such file" in missing.output
    done = runner.invoke(
        app, ["consent", "grant", "jane-doe", "--by", "Jane Doe", "--evidence", str(evidence), "--json"]
    )
    assert done.exit_code == 0, done.output
    assert hashlib.sha256(evidence.read_bytes()).hexdigest() in done.output
