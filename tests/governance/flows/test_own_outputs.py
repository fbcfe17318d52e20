"""Our own outputs' fingerprints (issue 21): the third layer after the manifest and the watermark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sqlmodel import select

from detectors.video_io import read_clip, write_video
from governance.flows import GenerateRequest, generate, verify
from tests.governance.flows.test_flows import GEN_KW, SAFE_PROMPT, make_context
from tests.support.clips import pan_across
from tests.support.fingerprint_examples import still


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
    frames = np.stack([np.ascontiguousarray(base[:, i * 8 : i * 8 + 256]) for i in range(16)])
    clip = write_video(tmp_path / "unrelated.mp4", frames, fps=8.0, crf=23)
    report = verify(ctx, clip)
    assert report.verdict == "unknown", report.reasons
    assert report.recovery is None and report.record is None


def test_own_lookup_reads_pdq_first_and_skips_keypoints_it_does_not_need(own, monkeypatch):
    """With no protected work registered, keyframes (ORB, layout) are computed only when PDQ
    decides nothing: this model's flat clips are decided by layout, so here they are computed,
    once, and the clip is still found (the PDQ-decided case: tests/detectors/fingerprints)."""
    from detectors.fingerprints.extract import PendingKeyframes

    ctx, outcome, root = own
    assert ctx.registry.is_empty()
    copy = write_video(
        root / "pdq-first.mp4", _denoised(read_clip(outcome.output)), fps=outcome.model_record.fps, crf=23
    )
    completed = []
    original = PendingKeyframes.complete
    monkeypatch.setattr(PendingKeyframes, "complete", lambda self: completed.append(1) or original(self))
    scan = ctx.registry.scan_path(copy)
    assert scan.matches == ()
    assert scan.own and scan.own[0].content_id in {outcome.content_id, *_same_pixels(ctx, outcome)}
    assert completed == ([] if scan.own[0].fingerprint == "pdq" else [1])


def _same_pixels(ctx, outcome) -> set[str]:
    """Content ids of our generations (two share these pixels: same prompt and seed)."""
    from governance.records.registry.models import ORIGIN_GENERATED, Work
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        return {w.content_id for w in session.exec(select(Work).where(Work.origin == ORIGIN_GENERATED))}


def test_protected_check_and_own_lookup_share_one_full_fingerprint(own):
    """Once a protected work is registered, the same scan still finds it (ORB and layout
    keyframes computed as before) and still finds our own clip: the query is our clip twice, then
    2 s of a registered work (a pan across a photo, so the protected match does not hang on this
    model's flat frames)."""
    ctx, outcome, root = own
    ours = _denoised(read_clip(outcome.output))
    height, width = ours.shape[1:3]
    photo = still("astronaut", (width * 2, height * 2))
    pan = pan_across(photo, frames=16, window=(width, height))
    fps = outcome.model_record.fps
    protected = write_video(root / "protected.mp4", pan, fps=fps, crf=23)
    query = write_video(root / "ours-then-protected.mp4", np.concatenate([ours, ours, pan]), fps=fps, crf=23)
    work = ctx.registry.add_path(protected, owner="rights holder", title="a pan across a photo")
    try:
        scan = ctx.registry.scan_path(query)
        assert [m.work_id for m in scan.matches][:1] == [work.work_id]
        assert scan.own, "our own clip is found in the same pass"
    finally:
        ctx.registry.remove(work.work_id)
    assert ctx.registry.is_empty()
