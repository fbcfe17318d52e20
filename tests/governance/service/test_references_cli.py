"""``reelguard generate --image / --video``: the contract's exit codes and JSON for references."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from governance.core.settings import get_settings
from governance.provenance.keys import load_or_create_identity
from governance.service.cli.main import app
from tests.conftest import C2PA_SAMPLES, require_shared
from tests.governance.flows.test_references import _huge_png, _png, _sha, _sign_png, _tdm

runner = CliRunner()
GEN_ARGS = ["--frames", "16", "--size", "256x256"]
PROMPT = "a red circle moving right on a blue background"


def test_generate_with_an_image_then_verify_lists_the_ingredient(home, tmp_path):
    ref = _png(tmp_path / "start.png")
    out = tmp_path / "i2v.mp4"
    result = runner.invoke(app, ["generate", PROMPT, "-o", str(out), "--image", str(ref), "--strength", "0.6",
                                 "--json", *GEN_ARGS])
    assert result.exit_code == 0, result.output
    generated = json.loads(result.stdout)
    assert generated["model"]["task"] == "image-to-video"
    assert generated["references"][0]["sha256"] == _sha(ref) and generated["references"][0]["kind"] == "image"
    verified = runner.invoke(app, ["verify", str(out), "--json"])
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    (ingredient,) = report["c2pa"]["ingredients"]
    assert (ingredient["relationship"], ingredient["sha256"], ingredient["state"]) == ("inputTo", _sha(ref), "unsigned")
    assert report["verdict"] == "authentic"
    text = runner.invoke(app, ["verify", str(out)])
    assert "ingredient: start.png (inputTo) [unsigned] sha256" in text.stdout


def test_forbidden_reference_exits_6_with_json(home, tmp_path):
    identity = load_or_create_identity(get_settings())
    ref = _sign_png(identity, _png(tmp_path / "raw.png"), tmp_path / "no-ai.png",
                    [_tdm("cawg.training-mining", ai_inference="notAllowed")])
    out = tmp_path / "x.mp4"
    result = runner.invoke(app, ["generate", PROMPT, "-o", str(out), "--image", str(ref), "--json", *GEN_ARGS])
    assert result.exit_code == 6, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "refused" and payload["reason"] == "reference-credentials"
    assert payload["reference"]["sha256"] == _sha(ref)
    assert payload["entries"] == [{"assertion": "cawg.training-mining", "entry": "cawg.ai_inference", "use": "notAllowed"}]
    assert not out.exists()


def test_bad_references_exit_with_their_codes_and_write_nothing(home, tmp_path):
    clip = shutil.copy(require_shared(C2PA_SAMPLES / "c2pa-rs__video1_no_manifest.mp4"), tmp_path / "clip.mp4")
    cases = [
        (["--image", str(clip)], 34, "pass it with --video"),
        (["--video", str(_png(tmp_path / "p.png"))], 34, "pass it with --image"),
        (["--image", str(tmp_path / "nope.png")], 34, "no such file"),
        (["--image", str(_huge_png(tmp_path / "huge.png"))], 22, "30000x30000"),
        (["--image", str(tmp_path / "p.png"), "--video", str(clip)], 34, "not both"),
    ]
    out = tmp_path / "x.mp4"
    for args, code, message in cases:
        result = runner.invoke(app, ["generate", PROMPT, "-o", str(out), *args, *GEN_ARGS])
        assert result.exit_code == code, (args, result.output)
        assert message in " ".join(result.output.split()), result.output
        assert not out.exists()
