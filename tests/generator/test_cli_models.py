"""`reelguard models list / info`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from generator import describe_model
from governance.service.cli.models import app


def test_list_shows_the_embedded_model(home):
    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    models = json.loads(result.output)
    assert models[0]["pipeline_class"] == "ShapesVideoPipeline"


def test_info_cites_the_weights_digest(home):
    result = CliRunner().invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["weights_digest"] == describe_model(None).weights_digest
    assert "sha256:" in CliRunner().invoke(app, ["info"]).output


def test_info_on_a_missing_folder_fails_with_the_generator_exit_code(home, tmp_path):
    result = CliRunner().invoke(app, ["info", str(tmp_path / "missing")])
    assert result.exit_code == 31 and "does not exist" in result.output


def test_help_of_every_command():
    for args in (["--help"], ["list", "--help"], ["info", "--help"]):
        assert CliRunner().invoke(app, args).exit_code == 0
