"""The mark survives what the generation flow and platforms do to a clip (real encodes)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detectors.watermark import DEFAULT_SCHEME, get_scheme
from tests.detectors.test_watermark_support import CLIPS, KEY, PAYLOAD, panning_clip, real_clip, transcode

SCHEME = get_scheme(DEFAULT_SCHEME)


def test_generation_flow_delivery_h264_crf18_at_512(tmp_path):
    clip = panning_clip(10, frames=16)
    marked = list(SCHEME.embed(clip, payload=PAYLOAD, key=KEY))
    det = SCHEME.detect(transcode(marked, tmp_path, fps=8, crf=18), key=KEY)
    assert det.detected and det.payload == PAYLOAD and det.details["geometry"] == "embedded"


def test_crop_and_mirror_are_found_by_the_search():
    clip = panning_clip(11, frames=12, height=360, width=640)
    marked = list(SCHEME.embed(clip, payload=PAYLOAD, key=KEY))
    cropped = [f[40:340, 70:610] for f in marked]  # 70 % of the area, off-centre
    det = SCHEME.detect(cropped, key=KEY)
    assert det.detected and det.payload == PAYLOAD and det.details["geometry"] == "resynchronised"
    assert det.details["scale"] == pytest.approx(360 / 300, rel=0.01)
    mirrored = SCHEME.detect([np.ascontiguousarray(f[:, ::-1]) for f in marked], key=KEY)
    assert mirrored.detected and mirrored.payload == PAYLOAD and mirrored.details["mirrored"]


@pytest.mark.skipif(not (CLIPS / "penguins_ai_1080p.mp4").exists(), reason="shared clips not present")
def test_real_clip_downscaled_by_half_then_h264_crf28(tmp_path):
    clip = real_clip("penguins_ai_1080p.mp4", frames=48)
    marked = list(SCHEME.embed(clip, payload=PAYLOAD, key=KEY))
    det = SCHEME.detect(transcode(marked, tmp_path, crf=28, size=(640, 360)), key=KEY)
    assert det.detected and det.payload == PAYLOAD and det.p_value <= 1e-6
    unmarked = SCHEME.detect(transcode(clip, tmp_path, crf=28, size=(640, 360)), key=KEY)
    assert not unmarked.detected
    cropped = [f[90:690, 100:1170] for f in marked]  # 70 % of the area, then a platform encode
    found = SCHEME.detect(transcode(cropped, tmp_path, crf=28), key=KEY)
    assert found.detected and found.payload == PAYLOAD and found.details["geometry"] == "resynchronised"


@pytest.mark.skipif(not (CLIPS / "crowd_720p.avi").exists(), reason="shared clips not present")
def test_static_real_clip_after_h264_crf28_with_early_stop_budget(tmp_path):
    clip = real_clip("crowd_720p.avi", frames=20, size=None)
    marked = list(SCHEME.embed(clip, payload=PAYLOAD, key=KEY))
    noisy = [np.clip(f + np.random.default_rng(i).normal(0, 5, f.shape), 0, 255).astype(np.uint8)
             for i, f in enumerate(marked)]
    det = SCHEME.detect(transcode(noisy, tmp_path, fps=25, crf=28), key=KEY)
    assert det.detected and det.payload == PAYLOAD
    brighter = SCHEME.detect([cv2.convertScaleAbs(f, alpha=1.2) for f in marked], key=KEY)
    assert brighter.detected and brighter.payload == PAYLOAD

