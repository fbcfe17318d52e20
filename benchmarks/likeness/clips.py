"""Clips for the likeness benchmark: pan/zoom clips rendered from a still, and the attacks
(360p, H.264 CRF 28, mirror, crop) applied to those and to real videos. Benchmark fixtures:
never part of the product packages."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from detectors.video_io import VideoWriter, read_frames, read_image

__all__ = ["render_pan", "read_video", "ATTACKS", "attack"]

W, H = 1280, 720


def render_pan(photo: Path, *, seconds: float = 2.0, fps: float = 24.0, max_pixels: int = 50_000_000) -> np.ndarray:
    """A 720p clip of ``photo``: fitted to the frame height, zooming 1.0 -> 1.2 while panning
    sideways, on a dark background. (F, 720, 1280, 3) uint8 RGB."""
    image = read_image(photo, max_pixels=max_pixels)
    n = int(round(seconds * fps))
    h, w = image.shape[:2]
    frames = np.empty((n, H, W, 3), np.uint8)
    for k in range(n):
        t = k / max(1, n - 1)
        zoom = 1.0 + 0.2 * t
        scale = H * zoom / h
        nw, nh = max(1, int(w * scale)), max(1, int(h * scale))
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        canvas = np.full((H, W, 3), 24, np.uint8)
        # the photo's centre drifts from 45 % to 55 % of the width; vertical centre fixed
        cx, cy = int(W * (0.45 + 0.1 * t)), H // 2
        x0, y0 = cx - nw // 2, cy - nh // 2
        sx0, sy0 = max(0, -x0), max(0, -y0)
        dx0, dy0 = max(0, x0), max(0, y0)
        cw, ch = min(nw - sx0, W - dx0), min(nh - sy0, H - dy0)
        canvas[dy0 : dy0 + ch, dx0 : dx0 + cw] = resized[sy0 : sy0 + ch, sx0 : sx0 + cw]
        frames[k] = canvas
    return frames


def read_video(path: Path, *, seconds: float = 5.0, start_s: float = 0.0) -> tuple[np.ndarray, float]:
    """``seconds`` of a real video from ``start_s`` on, and its frame rate."""
    from detectors.video_io import probe

    fps = probe(path).fps
    skip, count = int(round(start_s * fps)), int(round(seconds * fps))
    frames = list(read_frames(path, max_frames=skip + count))[skip:]
    return np.stack(frames), fps


def _even(x: int) -> int:
    return max(2, x - x % 2)


def _down360(frames: np.ndarray, fps: float) -> np.ndarray:
    h, w = frames.shape[1:3]
    size = (_even(round(w * 360 / h)), 360)
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def _crf28(frames: np.ndarray, fps: float) -> np.ndarray:
    h, w = frames.shape[1:3]
    frames = frames[:, : _even(h), : _even(w)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        with VideoWriter(path, fps=fps, crf=28) as writer:
            for frame in frames:
                writer.write(frame)
        return np.stack(list(read_frames(path)))


def _mirror(frames: np.ndarray, fps: float) -> np.ndarray:
    return np.ascontiguousarray(frames[:, :, ::-1])


def _crop(frames: np.ndarray, fps: float) -> np.ndarray:
    """The central 75 % of each side (a re-framed upload), kept at its cropped size."""
    h, w = frames.shape[1:3]
    ch, cw = int(h * 0.75), int(w * 0.75)
    y, x = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(frames[:, y : y + ch, x : x + cw])


def _combo(frames: np.ndarray, fps: float) -> np.ndarray:
    return _crf28(_mirror(_down360(frames, fps), fps), fps)


ATTACKS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "none": lambda f, _fps: f,
    "360p": _down360,
    "crf28": _crf28,
    "mirror": _mirror,
    "crop": _crop,
    "360p+crf28+mirror": _combo,
}


def attack(name: str, frames: np.ndarray, fps: float) -> np.ndarray:
    return ATTACKS[name](frames, fps)
