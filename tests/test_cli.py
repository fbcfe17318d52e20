"""The command line: every command answers --help, and the contract's names and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from governance.service.cli.main import app

runner = CliRunner()
GEN_ARGS = ["--frames", "16", "--size", "256x256"]


def _all_command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if getattr(command, "commands", None):  # a group (typer's own group class in recent typer)
        for name, sub in command.commands.items():
            paths.extend(_all_command_paths(sub, prefix + (name,)))
    return paths


COMMAND_PATHS = _all_command_paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "reelguard")
def test_every_command_has_help(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_contract_commands_exist():
    names = {" ".join(p) for p in COMMAND_PATHS}
    for required in (
        "generate",
        "verify",
        "policy check",
        "watermark embed",
        "watermark detect",
        "registry add",
        "registry match",
        "audit verify",
        "keys init",
    ):
        assert required in names, f"missing command: reelguard {required}"


def test_console_script_runs(home):
    result = subprocess.run(
        [sys.executable, "-m", "governance.service.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "generate" in result.stdout


def test_denied_generation_exits_3_with_decision_json(home, tmp_path):
    out = tmp_path / "x.mp4"
    result = runner.invoke(app, ["generate", "Mickey Mouse at the beach", "-o", str(out), "--json", *GEN_ARGS])
    assert result.exit_code == 3, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "denied"
    assert payload["decision"]["action"] in {"deny", "require-consent"}
    assert payload["decision"]["rule_id"]
    assert payload["decision"]["reason"]
    assert not out.exists()


def test_generate_then_verify_json(home, tmp_path):
    out = tmp_path / "ok.mp4"
    result = runner.invoke(app, ["generate", "a blue square moving up on a yellow background", "-o", str(out),
                                 "--seed", "3", "--json", *GEN_ARGS])
    assert result.exit_code == 0, result.output
    generated = json.loads(result.stdout)
    assert generated["status"] == "generated" and out.is_file()

    again = runner.invoke(app, ["generate", "a blue square", "-o", str(out), *GEN_ARGS])
    assert again.exit_code == 15  # existing output refused without --force

    result = runner.invoke(app, ["verify", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["c2pa"]["state"] == "trusted"
    assert report["watermark"]["detected"] is True
    assert report["watermark"]["payload"] == generated["payload"]
    assert report["registry"]["record"]["content_id"] == generated["content_id"]
    assert report["verdict"] == "authentic"
    assert isinstance(report["reasons"], list) and isinstance(report["flags"], list)

    both = runner.invoke(app, ["verify", str(out), str(out), "--json"])
    assert both.exit_code == 0
    assert [r["verdict"] for r in json.loads(both.stdout)] == ["authentic", "authentic"]


def test_verify_corrupt_file_exits_with_media_error(home, tmp_path):
    bad = tmp_path / "junk.mp4"
    bad.write_bytes(b"junk" * 100)
    result = runner.invoke(app, ["verify", str(bad)])
    assert result.exit_code == 21
    assert "not a readable video" in result.output or "no video" in result.output


def test_bad_size_is_a_usage_error(home, tmp_path):
    result = runner.invoke(app, ["generate", "a red circle", "-o", str(tmp_path / "a.mp4"), "--size", "big"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["generate", "", "-o", "{tmp}/a.mp4"], 42),  # empty prompt: PromptError
        (["generate", "x" * 200_000, "-o", "{tmp}/a.mp4"], 42),  # huge prompt
        (["generate", "a red circle", "-o", "{tmp}/a.mp4", "--model", "{tmp}/no-such-model"], 31),
        (["generate", "a red circle", "-o", "{tmp}/missing-dir/a.mp4"], 16),  # unwritable output
        (["generate", "a red circle", "-o", "{tmp}/a.webm"], 16),  # a container C2PA cannot embed in
        (["verify", "{tmp}/nothing-here.mp4"], 21),
    ],
    ids=["empty-prompt", "huge-prompt", "unknown-model", "missing-folder", "webm-output", "missing-clip"],
)
def test_bad_input_gets_one_line_and_a_distinct_exit_code(home, tmp_path, args, code):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == code, result.output
    assert "error" in result.output.lower()
    assert "Traceback" not in result.output
    assert list(tmp_path.glob("*.mp4")) == []


def test_unreachable_database_exits_11(home, tmp_path, monkeypatch):
    monkeypatch.setenv("REELGUARD_DATABASE_URL", "postgresql+psycopg://nobody:pw@127.0.0.1:9/none")
    result = runner.invoke(app, ["generate", "a red circle", "-o", str(tmp_path / "a.mp4")])
    assert result.exit_code == 11, result.output
    assert "unreachable" in result.output
    assert ":pw@" not in result.output
