"""The command line as an operator meets it: a fast, lazy ``--help``, parameters refused before
any model loads, ``--actor`` in the audit log, production refusing the development CA."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import time

import pytest
import typer
from typer.testing import CliRunner

from governance.service.cli import main as cli_main

runner = CliRunner()


def _first_help_line(command) -> str:
    return " ".join((command.help or "").split())


def test_static_help_texts_match_the_commands():
    """The listing's short texts (shown without importing a command module) are the commands' own."""
    group = typer.main.get_command(cli_main.app)
    for name, (_module, text) in {**cli_main.GROUPS, **cli_main.COMMANDS}.items():
        command = group.get_command(None, name)
        if command is None or not text:  # a group not built yet, or one listed by loading it
            continue
        real = _first_help_line(command)
        assert real.startswith(text.rstrip("…")), f"{name}: {text!r} is not the start of {real!r}"


def test_help_imports_no_command_module():
    code = ("import sys; from governance.service.cli.main import main; sys.argv = ['reelguard', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'torch', 'policies', 'governance.flows', 'governance.service.cli.flows',"
            " 'cryptography', 'av') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "generate" in result.stdout and "registry" in result.stdout and "--actor" in result.stdout
    assert "HEAVY []" in result.stderr, result.stderr


def test_a_frame_count_the_model_cannot_make_fails_before_anything_loads(home, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "governance.service.cli", "generate", "a red circle moving right", "-o",
         str(tmp_path / "x.mp4"), "--frames", "24"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 33, result.stderr
    assert "exactly 16 frames" in result.stderr and "--frames 24" in result.stderr
    assert "Loading" not in result.stderr and "%|" not in result.stderr  # no third-party progress bars
    assert not (tmp_path / "x.mp4").exists() and not (home / "keys" / "c2pa").exists()  # not even keys made


def _actors(home) -> list[str]:
    from sqlmodel import select

    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import get_engine, session_scope

    with session_scope(get_engine(f"sqlite:///{home / 'reelguard.db'}")) as session:
        return [e.actor for e in session.exec(select(AuditEntry).order_by(AuditEntry.leaf_index))]


@pytest.fixture
def clip(tmp_path):
    from tests.support.api import panning_clip

    return panning_clip(tmp_path / "c.mp4", frames=12, size=(160, 96))


def test_the_audit_actor_is_a_person(home, clip, monkeypatch):
    monkeypatch.setattr(cli_main, "ACTOR", None)  # restored after the test: later sub-app tests see no --actor
    named = runner.invoke(cli_main.app, ["--actor", "Alice Operator", "verify", str(clip), "--json"])
    assert named.exit_code == 0, named.output
    plain = runner.invoke(cli_main.app, ["verify", str(clip), "--json"])
    assert plain.exit_code == 0, plain.output
    assert _actors(home) == ["Alice Operator", getpass.getuser()]
    bad = runner.invoke(cli_main.app, ["--actor", " ", "verify", str(clip)])
    assert bad.exit_code == 2 and "--actor" in bad.output


def test_production_refuses_to_generate_with_the_development_ca(home, tmp_path, monkeypatch):
    monkeypatch.setenv("REELGUARD_ENVIRONMENT", "production")
    result = runner.invoke(cli_main.app, ["generate", "a red circle moving right", "-o", str(tmp_path / "x.mp4")])
    assert result.exit_code == 10, result.output
    assert 'environment = "production"' in result.output and "development CA" in result.output
    assert "tsa_url" in result.output
    served = runner.invoke(cli_main.app, ["serve", "--port", "1"])
    assert served.exit_code == 10 and "development CA" in served.output  # refused before binding a port


def test_verify_json_stays_compact(home, clip):
    out = runner.invoke(cli_main.app, ["verify", str(clip), "--json"])
    assert out.exit_code == 0
    assert len(out.stdout) < 8_000 and "bit_confidence" not in json.loads(out.stdout)["watermark"]


def test_import_governance_is_cheap_and_exports_resolve():
    code = ("import sys, governance\n"
            "loaded = [m for m in ('numpy', 'governance.flows', 'policies') if m in sys.modules]\n"
            "missing = [n for n in governance.__all__ if not hasattr(governance, n)]\n"
            "print(loaded, missing)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[] []", result.stdout + result.stderr


def test_serve_public_verify_flag_opens_anonymous_verification(home, tmp_path):
    import io
    import os
    import signal
    import socket

    import httpx
    from PIL import Image

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "governance.service.cli", "serve", "--public-verify", "--port",
                             str(port), "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "REELGUARD_HOME": str(home)}, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(base + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
                time.sleep(0.2)
        assert health.json()["public_verify"] is True
        buf = io.BytesIO()
        Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, format="PNG")
        r = httpx.post(base + "/api/verify", files={"file": ("x.png", buf.getvalue(), "image/png")}, timeout=60)
        assert r.status_code == 200, r.text
        assert httpx.get(base + "/api/audit/events", timeout=10).status_code == 401  # nothing else opened
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
