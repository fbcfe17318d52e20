"""``reelguard keys``: every command runs, prints what it should, and fails with exit codes."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from governance.service.cli.keys import app
from governance.provenance.keys import certs

runner = CliRunner()


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REELGUARD_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("REELGUARD_KEY_DIR", raising=False)
    return tmp_path


@pytest.mark.parametrize("command", ["init", "rotate", "export-trust", "import", "show"])
def test_help_for_every_command(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_init_show_rotate_export(env):
    created = runner.invoke(app, ["init", "--algorithm", "es384", "--json"])
    assert created.exit_code == 0, created.output
    info = json.loads(created.stdout)
    assert info["algorithm"] == "es384" and info["encrypted"] is False
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 12 and "already exists" in again.output
    rotated = runner.invoke(app, ["rotate", "--json"])
    assert rotated.exit_code == 0, rotated.output
    rotation = json.loads(rotated.stdout)
    assert rotation["old_fingerprint"] == info["fingerprint"] != rotation["new_fingerprint"]
    assert isinstance(rotation["audit_leaf_index"], int)  # the rotation is in the audit log
    shown = json.loads(runner.invoke(app, ["show", "--json"]).stdout)
    assert shown["fingerprint"] == rotation["new_fingerprint"]
    bundle = runner.invoke(app, ["export-trust", "-o", str(env / "trust.pem")])
    assert bundle.exit_code == 0 and (env / "trust.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_passphrase_from_env_and_wrong_passphrase_exit_code(env, monkeypatch):
    monkeypatch.setenv("REELGUARD_KEY_PASSPHRASE", "s3cret-pass")
    assert runner.invoke(app, ["init"]).exit_code == 0
    monkeypatch.setenv("REELGUARD_KEY_PASSPHRASE", "wrong")
    result = runner.invoke(app, ["rotate"])
    assert result.exit_code == 13 and "wrong passphrase" in result.output
    assert "s3cret-pass" not in result.output and "PRIVATE KEY" not in result.output
    prompted = runner.invoke(app, ["rotate", "--prompt"], input="s3cret-pass\n")
    assert prompted.exit_code == 0, prompted.output


def test_import_command(env):
    assert runner.invoke(app, ["export-trust"]).exit_code == 12  # nothing yet
    root_key = certs.generate_key("ed25519")
    root = certs.issue_certificate(root_key, common_name="Org Root", organisation="Org", profile="root")
    key = certs.generate_key("ed25519")
    leaf = certs.issue_certificate(key, common_name="Org Signer", organisation="Org", profile="signer", issuer=(root, root_key))
    (env / "chain.pem").write_text(certs.cert_pem(leaf))
    (env / "root.pem").write_text(certs.cert_pem(root))
    (env / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    args = ["import", "--chain", str(env / "chain.pem"), "--key", str(env / "key.pem"), "--anchors", str(env / "root.pem"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["signer"] == "Org Signer" and info["imported"] and info["algorithm"] == "ed25519"
    assert any("Org Root" in a for a in info["anchors"])
    (env / "chain.pem").write_text("garbage")
    assert runner.invoke(app, args).exit_code == 12
