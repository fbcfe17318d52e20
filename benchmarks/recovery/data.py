"""The clips and attacks of the recovery benchmark (issue 21).

Clips of OURS (registered as generated outputs, watermarked) and UNRELATED clips (never
registered, never marked with our key) are disjoint sources. Nothing here was tuned on: the
watermark's thresholds come from its calibration, the fingerprint decision rules are the
registry's production ``MatchConfig`` (min_frames 2, min_coverage 0.25).
The watermark suite's attacks are reused from ``bench_watermark`` (one definition), plus the
attacks the issue names.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import bench_watermark as bw  # noqa: E402  (benchmarks/bench_watermark.py: clips and attack suite)

Frames = list[np.ndarray]


Clip = bw.Clip  # one clip type for the watermark and recovery benchmarks


def ours(quick: bool) -> list[Clip]:
    """Clips we 'generated': real AI footage, a pan, and the embedded model's own outputs."""
    seconds = 2.0
    clips = [
        _wrap(bw.real_clip("penguins_ai_1080p.mp4", seconds, 24, "AI-generated, moving camera")),
        _wrap(bw.real_clip("crowd_720p.avi", seconds, 50, "static camera")),
        _wrap(bw.pan_clip("astronaut", seconds)),
    ]
    if not quick:
        clips.append(_wrap(bw.real_clip("penguins_ai_1080p.mp4", seconds, 24, "later segment", start=150)))
    clips += embedded(
        ["a red circle moving right on a blue background", "a yellow square bouncing on green"], seeds=[1, 2]
    )
    return clips


def unrelated(quick: bool) -> list[Clip]:
    """Never registered: other photos panned, other prompts of the same model (hard negatives:
    same style, same palette), and a later, non-overlapping stretch of the crowd footage."""
    clips = [_wrap(bw.pan_clip("coffee", 2.0, zoom=1.15)), _wrap(bw.pan_clip("chelsea", 2.0))]
    if not quick:
        clips.append(_wrap(bw.pan_clip("rocket", 2.0)))
    clips += embedded(
        ["a blue triangle moving left on a red background", "a green circle growing on black"], seeds=[5, 6]
    )
    return clips


def _wrap(clip) -> Clip:
    return Clip(clip.name, clip.frames, clip.fps, clip.note)


_GENERATOR = None


def generator():
    global _GENERATOR
    if _GENERATOR is None:
        from generator import load_generator

        _GENERATOR = load_generator()
    return _GENERATOR


def embedded(prompts: list[str], seeds: list[int]) -> list[Clip]:
    from generator import GenerationRequest

    out = []
    for prompt, seed in zip(prompts, seeds, strict=True):
        result = generator()(GenerationRequest(prompt, seed=seed, width=256, height=256), progress=False)
        out.append(Clip(f"gen-{seed}", list(result.frames), float(result.record.fps), f"embedded model: {prompt!r}"))
    return out


def regenerate(frames: Frames, strength: float) -> Frames:
    """The regeneration attack: the clip re-noised to ``strength`` and denoised by the embedded
    diffusion model (SDEdit, the published attack on pixel watermarks), at the clip's size."""
    from generator import GenerationRequest

    h, w = frames[0].shape[:2]
    gen = generator()
    n = gen.plan(GenerationRequest("a video", width=256, height=256)).num_frames
    pick = np.linspace(0, len(frames) - 1, n).round().astype(int)
    video = np.stack([frames[i] for i in pick])
    result = gen(
        GenerationRequest("a video", seed=0, video=video, strength=strength, width=w // 8 * 8, height=h // 8 * 8),
        progress=False,
    )
    return list(result.frames)


def renoise_denoise(frames: Frames, sigma: float, rng: np.random.Generator) -> Frames:
    """A regeneration proxy that keeps the content: Gaussian noise of ``sigma`` levels, then a
    non-local-means denoise (h = sigma) at half size, scaled back: the noise-then-denoise of the
    published regeneration attacks, with a classical denoiser in the diffusion model's place."""
    out = []
    for frame in frames:
        h, w = frame.shape[:2]
        small = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA).astype(np.float32)
        noisy = np.clip(small + rng.normal(0, sigma / 2, small.shape), 0, 255).astype(np.uint8)  # /2: the
        # half-size average already removed three quarters of full-size noise power
        clean = cv2.fastNlMeansDenoisingColored(noisy, None, sigma / 2, sigma / 2, 5, 15)
        out.append(cv2.resize(clean, (w, h), interpolation=cv2.INTER_CUBIC))
    return out


