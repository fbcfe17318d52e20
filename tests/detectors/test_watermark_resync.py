"""The wider resynchronisation (issue 21): aspect changes and rotations past the old +-2.25 deg."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from detectors.watermark import DEFAULT_SCHEME, get_scheme
from detectors.watermark.readout import templates_for_key
from detectors.watermark.search import SEARCH_GRID, Hypothesis, peak_of, warp
from tests.detectors.test_watermark_support import KEY, PAYLOAD, panning_clip

SCHEME = get_scheme(DEFAULT_SCHEME)


@pytest.fixture(scope="module")
def marked():
    clip = panning_clip(21, frames=24, height=360, width=640)
    return list(SCHEME.embed(clip, payload=PAYLOAD, key=KEY))


def _squeeze_letterbox(frame: np.ndarray, factor: float) -> np.ndarray:
    """16:9 scaled to ``factor`` of its height, centred on black bars (same frame size)."""
    height, width = frame.shape[:2]
    rows = int(round(height * factor / 2)) * 2
    out = np.zeros_like(frame)
    top = (height - rows) // 2
    out[top : top + rows] = cv2.resize(frame, (width, rows), interpolation=cv2.INTER_AREA)
    return out


def _rotate(frame: np.ndarray, degrees: float) -> np.ndarray:
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(frame, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_aspect_squeeze_to_75_percent_height_letterboxed(marked):
    # Uncompressed: this synthetic pan loses even the unsqueezed mark to H.264 above CRF 16 (its
    # B pictures re-code too little); the squeeze under H.264 is measured on real clips in
    # benchmarks/bench_recovery.py.
    det = SCHEME.detect([_squeeze_letterbox(f, 0.75) for f in marked], key=KEY)
    assert det.detected and det.payload == PAYLOAD, det.details
    assert det.details["aspect"] == pytest.approx(0.75, rel=0.02)
    assert det.details["angle"] == 0.0


@pytest.mark.parametrize("degrees", [5.0, -5.0])
def test_rotation_by_5_degrees(marked, degrees):
    det = SCHEME.detect([_rotate(f, degrees) for f in marked], key=KEY)
    assert det.detected and det.payload == PAYLOAD, det.details
    assert abs(det.details["angle"]) == pytest.approx(abs(degrees), abs=0.3)


def test_stretch_to_a_wider_frame_is_found(marked):
    # 640x360 stretched to 800x360: the mark is 1.25x wider than high, i.e. aspect 0.8.
    det = SCHEME.detect([cv2.resize(f, (800, 360), interpolation=cv2.INTER_LINEAR) for f in marked], key=KEY)
    assert det.detected and det.payload == PAYLOAD, det.details
    assert det.details["scale"] == pytest.approx(1.25, rel=0.02)
    assert det.details["aspect"] == pytest.approx(0.8, rel=0.02)


def test_the_union_bound_counts_every_point_the_climb_can_reach():
    """Climbs from the coarse points at the corners of both families stay on the counted lattice."""
    from detectors.watermark.search import _climb

    grid = SEARCH_GRID
    k_range, j_max, i_range = grid.bounds()
    assert grid.fine_count() == 2 * (k_range[1] - k_range[0] + 1) * (2 * j_max + 1 + i_range[1] - i_range[0])
    rng = np.random.default_rng(9)
    templates = templates_for_key(KEY, SCHEME.name)
    coarse = grid.coarse()
    corners = [
        min(coarse, key=key)
        for key in (
            lambda h: h.scale,
            lambda h: -h.scale,
            lambda h: h.angle,
            lambda h: -h.angle,
            lambda h: h.aspect,
            lambda h: -h.aspect,
        )
    ]
    for start in corners:
        seen: dict = {}
        _climb(rng.normal(size=(180, 320)).astype(np.float32), start, templates.pilot_fft, grid, seen)
        for hyp in seen:
            k, j, i, _, squeeze = grid.snap(hyp)
            assert k_range[0] <= k <= k_range[1] and i_range[0] <= i <= i_range[1] and abs(j) <= j_max
            assert not (squeeze and j)  # squeezes are never rotated: the families stay apart
    # The price of the wider search, stated in docs/watermark.md: the first look's threshold.
    from scipy.stats import norm

    old = 13578  # the fine lattice before issue 21 (scale x angle +-2.25 deg x mirror)
    z_old, z_new = (norm.isf(1e-6 / 4 / 4 / (n * 64 * 64)) for n in (old, grid.fine_count()))
    assert grid.fine_count() > 7 * old and 0 < z_new - z_old < 0.5


def test_mirrored_coarse_scores_equal_the_direct_warp():
    from detectors.watermark.search import _batch_z

    rng = np.random.default_rng(5)
    residual = rng.normal(size=(180, 320)).astype(np.float32)
    templates = templates_for_key(KEY, SCHEME.name)
    pilot = np.fft.irfft2(np.conj(templates.pilot_fft), s=(64, 64))
    ffts = (templates.pilot_fft.astype(np.complex64), np.conj(np.fft.rfft2(pilot[:, ::-1])).astype(np.complex64))
    for scale, angle, aspect in ((1.1, 2.0, 1.0), (0.9, 0.0, 0.8)):
        plain = Hypothesis(scale, -angle, False, aspect)
        both = _batch_z(residual, [plain], ffts, (128, 128))[:, 0]
        direct = [
            peak_of(residual, h, templates.pilot_fft, out_shape=(128, 128)).z
            for h in (plain, Hypothesis(scale, angle, True, aspect))
        ]
        assert both == pytest.approx(direct, rel=1e-4)


def test_warp_inverts_an_anisotropic_scaling():
    rng = np.random.default_rng(2)
    base = cv2.GaussianBlur(rng.normal(size=(128, 128)).astype(np.float32), (0, 0), 1.5)
    stretched = cv2.resize(base, (160, 96), interpolation=cv2.INTER_LINEAR)  # x 1.25, y 0.75
    back = warp(stretched, Hypothesis(1.25, 0.0, False, 0.6), out_shape=(128, 128))
    inner = (slice(16, 112), slice(16, 112))
    assert np.corrcoef(back[inner].ravel(), base[inner].ravel())[0, 1] > 0.8
    assert math.isclose(Hypothesis(1.25, 0, False, 0.6).scales[1], 0.75)
