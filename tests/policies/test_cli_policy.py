"""``reelguard policy``: check (single and --file), explain, test, and --help everywhere."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from governance.service.cli.policy import app

runner = CliRunner()
FAST = ["--no-semantic"]


@pytest.mark.parametrize("command", ["check", "explain", "test", "packs"])
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_check_json_prints_the_decision_and_exits_3_when_refused(home):
    result = runner.invoke(app, ["check", "Mickey Mouse skiing", "--json", *FAST])
    body = json.loads(result.output)
    assert result.exit_code == 3
    assert body["action"] == "deny" and body["category"] == "protected-character"
    assert body["rule_id"] == "characters.disney" and len(body["pack_digest"]) == 64 and body["reason"]


def test_check_allowed_prompt_exits_0_with_jurisdiction_obligations(home):
    result = runner.invoke(app, ["check", "a lighthouse at dawn", "--json", "--jurisdiction", "cn", *FAST])
    body = json.loads(result.output)
    assert result.exit_code == 0 and body["action"] == "allow"
    assert "visible-label" in body["obligations"] and body["jurisdiction"] == "cn"


def test_check_file_prints_one_json_object_per_line_and_exits_3_if_any_is_refused(home, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(
        "Taylor Swift skiing\nm1ck3y m0use\n\na quiet harbour at night\n\u0000binary\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["check", "--file", str(prompts), "--json", *FAST])
    assert result.exit_code == 3, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 4, 5]
    assert [r["action"] for r in rows] == ["require-consent", "deny", "allow", "deny"]
    assert [r["prompt"] for r in rows[:3]] == ["Taylor Swift skiing", "m1ck3y m0use", "a quiet harbour at night"]
    assert "control character" in rows[3]["error"]
    assert len({r.get("pack_digest") for r in rows[:3]}) == 1


def test_check_file_exits_0_only_when_every_prompt_passes(home, tmp_path):
    prompts = tmp_path / "ok.txt"
    prompts.write_text("a quiet harbour at night\n\na red kite over a field\n", encoding="utf-8")
    result = runner.invoke(app, ["check", "--file", str(prompts), "--json", "--no-prompt", *FAST])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["action"] for r in rows] == ["allow", "allow"] and all("prompt" not in r for r in rows)
    prompts.write_text("a quiet harbour at night\nMickey Mouse skiing\n", encoding="utf-8")
    assert runner.invoke(app, ["check", "--file", str(prompts), *FAST]).exit_code == 3


def test_a_second_check_in_the_same_process_reuses_the_loaded_engine(home, monkeypatch):
    """The engine loads once per process (``PolicyEngine.shared``): the second check reuses it.
    How fast the warm path is lives in the policy benchmark, not in a timed test."""
    from policies import engine as engine_module

    built: list[object] = []
    original_init = engine_module.PolicyEngine.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(engine_module.PolicyEngine, "__init__", counting_init)
    monkeypatch.setattr(engine_module, "_SHARED", {})  # cold, whatever loaded before this test
    assert runner.invoke(app, ["check", "a lighthouse at dawn", "--json"]).exit_code == 0
    result = runner.invoke(app, ["check", "ピカチュウが走る", "--json"])
    assert result.exit_code == 3 and json.loads(result.output)["rule_id"] == "characters.games-anime"
    assert len(built) == 1


def test_bad_prompt_and_broken_pack_exit_with_their_codes(home, tmp_path):
    assert runner.invoke(app, ["check", "   ", *FAST]).exit_code == 42
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "pack: bad\nversion: '1'\nrules:\n  - id: b.x\n    category: sexual\n    action: block\n    terms: [x]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["test", str(bad), *FAST])
    assert result.exit_code == 41 and "bad.yaml:6: rules[0].action" in result.output


def test_explain_shows_rule_and_normalised_text(home):
    result = runner.invoke(app, ["explain", "p1k4chu at the beach", *FAST])
    assert result.exit_code == 0
    assert "characters.games-anime" in result.output and "normalised: 'p1k4chu at the beach'" in result.output


def test_explain_shows_the_alias_behind_an_indirect_reference(home):
    result = runner.invoke(app, ["explain", "the current Pope skateboarding", *FAST])
    text = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 0
    assert "alias 'the current pope' refers to pope-leo-xiv" in text
    assert "hit: likeness.politics" in text and "entity pope-leo-xiv" in text


def test_test_runs_a_packs_own_examples(home):
    result = runner.invoke(app, ["test", "safety", "--json", *FAST])
    body = json.loads(result.output)
    assert result.exit_code == 0 and body["failed"] == 0 and body["passed"] > 20