def content_psnr(original: Frames, attacked: Frames) -> float:
    """PSNR of the attacked clip against the original (frames matched by position in time,
    sizes matched by resizing the attacked frame): how much of the content survives."""
    pick = np.linspace(0, len(original) - 1, len(attacked)).round().astype(int)
    errors = []
    for i, frame in zip(pick, attacked, strict=True):
        ref = original[i]
        got = cv2.resize(frame, ref.shape[1::-1], interpolation=cv2.INTER_AREA) if frame.shape != ref.shape else frame
        errors.append(np.mean((got.astype(np.float64) - ref) ** 2))
    mse = float(np.mean(errors))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def squeeze_letterbox(frames: Frames, factor: float = 0.75) -> Frames:
    """16:9 scaled to ``factor`` of its height and centred on black bars (same frame size)."""
    out = []
    for frame in frames:
        h, w = frame.shape[:2]
        rows = int(round(h * factor / 2)) * 2
        canvas = np.zeros_like(frame)
        top = (h - rows) // 2
        canvas[top : top + rows] = cv2.resize(frame, (w, rows), interpolation=cv2.INTER_AREA)
        out.append(canvas)
    return out


def centre_crop(frames: Frames, area: float) -> Frames:
    h, w = frames[0].shape[:2]
    side = math.sqrt(area)
    ch, cw = int(h * side) // 2 * 2, int(w * side) // 2 * 2
    y, x = (h - ch) // 2, (w - cw) // 2
    return [np.ascontiguousarray(f[y : y + ch, x : x + cw]) for f in frames]


@dataclass(frozen=True)
class Attack:
    name: str
    apply: Callable[[Frames, float, np.random.Generator], Frames]
    new: bool = False  # added for issue 21 (not in the watermark's suite)


def attacks(quick: bool) -> list[Attack]:
    suite = [Attack(a.name, a.apply) for a in bw.ATTACKS]
    if quick:
        keep = {
            "none",
            "H.264 CRF 28",
            "downscale 50% + H.264 CRF 28",
            "crop 70% area + H.264 CRF 28",
            "horizontal flip",
            "rotation +2 deg",
        }
        suite = [a for a in suite if a.name in keep]
    enc = bw.encode
    new = [
        Attack(
            "aspect squeeze 75% + letterbox + H.264 CRF 23",
            lambda f, fps, r: enc(squeeze_letterbox(bw.pixels(f)), fps, crf=23),
            True,
        ),
        Attack("rotation 5 deg", lambda f, fps, r: bw.rotate(f, 5.0), True),
        Attack("rotation 10 deg", lambda f, fps, r: bw.rotate(f, 10.0), True),
        Attack("centre crop 25% area + H.264 CRF 23", lambda f, fps, r: enc(centre_crop(f, 0.25), fps, crf=23), True),
        Attack(
            "speed x1.25 (frames dropped) + H.264 CRF 23",
            lambda f, fps, r: enc(bw.retime(f, fps * 1.25, fps), fps, crf=23),
            True,
        ),
        Attack("re-noise s=8 + NL-means denoise", lambda f, fps, r: renoise_denoise(bw.pixels(f), 8.0, r), True),
        Attack("re-noise s=20 + NL-means denoise", lambda f, fps, r: renoise_denoise(bw.pixels(f), 20.0, r), True),
        Attack("regeneration (embedded model, strength 0.3)", lambda f, fps, r: regenerate(bw.pixels(f), 0.3), True),
        Attack("regeneration (embedded model, strength 0.6)", lambda f, fps, r: regenerate(bw.pixels(f), 0.6), True),
    ]
    return suite + new


NEGATIVE_ATTACKS = (
    "none",
    "H.264 CRF 28",
    "centre crop 25% area + H.264 CRF 23",
    "rotation 10 deg",
    "regeneration (embedded model, strength 0.6)",
)
