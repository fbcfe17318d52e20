"""A clip generated now still verifies ``authentic`` years later: every manifest carries an
RFC 3161 time-stamp from the install's own TSA, so the signature is judged at the time the TSA
vouched for, not today. The clock is moved with libfaketime (``faketime``) in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from governance.core.settings import get_settings
from governance.flows import FlowContext, GenerateRequest, generate
from tests.conftest import require_tool

GEN_KW = dict(num_frames=16, width=256, height=256)
PROMPT = "a red circle moving right on a blue background"
THREE_YEARS = "+1100d"  # past the signer certificate's 365 days, inside the CA's and TSA's 10 years


def _faketime() -> str:
    return require_tool("faketime")  # libfaketime


def _verify_later(home, clip, offset: str = THREE_YEARS, *extra: str) -> dict:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")},
           "REELGUARD_HOME": str(home), "REELGUARD_POLICY_SEMANTIC": "false", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    code = "from governance.service.cli.main import main; main()"
    result = subprocess.run([_faketime(), "-f", offset, sys.executable, "-c", code, "verify", str(clip), "--json", *extra],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    root = tmp_path_factory.mktemp("out")
    ctx = FlowContext(get_settings(home=home), semantic_policy=False)
    stamped = generate(ctx, GenerateRequest(prompt=PROMPT, output=root / "stamped.mp4", seed=1, **GEN_KW))
    bare_ctx = FlowContext(get_settings(home=home, timestamp=False), semantic_policy=False)
    bare = generate(bare_ctx, GenerateRequest(prompt=PROMPT, output=root / "bare.mp4", seed=2, **GEN_KW))
    ctx.close()
    return home, stamped.output, bare.output


def test_the_clock_really_moves(clips):
    result = subprocess.run([_faketime(), "-f", THREE_YEARS, sys.executable, "-c",
                             "import datetime; print(datetime.date.today().year)"], capture_output=True, text=True)
    assert int(result.stdout) >= 2029


def test_time_stamped_clip_is_authentic_three_years_on(clips):
    home, stamped, _ = clips
    report = _verify_later(home, stamped)
    assert report["verdict"] == "authentic", report["reasons"]
    assert report["c2pa"]["state"] == "trusted" and report["c2pa"]["timestamp_trusted"] is True
    assert report["watermark"]["detected"] is True


def test_without_a_time_stamp_the_same_clip_would_be_unverifiable(clips):
    """The control: what the time-stamp saves us from (the signer certificate expired)."""
    home, _, bare = clips
    assert _verify_later(home, bare, "+0d", "--only", "c2pa")["verdict"] == "authentic"  # today it is fine
    report = _verify_later(home, bare, THREE_YEARS, "--only", "c2pa")
    assert report["verdict"] == "unverifiable" and "signingCredential.expired" in report["c2pa"]["codes"]


def test_still_authentic_after_signer_rotation(clips):
    from governance.provenance.keys import rotate_signer

    home, stamped, _ = clips
    rotate_signer(get_settings(home=home))
    assert _verify_later(home, stamped, "+0d", "--only", "c2pa")["verdict"] == "authentic"
    report = _verify_later(home, stamped, THREE_YEARS, "--only", "c2pa")
    assert report["verdict"] == "authentic", report["reasons"]
