"""``reelguard audit`` end to end: checkpoint, prove, verify (clean and tampered), report, events."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from governance.records.audit.models import AuditEntry, AuditHead
from tests.support.audit_month import write_synthetic_month
from governance.service.cli.audit import app
from governance.core.settings import get_settings
from governance.records.storage.db import get_engine

runner = CliRunner()


@pytest.fixture
def engine(home: Path):
    settings = get_settings()
    settings.ensure_dirs()
    engine = get_engine(settings.resolved_database_url)
    write_synthetic_month(engine, datetime(2026, 10, 1, tzinfo=timezone.utc), days=3, per_day=8)
    return engine


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", ["checkpoint", "prove", "verify", "report", "events", "retention"])
def test_help(command: str) -> None:
    assert _run(command, "--help").exit_code == 0


def test_checkpoint_prove_verify(engine, tmp_path: Path, home: Path) -> None:
    cp = tmp_path / "cp.txt"
    result = _run("checkpoint", "-o", str(cp))
    assert result.exit_code == 0, result.stderr
    assert cp.read_text().startswith("reelguard.audit/")
    assert oct((home / "keys" / "audit-log.key").stat().st_mode & 0o777) == "0o600"
    events = json.loads(_run("events", "--json", "--limit", "3").stdout)
    proof = json.loads(_run("prove", events[1]["event_id"], "--checkpoint", str(cp), "--json").stdout)
    assert proof["verified"] and proof["leaf_index"] == 1
    assert _run("prove", "2").exit_code == 0
    assert _run("verify", "--from-checkpoint", str(cp)).exit_code == 0
    with engine.begin() as conn:
        conn.execute(update(AuditEntry.__table__).where(AuditEntry.__table__.c.leaf_index == 4).values(actor="mallory"))
    result = _run("verify")
    assert result.exit_code == 18 and "leaf 4" in result.stderr


def test_corrupt_checkpoint_is_a_clear_error(engine, tmp_path: Path) -> None:
    _run("checkpoint")
    bad = tmp_path / "bad.txt"
    bad.write_text("not a checkpoint\n")
    result = _run("verify", "--from-checkpoint", str(bad))
    assert result.exit_code == 17 and "corrupt checkpoint" in result.stderr


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_report_formats(engine, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    result = _run("report", "--from", "2026-10-01", "--to", "2026-10-03", "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 500
    assert _run("report", "--from", "2026-10-01", "--to", "2026-10-03", "-o", str(out)).exit_code == 15


def test_report_bad_input(engine, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert _run("report", "--from", "2026-13-01", "--to", "2026-10-03", "-o", str(out)).exit_code == 17
    assert _run("report", "--from", "2026-10-05", "--to", "2026-10-03", "-o", str(out)).exit_code == 17
    assert _run("report", "--from", "2026-10-01", "--to", "2026-10-03", "--format", "docx", "-o", str(out)).exit_code == 17


def test_verify_json_is_typed_and_names_the_witness(engine, home: Path) -> None:
    result = _run("verify", "--json")
    body = json.loads(result.stdout)
    assert result.exit_code == 0 and body["ok"] and body["case"] is None and body["failures"] == []
    assert body["witness"]["status"] in {"consistent", "none"} and body["witness"]["location"] == str(home / "witness")
    assert _run("checkpoint").exit_code == 0  # published to $REELGUARD_HOME/witness
    assert (home / "witness" / "checkpoint").read_text().startswith("reelguard.audit/")
    with engine.begin() as conn:
        conn.execute(AuditEntry.__table__.delete().where(AuditEntry.__table__.c.leaf_index >= 10))
        conn.execute(update(AuditHead.__table__).values(size=10))
    result = _run("verify", "--json")
    body = json.loads(result.stdout)
    assert result.exit_code == 18 and body["case"] == "log-truncated" and body["witness"]["status"] == "failed"
    assert body["failures"][0]["leaf"] == 10
    plain = _run("verify")
    assert plain.exit_code == 18 and "log-truncated" in plain.stderr


def test_verify_says_when_there_is_no_external_checkpoint(home: Path) -> None:
    get_settings().ensure_dirs()
    result = _run("verify")
    assert result.exit_code == 0 and "NO external checkpoint" in result.stdout


def test_retention_below_the_period_is_refused(engine) -> None:
    assert _run("retention", "--days", "30", "--yes").exit_code == 17
