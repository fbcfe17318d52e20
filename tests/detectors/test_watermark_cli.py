"""``reelguard watermark embed`` / ``detect`` end to end on a real H.264 file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from detectors.video_io import probe, write_video
from governance.service.cli.watermark import app
from tests.detectors.test_watermark_support import panning_clip

runner = CliRunner()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REELGUARD_HOME", str(tmp_path / "home"))
    return tmp_path


def test_help_lists_both_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "embed" in result.output and "detect" in result.output


def test_embed_then_detect(home):
    source = home / "in.mp4"
    write_video(source, panning_clip(5, frames=24, height=288, width=512), fps=24, crf=16)
    out = home / "out.mp4"
    result = runner.invoke(app, ["embed", str(source), str(out), "--payload", "00112233445566ff", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["payload"] == "00112233445566ff" and summary["frames"] == 24 and summary["psnr_db"] >= 42
    assert probe(out).frame_count == 24

    refused = runner.invoke(app, ["embed", str(source), str(out)])
    assert refused.exit_code == 15 and "--force" in refused.output
    forced = runner.invoke(app, ["embed", str(source), str(out), "--force", "--payload", "00112233445566ff"])
    assert forced.exit_code == 0, forced.output

    found = runner.invoke(app, ["detect", str(out), "--json"])
    assert found.exit_code == 0, found.output
    doc = json.loads(found.output)
    assert doc["detected"] is True and doc["payload"] == "00112233445566ff"
    assert doc["p_value"] <= 1e-6 and doc["frames_used"] == 24 and len(doc["bit_confidence"]) == 64

    clean = runner.invoke(app, ["detect", str(source)])
    assert clean.exit_code == 0 and "no reelguard.ss.v1 watermark found" in clean.output


def test_bad_payload_and_missing_input_are_clear_errors(home):
    bad = runner.invoke(app, ["embed", str(home / "nope.mp4"), str(home / "o.mp4"), "--payload", "xyz"])
    assert bad.exit_code == 2 and "hexadecimal" in bad.output
    missing = runner.invoke(app, ["detect", str(home / "nope.mp4")])
    assert missing.exit_code == 21 and "no such file" in missing.output
