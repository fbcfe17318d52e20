"""Benchmark and evaluate the generator: real runs on this machine, nothing estimated.

    python benchmarks/bench_generator.py [--quick] [--threads 1] [--out docs/generator]

Measures (1) the embedded model at the delivery size: load time, seconds per denoising step and
per delivered frame, seed reproducibility; (2) tiny random Wan / CogVideoX / LTX / TextToVideoSD
pipelines built offline: save, reload with local_files_only=True, generate; (3) the embedded
model's prompt following on seen and held-out (unseen) caption combinations, scored by the image
analysis in generator.embedded.evaluate, against the random-weights placeholder. Writes
``results.md``, ``eval.json`` and ``contact_sheet.png`` under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

PROMPT = "a red circle moving right on a blue background"


def bench_embedded(steps: int) -> dict:
    from generator import GenerationRequest, load_generator

    t0 = time.perf_counter()
    gen = load_generator(None)
    load_s = time.perf_counter() - t0
    gen(GenerationRequest(PROMPT, steps=1, width=32, height=32), progress=False)  # warm-up
    a = gen(GenerationRequest(PROMPT, seed=0, steps=steps), progress=False)
    b = gen(GenerationRequest(PROMPT, seed=0, steps=steps), progress=False)
    frames = a.record.num_frames
    return dict(load_s=load_s, generate_s=a.elapsed_s, generate_again_s=b.elapsed_s, steps=steps,
                s_per_step=a.elapsed_s / steps, s_per_frame=a.elapsed_s / frames, frames=frames,
                size=f"{a.record.width}x{a.record.height}", fps=a.record.fps, guidance=a.record.guidance,
                reproducible=bool(np.array_equal(a.frames, b.frames)), digest=a.record.weights_digest[:16])


def bench_tiny() -> list[dict]:
    from generator import GenerationRequest, load_generator
    from tests.generator.tiny import BUILDERS

    rows = []
    for name, build in sorted(BUILDERS.items()):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            t0 = time.perf_counter()
            pipe, kwargs = build(tmp)
            pipe.save_pretrained(tmp / "model")
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            gen = load_generator(tmp / "model", local_files_only=True)
            load_s = time.perf_counter() - t0
            a = gen(GenerationRequest("a red circle", seed=0, **kwargs), progress=False)
            b = gen(GenerationRequest("a red circle", seed=0, **kwargs), progress=False)
            size = sum(p.stat().st_size for p in (tmp / "model").rglob("*") if p.is_file())
            rows.append(dict(pipeline=a.record.pipeline_class, disk_mb=size / 1e6, build_save_s=build_s, load_s=load_s,
                             generate_s=a.elapsed_s, shape="x".join(map(str, a.frames.shape[:3])), steps=kwargs["steps"],
                             reproducible=bool(np.array_equal(a.frames, b.frames))))
    return rows


def run_eval(per_split: int, steps: int, guidance: float) -> tuple[dict, dict, list, list]:
    from generator.embedded.evaluate import evaluate, pipeline_from_checkpoint
    from generator.embedded.model import unet_config

    pipe = pipeline_from_checkpoint(None)
    t0 = time.perf_counter()
    report, clips = evaluate(pipe, per_split=per_split, steps=steps, guidance=guidance, keep_clips=True)
    eval_s = time.perf_counter() - t0
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)  # the placeholder: same layout, seeded random weights
    pipe.unet = UNet2DConditionModel(**unet_config()).eval()
    baseline, _ = evaluate(pipe, per_split=max(8, per_split // 3), steps=steps, guidance=guidance)
    return report.to_dict() | {"eval_s": eval_s}, baseline.to_dict(), report.rows, clips


def contact_sheet(rows: list[dict], clips: list[np.ndarray], path: Path, per_split: int = 6) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = [i for i, r in enumerate(rows) if r["split"] == "seen"][:per_split]
    picks += [i for i, r in enumerate(rows) if r["split"] == "unseen"][:per_split]
    cols = [0, 5, 10, 15]
    fig, axes = plt.subplots(len(picks), len(cols), figsize=(len(cols) * 1.6, len(picks) * 1.75))
    for r, i in enumerate(picks):
        row = rows[i]
        ok = "".join(k[0].upper() if row[k] else "-" for k in ("fg", "bg", "motion"))
        for c, f in enumerate(cols):
            ax = axes[r, c]
            ax.imshow(clips[i][f], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_title(f"[{row['split']}] {row['caption'][2:]}  ({ok})", fontsize=6, loc="left")
            ax.set_xlabel(f"frame {f}", fontsize=5)
    fig.suptitle("embedded model at its native 32x32; F/B/M: object colour / background / motion correct", fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def motion_confusion(rows: list[dict]) -> tuple[list[dict], float]:
    """Asked direction x drawn direction over all evaluated clips, and the share on the right axis
    (horizontal vs vertical): tells "ignores the word" from "gets the axis, not the sign"."""
    from generator.embedded.data import MOTIONS

    drawn = [*MOTIONS, None]
    table, axis = [], []
    for want in MOTIONS:
        got = [r["got"]["motion"] for r in rows if f" {want} " in f" {r['caption']} "]
        table.append({"asked": want, **{str(d): got.count(d) for d in drawn}})
        axis += [g is not None and (MOTIONS[g][0] != 0) == (MOTIONS[want][0] != 0) for g in got]
    return table, float(np.mean(axis)) if axis else float("nan")


def _table(rows: list[dict], keys: list[str]) -> str:
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="16 captions per split, 10 steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "generator")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    per_split, eval_steps = (16, 10) if args.quick else (48, 20)
    from generator import describe_model

    info = describe_model(None)
    setup = dict(python=platform.python_version(), torch=torch.__version__, threads=torch.get_num_threads(),
                 cpus=os.cpu_count(), machine=platform.machine(), load_avg=os.getloadavg()[0],
                 model=info.model_id, training=info.training, quick=args.quick)
    print("setup:", json.dumps(setup, default=str), flush=True)

    emb = bench_embedded(steps=20)
    print("embedded:", json.dumps(emb), flush=True)
    tiny = bench_tiny()
    for row in tiny:
        print("tiny:", json.dumps(row), flush=True)
    report, baseline, rows, clips = run_eval(per_split, eval_steps, guidance=3.0)
    print("eval seen:", report["seen"], "unseen:", report["unseen"], "placeholder:", baseline["seen"], flush=True)

    confusion, axis = motion_confusion(rows)
    report["motion_axis"] = axis
    print("motion confusion:", confusion, "axis:", round(axis, 3), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    contact_sheet(rows, clips, args.out / "contact_sheet.png")
    (args.out / "eval.json").write_text(json.dumps(dict(setup=setup, embedded=emb, tiny=tiny, eval=report,
                                                        placeholder=baseline), indent=1, default=str))
    acc = [dict(model="trained" if not (info.training or {}).get("placeholder") else "placeholder",
                split=s, n=report[f"n_{s}"], **report[s]) for s in ("seen", "unseen")]
    acc += [dict(model="random init (baseline)", split=s, n=baseline[f"n_{s}"], **baseline[s]) for s in ("seen", "unseen")]
    md = [
        "# Generator benchmark (written by benchmarks/bench_generator.py)", "",
        f"Setup: `{json.dumps(setup, default=str)}`", "",
        "## Embedded model at the delivery size", "", _table([emb], list(emb)), "",
        "## Tiny random pipelines (offline build, save, reload, generate)", "",
        _table(tiny, list(tiny[0])), "",
        f"## Prompt following ({eval_steps} steps, guidance 3.0; accuracy per attribute)", "",
        _table(acc, ["model", "split", "n", "fg", "bg", "motion", "shape"]), "",
        "Goal: >= 0.9 on fg, bg and motion for seen combinations, >= 0.75 on unseen ones.", "",
        "### Motion: asked direction (rows) x drawn direction (columns), seen + unseen", "",
        _table(confusion, list(confusion[0])), "",
        f"Right axis (horizontal vs vertical) in {axis:.3f} of clips; chance 0.5.", "",
        "![contact sheet](contact_sheet.png)", "",
    ]
    (args.out / "results.md").write_text("\n".join(md))
    print("wrote", args.out / "results.md", flush=True)


if __name__ == "__main__":
    main()
