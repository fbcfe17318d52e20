"""Watermark benchmark: imperceptibility, robustness, calibrated false positives and speed.

    .venv/bin/python benchmarks/bench_watermark.py [--quick] [--skip-anchors] [--null-only KEYS]

Runs ReelGuard's scheme and the invisible-watermark anchors (dwtDct, dwtDctSvd, RivaGAN) in the
same run on real clips (../shared/clips) and pans across scikit-image photos, then writes
docs/watermark/results.md, results.json and PNG plots, and refreshes the summary block of
docs/watermark.md. Every number is measured here; the Video Seal rows are quoted from its
authors (it needs weights fetched at run time, which this machine cannot do).

The parts live in ``benchmarks/watermark/`` (clips, attacks, metrics, anchors, run, report); this
entry point re-exports the names other benchmarks import from it (``bench_recovery`` uses the
clip makers and the attack suite: one definition).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from watermark.anchors import VIDEO_SEAL, Anchor, run_anchors  # noqa: E402
from watermark.attacks import (  # noqa: E402
    ANCHOR_ATTACKS,
    ATTACKS,
    Attack,
    contrast,
    crop_area,
    encode,
    gamma,
    noise,
    pad,
    pixel_map,
    pixels,
    resize,
    retime,
    rotate,
)  # fmt: skip
from watermark.clips import CLIPS, DOCS, FPR, KEY, OUT, PAYLOAD, SIZE, Clip, Frames, pan_clip, real_clip  # noqa: E402
from watermark.metrics import bit_accuracy, luma, psnr, quality  # noqa: E402
from watermark.report import images, markdown, plots, summary_table, update_summary  # noqa: E402
from watermark.run import Row, null_study, run_robustness, strength_curve, tail, timing  # noqa: E402

from detectors.watermark import DEFAULT_SCHEME, get_scheme  # noqa: E402
from detectors.watermark.layout import TILE_PX  # noqa: E402
from detectors.watermark.spread_spectrum import NULL_Z_SCALE  # noqa: E402

__all__ = [
    "ANCHOR_ATTACKS", "ATTACKS", "Anchor", "Attack", "CLIPS", "Clip", "DOCS", "FPR", "Frames", "KEY", "OUT",
    "PAYLOAD", "Row", "SIZE", "VIDEO_SEAL", "bit_accuracy", "contrast", "crop_area", "encode", "gamma", "luma",
    "main", "noise", "null_study", "pad", "pan_clip", "pixel_map", "pixels", "psnr", "quality", "real_clip",
    "resize", "retime", "rotate", "run_robustness", "strength_curve", "timing",
]  # fmt: skip


def null_only(scheme, seconds: float, keys: int, log) -> int:
    """The false-positive study alone, with the search as it ships (issue 21: the wider grid)."""
    from scipy.stats import norm

    clips = [
        real_clip("penguins_ai_1080p.mp4", seconds, 24, "AI-generated, moving camera"),
        real_clip("crowd_720p.avi", seconds, 50, "static camera, static background"),
        pan_clip("astronaut", seconds),
        pan_clip("chelsea", seconds),
    ]
    load_before = os.getloadavg()
    null = null_study(scheme, clips, keys=keys, log=log)
    p = np.asarray(null["p_values"])
    z_search = np.asarray([z for z in null["z_search"] if z is not None])
    grid = scheme.grid
    doc = {
        "runs": null["runs"],
        "keys": keys,
        "variants": null["variants"],
        "false_positives": null["false_positives"],
        "fine_hypotheses": grid.fine_count(),
        "shifts": TILE_PX * TILE_PX,
        "threshold_search_one_sum": null["threshold_search"],
        "threshold_search_four_sums": float(norm.isf(FPR / 4 / 4 / null["n_search_hypotheses"])) * NULL_Z_SCALE,
        "max_z_search": float(z_search.max()),
        "max_z_embedded": float(max(null["z_aligned"])),
        "min_p_value": float(p.min()),
        "share_p_below": {str(a): float(np.mean(p <= a)) for a in (0.1, 0.01, 0.001)},
        "per_shift_tail": tail(null["per_shift"]),
        "load": [load_before, os.getloadavg()],
    }
    (OUT / "null-study.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    log(json.dumps({k: v for k, v in doc.items() if k != "variants"}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clips, keys and frames (minutes, not an hour)")
    parser.add_argument("--skip-anchors", action="store_true")
    parser.add_argument(
        "--null-only",
        type=int,
        metavar="KEYS",
        default=0,
        help="only the false-positive study with KEYS keys (writes watermark/null-study.json)",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - started:6.0f}s] {msg}", flush=True)

    import av
    import scipy

    try:
        import imwatermark  # noqa: F401  (the anchors need it importable, not only installed)
        import onnxruntime

        anchors_version = (
            f"invisible-watermark {importlib.metadata.version('invisible-watermark')}, onnxruntime {onnxruntime.__version__}"
        )
    except ImportError as exc:
        anchors_version = f"unavailable ({exc})"
    cpu = cpu_model()
    scheme = get_scheme(DEFAULT_SCHEME)
    setup = {
        "quick": args.quick,
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs (shared with other jobs: wall times are noisy, CPU times reported)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "scipy": scipy.__version__,
        "PyAV": av.__version__,
        "anchors": anchors_version,
        "scheme": scheme.name,
        "payload": "64 bits, BCH(127,64) t=10",
        "clip size": f"{SIZE[0]}x{SIZE[1]}, 2 s unless stated",
        "default strength": f"{scheme.default_strength} RMS luma levels",
    }
    for k, v in setup.items():
        log(f"{k}: {v}")

    seconds = 2.0
    if args.null_only:
        return null_only(scheme, seconds, args.null_only, log)
    clips = [
        real_clip("penguins_ai_1080p.mp4", seconds, 24, "AI-generated, moving camera"),
        real_clip("crowd_720p.avi", seconds, 50, "static camera, static background"),
        pan_clip("astronaut", seconds),
    ]
    if not args.quick:
        clips += [
            pan_clip("coffee", seconds, zoom=1.15),
            real_clip("penguins_ai_1080p.mp4", seconds, 24, "later segment", start=150),
        ]
    log(f"clips: {', '.join(f'{c.name} ({len(c.frames)} frames @ {c.fps:g} fps)' for c in clips)}")

    log("robustness")
    rows, qualities = run_robustness(scheme, clips, None, ATTACKS, log)
    images(clips[2], scheme)
    images(clips[0], scheme)

    log("strength curve")
    curve = strength_curve(scheme, clips[0], [0.8, 1.1, 1.4, 2.0, 2.8] if not args.quick else [0.8, 1.4, 2.0], log)

    log("false positives")
    null_clips = clips + (
        [pan_clip("chelsea", seconds), pan_clip("rocket", seconds)]
        if not args.quick
        else [pan_clip("chelsea", seconds)]
    )
    null = null_study(scheme, null_clips, keys=6 if args.quick else 30, log=log)

    log("speed")
    speed = timing(scheme, log)

    anchors = []
    if not args.skip_anchors:
        log("anchors")
        anchors = run_anchors(clips[0], frames_riva=4 if args.quick else 8, log=log)

    plots(null, curve, rows)
    report = markdown(setup, qualities, rows, null, speed, anchors, curve)
    (OUT / "results.md").write_text(report, encoding="utf-8")
    summary = summary_table(qualities, rows, null, speed, args.quick)
    update_summary(summary)
    serialisable = {
        "setup": setup,
        "quality": qualities,
        "rows": [r.__dict__ for r in rows],
        "speed": speed,
        "anchors": anchors,
        "curve": curve,
        "null": {k: v for k, v in null.items() if k not in ("per_shift", "z_aligned", "z_search", "p_values")},
    }
    (OUT / "results.json").write_text(json.dumps(serialisable, indent=1, default=float), encoding="utf-8")
    print("\n" + summary)
    log(f"wrote {OUT / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
