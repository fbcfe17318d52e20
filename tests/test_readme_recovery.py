"""The README's watermark-detection and recovery figures are the committed results' (issue 19/21)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "recovery" / "results.json"


@pytest.fixture(scope="module")
def results():
    return json.loads(RESULTS.read_text(encoding="utf-8"))


def test_readme_quotes_the_end_to_end_detection_speed(results):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    speed = results["speed"]
    assert f"detect end to end {speed['end_to_end_marked_fps']:.0f}" in readme
    assert f"per-frame core {speed['core_residual_fps']:.0f} fps" in readme
    assert "536-791" not in readme  # the old per-frame figure quoted as if end to end


def test_readme_quotes_the_recovery_and_scale_results(results):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows, negatives = results["rows"], results["negatives"]
    both = sum(r["both"] == r["clip"] for r in rows)
    false = sum(r["both"] is not None for r in negatives)
    assert f"{both}/{len(rows)} attacked clips recovered" in readme
    assert f"{false} false recoveries in {len(negatives)}" in readme
    scale = results["scale"]
    assert f"{scale['median']['total_wall_s']:.2f} s end to end" in readme
