"""The benchmark entry points keep exporting what other benchmarks import from them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_bench_watermark_exports_the_clip_makers_and_attack_suite():
    import bench_watermark as bw

    # what benchmarks/recovery/ uses: one definition of clips and attacks
    for name in ("Clip", "real_clip", "pan_clip", "ATTACKS", "encode", "pixels", "rotate", "retime", "CLIPS"):
        assert hasattr(bw, name), name
    assert set(bw.__all__) <= set(dir(bw))
    names = [a.name for a in bw.ATTACKS]
    assert len(names) == len(set(names)) == 25
    frames = [np.zeros((64, 96, 3), np.uint8)] * 24
    assert len(bw.retime(frames, 24.0, 30.0)) == 30
    assert bw.rotate(frames[:1], 5.0)[0].shape == (64, 96, 3)


def test_bench_registry_exports_what_the_recovery_scale_run_uses():
    import bench_registry as br

    assert set(br.__all__) <= set(dir(br))
    codes = br.synthetic_codes(20, seed=1)
    assert codes.shape == (20, 32) and codes.dtype == np.uint8
    assert br.rss_mb() > 0
    assert len(br.TRANSFORMS) == 15
