"""Our own outputs' fingerprints (issue 21): the third layer after the manifest and the watermark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sqlmodel import select

from detectors.video_io import read_clip, write_video
from governance.flows import GenerateRequest, generate, verify
from tests.governance.test_flows import GEN_KW, SAFE_PROMPT, make_context


def _denoised(frames: np.ndarray) -> np.ndarray:
    """A strong denoiser over every frame: what a regeneration pass does to a pixel watermark."""
    return np.stack([cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(f), None, 15, 15, 7, 21) for f in frames])


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    ctx = make_context(root / "home")
    outcome = generate(ctx, GenerateRequest(prompt=SAFE_PROMPT, output=root / "clip.mp4", seed=7, **GEN_KW))
    return ctx, outcome, root


def test_generation_stores_own_fingerprints_in_the_same_transaction(own):
    from governance.records.registry.models import ORIGIN_GENERATED, Asset, Fingerprint, Work
    from governance.records.storage.db import session_scope

    ctx, outcome, _ = own
    with session_scope(ctx.engine) as session:
        work = session.exec(select(Work).where(Work.content_id == outcome.content_id)).one()
        asset = session.exec(select(Asset).where(Asset.work_id == work.id)).one()
        kinds = {f.kind for f in session.exec(select(Fingerprint).where(Fingerprint.asset_id == asset.id))}
    assert work.origin == ORIGIN_GENERATED
    assert asset.sha256 == outcome.file_sha256
    assert "pdq" in kinds


def test_own_outputs_are_never_protected_material(own):
    ctx, outcome, root = own
    assert ctx.registry.is_empty()  # nothing protected registered: own outputs do not count
    assert ctx.registry.list_works() == []
    assert ctx.registry.match_path(outcome.output) == []
    # The output-side protected check at generation does not see the earlier clip either,
    # even for the very same pixels (same prompt and seed).
    again = generate(ctx, GenerateRequest(prompt=SAFE_PROMPT, output=root / "again.mp4", seed=7, **GEN_KW))
    assert again.registry_outcome == "clear"
    assert ctx.registry.scan_path(outcome.output, own=False).matches == ()


def test_destroyed_watermark_is_recovered_by_fingerprint(own):
    ctx, outcome, root = own
    frames = _denoised(read_clip(outcome.output))
    copy = write_video(root / "denoised.mp4", frames, fps=outcome.model_record.fps, crf=23)
    report = verify(ctx, copy)
    assert report.provenance.state == "absent"
    assert report.watermark is not None and not report.watermark.detected, "the watermark must be gone here"
    assert report.verdict == "recovered", report.reasons
    assert report.recovery is not None and report.recovery.recovered_by == "fingerprint"
    # Two records share these pixels (the same prompt and seed generated twice above); either is ours.
    assert report.record is not None and report.record.content_id == report.recovery.content_id
    assert report.recovery.score > 0.25 and report.recovery.query_end > report.recovery.query_start
    body = report.to_dict()
    assert body["recovery"]["recovered_by"] == "fingerprint"
    assert body["registry"]["matches"] == []  # never reported as protected material
    assert "recovered from the fingerprint" in body["disclosure"]["label"]


def test_watermark_recovery_names_its_layer(own):
    from detectors.video_io import remux

    ctx, outcome, root = own
    report = verify(ctx, remux(outcome.output, root / "stripped.mp4"))
    assert report.verdict == "recovered", report.reasons
    assert report.recovery.recovered_by == "watermark"
    assert report.recovery.content_id == outcome.content_id


def test_unrelated_clip_is_never_recovered(own, tmp_path):
    ctx, _, _ = own
    rng = np.random.default_rng(3)
    base = cv2.resize(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), (512, 256), interpolation=cv2.INTER_CUBIC)
    frames = np.stack([np.ascontiguousarray(base[:, i * 8 : i * 8 + 256]) for i in range(24)])
    clip = write_video(tmp_path / "unrelated.mp4", frames, fps=8.0, crf=23)
    report = verify(ctx, clip)
    assert report.verdict == "unknown", report.reasons
    assert report.recovery is None and report.record is None
