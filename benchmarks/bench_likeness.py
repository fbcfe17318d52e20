"""Likeness guard benchmark -> docs/likeness.md + docs/likeness/*.png (+ results.json).

1. Face verification on the labelled photos of ../shared/faces: same- vs different-person pairs,
   miss and false-match rates at the threshold in use, a distance histogram and an ROC curve.
2. Clip-level recall of enrolled people in 720p pan/zoom clips rendered from their OTHER photos
   and in real videos (lp_d12 / lp_d19: photo enrolled, video scanned), clean and after 360p,
   H.264 CRF 28, mirror, crop and 360p+CRF 28+mirror; false matches per clip on clips of people
   not enrolled and on videos of other people.
3. Speed of the guard on one core: a 5 s 720p clip with an enrolled face, through the flow.

Splits (identity-disjoint): benchmarks/likeness/split_dev.json chooses the threshold, the frames
that must agree and the sampling interval; benchmarks/likeness/split_heldout.json is reported at
the settings the product ships (``Settings`` defaults), never used to choose them.

    python benchmarks/bench_likeness.py [--quick]     # --quick: clean + combined attack only
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

import machine  # noqa: E402
import numpy as np  # noqa: E402
from likeness import measure  # noqa: E402
from likeness.clips import ATTACKS, render_pan  # noqa: E402

FACES = Path(os.environ.get("REELGUARD_FACES", ROOT.parent / "shared" / "faces"))
DOCS = ROOT / "docs"
OUT = DOCS / "likeness"
GRID = {
    "threshold": (0.40, 0.45, 0.50, 0.55, 0.60),
    "min_frames": (1, 2, 3),
    "interval_s": (0.5, 1.0),
    "skip_confirmed": (False, True),  # the gate's tracking (detectors/faces/clips.py); verify never skips
}


MIN_AGREEMENT = 2  # the issue asks for agreement over several frames: single-frame decisions are not candidates
ALTERNATIVE_INTERVAL_S = 1.0  # reported beside the shipped settings (half the frames examined), never chosen here


def choose_on_dev(names, runs, pairs) -> tuple[dict, list[dict]]:
    """Among configurations that need at least MIN_AGREEMENT frames and have no false-match clip (with
    and without the gate's skipping) and no false-matching photo pair on DEV, the highest DEV recall; ties go to the cheapest sampling
    (the longest interval, then the gate's skipping of confirmed people's faces), then the most frames
    to agree, then the threshold in the middle of the tied range."""
    sweep = []
    for t in GRID["threshold"]:
        for k in GRID["min_frames"]:
            for iv in GRID["interval_s"]:
                for skip in GRID["skip_confirmed"]:
                    r = measure.evaluate(names, runs, threshold=t, min_frames=k, interval_s=iv, skip_confirmed=skip)
                    r["photo_fmr"] = float((pairs["different"] <= t).mean())
                    sweep.append(r)
    # verify uses the same threshold, agreement and sampling without the gate's skipping: a gate
    # configuration is only eligible when the full scan at those settings has no false match either
    full = {(r["threshold"], r["min_frames"], r["interval_s"]): r for r in sweep if not r["skip_confirmed"]}
    ok = [
        r
        for r in sweep
        if r["false_match_clips"] == 0
        and full[(r["threshold"], r["min_frames"], r["interval_s"])]["false_match_clips"] == 0
        and r["photo_fmr"] == 0.0
        and r["min_frames"] >= MIN_AGREEMENT
    ]
    best = max(r["recall"] for r in ok)
    tied = [r for r in ok if r["recall"] == best]
    iv = max(r["interval_s"] for r in tied)
    tied = [r for r in tied if r["interval_s"] == iv]
    skip = max(r["skip_confirmed"] for r in tied)
    tied = [r for r in tied if r["skip_confirmed"] == skip]
    k = max(r["min_frames"] for r in tied)
    tied = sorted((r for r in tied if r["min_frames"] == k), key=lambda r: r["threshold"])
    return tied[len(tied) // 2], sweep


def verification_rates(pairs, threshold: float) -> dict:
    same, diff = pairs["same"], pairs["different"]
    return {
        "threshold": threshold,
        "same_pairs": len(same),
        "different_pairs": len(diff),
        "miss_rate": float((same > threshold).mean()),
        "false_match_rate": float((diff <= threshold).mean()),
        "same_mean": float(same.mean()),
        "same_p95": float(np.percentile(same, 95)),
        "different_mean": float(diff.mean()),
        "different_p5": float(np.percentile(diff, 5)),
        "photos": pairs["photos"],
        "no_face": pairs["no_face"],
    }


def speed(threshold_note: str) -> dict:
    """The guard's cost in a generation: check_likeness on a 5 s 720p clip, one core."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import cv2

    cv2.setNumThreads(1)
    from governance.core.settings import get_settings
    from governance.flows import FlowContext
    from governance.flows.likeness import check_likeness, enroll_person, scan_clip

    def gate(ctx, frames):  # the generation gate: check_likeness, as generate calls it
        return check_likeness(ctx, frames, fps=24.0).scan

    def full(ctx, frames):
        return scan_clip(ctx, frames, fps=24.0, audit=False, only_if_enrolled=True)

    heldout = measure.load_split(HERE / "likeness" / "split_heldout.json")
    person = "kit_harington"
    entry = heldout.enrolled[person]
    pan = render_pan(FACES / entry["probe"][0], seconds=2.5)  # 60 frames; played forth and back: 5 s at 24 fps
    blank_frame = np.repeat(np.linspace(0, 255, 1280, dtype=np.uint8)[None, :, None], 720, axis=0).repeat(3, axis=2)

    def face_clip():
        return (frame for frames in (pan, pan[::-1]) for frame in frames)

    def blank_clip():
        return (blank_frame for _ in range(120))

    results: dict[str, object] = {}
    for interval, suffix in ((None, ""), (ALTERNATIVE_INTERVAL_S, f", every {ALTERNATIVE_INTERVAL_S} s")):
        overrides = {} if interval is None else {"likeness_sample_interval_s": interval}
        with tempfile.TemporaryDirectory() as tmp:
            settings = get_settings(home=Path(tmp) / "home", timestamp=False, **overrides)
            ctx = FlowContext(settings, semantic_policy=False)
            enroll_person(ctx, "kit-harington", [FACES / p for p in entry["enrol"]])
            ctx.consent.grant(person_id="kit-harington", granted_by="bench")
            check_likeness(ctx, pan[:24], fps=24.0)  # warm: model load and first allocation
            runs = [("face", face_clip, gate), ("no face", blank_clip, gate)]
            if interval is None:  # what verify and scan_clip pay: every sampled face described
                runs.append(("face, full scan (verify)", face_clip, full))
            for label, clip, guard in runs:
                walls, cpus = [], []
                for _ in range(3):
                    wall, cpu = time.perf_counter(), time.process_time()
                    scan = guard(ctx, clip())
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                frames, sampled = scan.frames_seen, scan.frames_sampled
                results[label + suffix] = {
                    # wall time on a shared, loaded machine, and the CPU time the one core spent: what an
                    # idle core would take for this single-threaded work
                    "seconds": min(walls),
                    "cpu_seconds": min(cpus),
                    "frames": frames,
                    "sampled": sampled,
                    "clip_fps": frames / min(cpus),
                    "ms_per_sample": 1000 * min(cpus) / sampled,
                    "present": [m.person_id for m in scan.matches],
                    "faces_described": len(scan.faces),
                }
            ctx.close()
    results["note"] = threshold_note
    return results


def plots(pairs_by_split: dict, threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (name, pairs) in zip(axes, pairs_by_split.items(), strict=True):
        bins = np.linspace(0, 1.3, 53)
        ax.hist(pairs["same"], bins=bins, alpha=0.7, label=f"same person ({len(pairs['same'])})", color="tab:green")
        ax.hist(
            pairs["different"],
            bins=bins,
            alpha=0.6,
            label=f"different people ({len(pairs['different'])})",
            color="tab:red",
        )
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold}")
        ax.set_title(f"{name}: photo-pair descriptor distances")
        ax.set_xlabel("Euclidean distance (dlib ResNet 128-d)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "distances.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, pairs in pairs_by_split.items():
        ts = np.linspace(0, 1.3, 261)
        fmr = [(pairs["different"] <= t).mean() for t in ts]
        tpr = [(pairs["same"] <= t).mean() for t in ts]
        ax.plot(fmr, tpr, label=name)
        ax.scatter([(pairs["different"] <= threshold).mean()], [(pairs["same"] <= threshold).mean()], marker="o")
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set_xlabel("false-match rate (different-person pairs)")
    ax.set_ylabel("match rate (same-person pairs)")
    ax.set_title(f"ROC, photo pairs (dots: threshold {threshold})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "roc.png", dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the clean clips and the combined attack")
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the measured distances here and reuse them (they do not "
        "depend on the settings; delete the folder when the model, clips or splits change)",
    )
    args = parser.parse_args()
    if not FACES.is_dir():
        print(f"skipped: {FACES} is missing (the labelled faces live in ../shared/faces)")
        return 0
    from detectors.faces import DlibEmbedder
    from governance.core.settings import Settings
    from governance.flows.likeness import GATE_SKIPS_CONFIRMED

    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()
    embedder = DlibEmbedder()
    attacks = ["none", "360p+crf28+mirror"] if args.quick else list(ATTACKS)
    splits = {name: measure.load_split(HERE / "likeness" / f"split_{name}.json") for name in ("dev", "heldout")}
    cached = args.cache / f"measured-{'quick' if args.quick else 'full'}.pickle" if args.cache else None
    measured_s: float | None = None  # how long measuring the distances took (None: not known)
    reused = cached is not None and cached.is_file()
    if cached is not None and reused:
        pairs, scanned = pickle.loads(cached.read_bytes())
        timing = cached.with_suffix(".seconds")
        measured_s = float(timing.read_text()) if timing.is_file() else None
        print(f"reusing the distances measured in {cached}")
    else:
        pairs = {name: measure.photo_pairs(s, FACES, embedder) for name, s in splits.items()}
        scanned = {name: measure.scan_clips(s, FACES, embedder, attacks) for name, s in splits.items()}
        measured_s = time.perf_counter() - started
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps((pairs, scanned)))
            cached.with_suffix(".seconds").write_text(f"{measured_s:.1f}\n")

    chosen, sweep = choose_on_dev(*scanned["dev"], pairs["dev"])
    fields = Settings.model_fields  # the defaults the product ships, whatever this shell's environment says
    config = {
        "threshold": fields["likeness_threshold"].default,
        "min_frames": fields["likeness_min_frames"].default,
        "interval_s": fields["likeness_sample_interval_s"].default,
        "skip_confirmed": GATE_SKIPS_CONFIRMED,
    }
    results = {
        "dev_choice": {k: chosen[k] for k in ("threshold", "min_frames", "interval_s", "skip_confirmed")},
        "shipped": config,
        "clips": {name: measure.evaluate(*scanned[name], **config) for name in splits},
        # verify and scan_clip describe every face: the same settings without the gate's skipping
        "clips_full_scan": {
            name: measure.evaluate(*scanned[name], **{**config, "skip_confirmed": False}) for name in splits
        },
        "heldout_by_threshold": [
            measure.evaluate(*scanned["heldout"], **{**config, "threshold": t}) for t in GRID["threshold"]
        ],
        "dev_by_threshold": [
            measure.evaluate(*scanned["dev"], **{**config, "threshold": t}) for t in GRID["threshold"]
        ],
        "alternative": {
            name: measure.evaluate(*scanned[name], **{**config, "interval_s": ALTERNATIVE_INTERVAL_S})
            for name in splits
        },
        "verification": {name: verification_rates(pairs[name], config["threshold"]) for name in splits},
        "sweep_dev": [
            {
                k: r[k]
                for k in (
                    "threshold",
                    "min_frames",
                    "interval_s",
                    "skip_confirmed",
                    "recall",
                    "false_match_clips",
                    "photo_fmr",
                )
            }
            for r in sweep
        ],
        "attacks": attacks,
        "splits": {
            name: {
                "photo_people": len(s.enrolled),
                "probe_photos": sum(len(e["probe"]) for e in s.enrolled.values()),
                "video_people": len(s.video_people),
                "impostors": len(s.impostors),
                "negative_videos": len(s.negative_videos),
            }
            for name, s in splits.items()
        },
    }
    plots({"DEV": pairs["dev"], "HELD-OUT": pairs["heldout"]}, config["threshold"])
    results["speed"] = speed("one core (sched_setaffinity), cv2 one thread; check_likeness through the flow")
    results["machine"] = {
        "cpu": machine.cpu_model(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "seconds": time.perf_counter() - started,
        "distances_cached": reused,
        "measure_seconds": measured_s,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    from likeness.report import write_report

    write_report(results, DOCS / "likeness.md")
    print(f"wrote {DOCS / 'likeness.md'} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
