"""Does a generated clip show what its caption asked? Plain image analysis, no learned judge.

Per clip: the background is the median colour of the frame borders; the object is every pixel far
from it; its colour is their median; its motion is the straight-line fit of its centroid over the
frames; its shape is how much of its bounding box it fills. Colours are named by the nearest
palette entry. Seen combinations come from the training split, unseen ones from the held-out split.

    python -m generator.embedded.evaluate [--checkpoint PATH] [--per-split 48]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from generator.embedded import data

__all__ = ["ClipAnalysis", "analyse_clip", "EvalReport", "evaluate", "eval_scenes"]

_NAMES = list(data.COLOURS)
_PALETTE = np.array([data.COLOURS[c] for c in _NAMES], np.float32)
_FILL = {"circle": np.pi / 4, "square": 1.0, "triangle": 0.5}


@dataclass(frozen=True)
class ClipAnalysis:
    bg: str
    fg: str | None
    motion: str | None
    shape: str | None

    def score(self, scene: data.Scene) -> dict[str, bool]:
        return {
            "fg": self.fg == scene.fg,
            "bg": self.bg == scene.bg,
            "motion": self.motion == scene.motion,
            "shape": self.shape == scene.shape,
        }


def _name(rgb: np.ndarray) -> str:
    return _NAMES[int(np.argmin(((_PALETTE - rgb) ** 2).sum(-1)))]


def analyse_clip(clip: np.ndarray, *, min_pixels: int = 6, min_travel: float = 3.0) -> ClipAnalysis:
    """`clip`: (F, H, W, 3) uint8 RGB at any size (brought to the native 32x32 first)."""
    if clip.shape[1:3] != (data.SIZE, data.SIZE):
        clip = np.stack([cv2.resize(f, (data.SIZE, data.SIZE), interpolation=cv2.INTER_AREA) for f in clip])
    clip = clip.astype(np.float32)
    border = np.concatenate(
        [
            clip[:, :2].reshape(-1, 3),
            clip[:, -2:].reshape(-1, 3),
            clip[:, :, :2].reshape(-1, 3),
            clip[:, :, -2:].reshape(-1, 3),
        ]
    )
    bg_rgb = np.median(border, axis=0)
    mask = np.sqrt(((clip - bg_rgb) ** 2).sum(-1)) > 80.0  # (F, H, W)
    counts = mask.sum((1, 2))
    present = counts >= min_pixels
    if present.sum() < 2:
        return ClipAnalysis(_name(bg_rgb), None, None, None)
    fg = _name(np.median(clip[mask], axis=0))
    ys, xs = np.mgrid[0 : data.SIZE, 0 : data.SIZE]
    frames = np.flatnonzero(present)
    cx = np.array([xs[mask[f]].mean() for f in frames])
    cy = np.array([ys[mask[f]].mean() for f in frames])
    span = frames[-1] - frames[0]
    vx, vy = np.polyfit(frames, cx, 1)[0] * span, np.polyfit(frames, cy, 1)[0] * span
    motion = None
    if max(abs(vx), abs(vy)) >= min_travel:
        motion = ("right" if vx > 0 else "left") if abs(vx) >= abs(vy) else ("down" if vy > 0 else "up")
    f = frames[np.argmin(np.abs(counts[frames] - np.median(counts[frames])))]
    rows, cols = np.flatnonzero(mask[f].any(1)), np.flatnonzero(mask[f].any(0))
    fill = counts[f] / ((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1))
    shape = min(_FILL, key=lambda s: abs(_FILL[s] - fill))
    return ClipAnalysis(_name(bg_rgb), fg, motion, shape)


def eval_scenes(per_split: int = 48, seed: int = 0) -> tuple[list[data.Scene], list[data.Scene]]:
    """A fixed sample of seen (training) combinations and of unseen (held-out) ones."""
    rng = np.random.default_rng(seed)
    seen, unseen = data.train_scenes(), data.heldout_scenes()

    def pick(xs: list[data.Scene]) -> list[data.Scene]:
        return [xs[i] for i in sorted(rng.choice(len(xs), min(per_split, len(xs)), replace=False))]

    return pick(seen), pick(unseen)


@dataclass(frozen=True)
class EvalReport:
    seen: dict[str, float]
    unseen: dict[str, float]
    n_seen: int
    n_unseen: int
    steps: int
    guidance: float
    rows: list[dict]

    def to_dict(self) -> dict:
        return asdict(self)


def _accuracy(rows: list[dict]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 3) for k in ("fg", "bg", "motion", "shape")} if rows else {}


def evaluate(
    pipe,
    *,
    per_split: int = 48,
    steps: int = 20,
    guidance: float = 3.0,
    batch: int = 16,
    seed: int = 0,
    keep_clips: bool = False,
) -> tuple[EvalReport, list[np.ndarray]]:
    """Generate one clip per caption at the native size and score it. `pipe`: ShapesVideoPipeline."""
    seen, unseen = eval_scenes(per_split, seed)
    scenes = [(s, "seen") for s in seen] + [(s, "unseen") for s in unseen]
    rows, clips = [], []
    for i in range(0, len(scenes), batch):
        chunk = scenes[i : i + batch]
        g = torch.Generator("cpu").manual_seed(seed + i)
        out = pipe(
            [s.caption() for s, _ in chunk],
            height=data.SIZE,
            width=data.SIZE,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=g,
        ).frames
        for (scene, split), clip in zip(chunk, out, strict=True):
            clip = (np.clip(clip, 0, 1) * 255).round().astype(np.uint8)
            a = analyse_clip(clip)
            rows.append(
                dict(
                    caption=scene.caption(),
                    split=split,
                    **a.score(scene),
                    got=dict(fg=a.fg, bg=a.bg, motion=a.motion, shape=a.shape),
                )
            )
            if keep_clips:
                clips.append(clip)
    report = EvalReport(
        _accuracy([r for r in rows if r["split"] == "seen"]),
        _accuracy([r for r in rows if r["split"] == "unseen"]),
        len(seen),
        len(unseen),
        steps,
        guidance,
        rows,
    )
    return report, clips


def pipeline_from_checkpoint(path: Path | None):
    """The ShapesVideoPipeline with EMA weights from a training checkpoint (None: embedded folder)."""
    from generator.loading import default_model_path, load_pipeline

    pipe = load_pipeline(default_model_path()).pipeline
    if path is not None:
        state = torch.load(path, map_location="cpu", weights_only=False)["ema"]
        if state["conv_in.weight"].shape != pipe.unet.conv_in.weight.shape:  # trained with the current layout
            from diffusers import UNet2DConditionModel

            from generator.embedded.model import unet_config
            from generator.embedded.pipeline import ShapesVideoPipeline

            pipe = ShapesVideoPipeline(
                UNet2DConditionModel(**unet_config()), pipe.scheduler, pipe.tokenizer, pipe.text_encoder
            )
        pipe.unet.load_state_dict(state)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Evaluate the embedded model on seen and unseen captions.")
    p.add_argument("--checkpoint", type=Path, default=None)
    p.add_argument("--per-split", type=int, default=48)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=3.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    report, _ = evaluate(
        pipeline_from_checkpoint(args.checkpoint), per_split=args.per_split, steps=args.steps, guidance=args.guidance
    )
    summary = {
        "checkpoint": str(args.checkpoint),
        "seen": report.seen,
        "unseen": report.unseen,
        "n_seen": report.n_seen,
        "n_unseen": report.n_unseen,
        "steps": args.steps,
        "guidance": args.guidance,
    }
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=1))


if __name__ == "__main__":
    main()
