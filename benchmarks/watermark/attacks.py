"""The watermark attack suite (also reused by the recovery benchmark through ``bench_watermark``)."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.video_io import read_coded_frames, write_video
from detectors.watermark.spread_spectrum import unwrap_frame

Frames = list[np.ndarray]

__all__ = [
    "Attack", "ATTACKS", "ANCHOR_ATTACKS", "encode", "pixels", "resize", "crop_area", "pad", "pixel_map",
    "contrast", "gamma", "noise", "rotate", "retime",
]  # fmt: skip


def encode(frames: Frames, fps: float, *, crf: int, codec: str = "libx264") -> Frames:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.mp4"
        even = [f[: f.shape[0] // 2 * 2, : f.shape[1] // 2 * 2] for f in frames]
        write_video(path, even, fps=fps, codec=codec, crf=crf, preset="veryfast")
        return list(read_coded_frames(path))  # with picture types, as a detector reading a file gets them


def pixels(frames: Frames) -> list[np.ndarray]:
    """The RGB arrays of decoded frames (picture types dropped), for code that wants arrays."""
    return [unwrap_frame(f)[0] for f in frames]


def resize(frames: Frames, factor: float) -> Frames:
    h, w = frames[0].shape[:2]
    size = (int(w * factor) // 2 * 2, int(h * factor) // 2 * 2)
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]


def crop_area(frames: Frames, area: float, rng: np.random.Generator) -> Frames:
    h, w = frames[0].shape[:2]
    side = math.sqrt(area)
    ch, cw = int(h * side) // 2 * 2, int(w * side) // 2 * 2
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return [f[y : y + ch, x : x + cw] for f in frames]


def pad(frames: Frames, top: int, left: int) -> Frames:
    return [cv2.copyMakeBorder(f, top, top, left, left, cv2.BORDER_CONSTANT, value=(0, 0, 0)) for f in frames]


def pixel_map(frames: Frames, fn: Callable[[np.ndarray], np.ndarray]) -> Frames:
    return [np.clip(fn(f.astype(np.float32)), 0, 255).astype(np.uint8) for f in frames]


def contrast(frames: Frames, c: float) -> Frames:
    return pixel_map(frames, lambda f: (f - f.mean()) * c + f.mean())


def gamma(frames: Frames, g: float) -> Frames:
    lut = np.clip(255.0 * (np.arange(256) / 255.0) ** g, 0, 255).astype(np.uint8)
    return [cv2.LUT(f, lut) for f in frames]


def noise(frames: Frames, sigma: float, rng: np.random.Generator) -> Frames:
    return pixel_map(frames, lambda f: f + rng.normal(0, sigma, f.shape).astype(np.float32))


def rotate(frames: Frames, degrees: float) -> Frames:
    h, w = frames[0].shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
    return [cv2.warpAffine(f, matrix, (w, h), flags=cv2.INTER_LINEAR) for f in frames]


def retime(frames: Frames, fps_in: float, fps_out: float) -> Frames:
    n = int(len(frames) * fps_out / fps_in)
    return [frames[min(int(i * fps_in / fps_out), len(frames) - 1)] for i in range(n)]


@dataclass(frozen=True)
class Attack:
    name: str
    apply: Callable[[Frames, float, np.random.Generator], Frames]
    geometric: bool = False


ATTACKS = [
    Attack("none", lambda f, fps, r: f),
    Attack("H.264 CRF 23", lambda f, fps, r: encode(f, fps, crf=23)),
    Attack("H.264 CRF 28", lambda f, fps, r: encode(f, fps, crf=28)),
    Attack("H.264 CRF 35", lambda f, fps, r: encode(f, fps, crf=35)),
    Attack("H.265 CRF 28", lambda f, fps, r: encode(f, fps, crf=28, codec="libx265")),
    Attack("downscale 50%", lambda f, fps, r: resize(f, 0.5)),
    Attack("downscale 50% + H.264 CRF 28", lambda f, fps, r: encode(resize(f, 0.5), fps, crf=28)),
    Attack("crop 70% area + H.264 CRF 28", lambda f, fps, r: encode(crop_area(f, 0.7, r), fps, crf=28), True),
    Attack("letterbox (to 4:3)", lambda f, fps, r: pad(f, f[0].shape[0] // 6, 0), True),
    Attack("pillarbox (to 2.2:1)", lambda f, fps, r: pad(f, 0, f[0].shape[1] // 8), True),
    Attack("brightness +20%", lambda f, fps, r: pixel_map(f, lambda x: x * 1.2)),
    Attack("brightness -20%", lambda f, fps, r: pixel_map(f, lambda x: x * 0.8)),
    Attack("contrast 0.7", lambda f, fps, r: contrast(f, 0.7)),
    Attack("contrast 1.3", lambda f, fps, r: contrast(f, 1.3)),
    Attack("gamma 0.67", lambda f, fps, r: gamma(f, 0.67)),
    Attack("gamma 1.5", lambda f, fps, r: gamma(f, 1.5)),
    Attack("gaussian noise s=5", lambda f, fps, r: noise(f, 5, r)),
    Attack("gaussian noise s=10", lambda f, fps, r: noise(f, 10, r)),
    Attack("blur (gaussian s=1.5 px)", lambda f, fps, r: [cv2.GaussianBlur(x, (0, 0), 1.5) for x in f]),
    Attack("24->30 fps", lambda f, fps, r: retime(f, fps, fps * 30 / 24)),
    Attack("10% frame drops", lambda f, fps, r: [x for x in f if r.random() >= 0.1]),
    Attack("rotation +2 deg", lambda f, fps, r: rotate(f, 2.0), True),
    Attack("rotation -2 deg", lambda f, fps, r: rotate(f, -2.0), True),
    Attack("horizontal flip", lambda f, fps, r: [np.ascontiguousarray(x[:, ::-1]) for x in f], True),
    Attack("1 s temporal crop", lambda f, fps, r: f[int(fps * 0.5) : int(fps * 0.5) + int(fps)]),
]
ANCHOR_ATTACKS = ("none", "H.264 CRF 23", "H.264 CRF 28", "downscale 50% + H.264 CRF 28")


def attack_named(name: str) -> Attack:
    return next(a for a in ATTACKS if a.name == name)
