"""Shared helpers for the watermark tests: synthetic panning clips and real transcodes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from detectors.video_io import read_frames, write_video

CLIPS = Path(__file__).resolve().parents[3] / "shared" / "clips"
KEY = bytes(range(32))
PAYLOAD = bytes.fromhex("5eed0fc0ffee1234")


def panning_clip(seed: int, frames: int = 16, height: int = 512, width: int = 512, step: int = 3) -> np.ndarray:
    """A (F, H, W, 3) uint8 clip: a camera pan across a random multi-scale texture."""
    rng = np.random.default_rng(seed)
    big_h, big_w = height + step * frames + 8, width + step * frames + 8
    texture = np.zeros((big_h, big_w), np.float32)
    for cell, weight in ((64, 60.0), (16, 25.0), (4, 10.0)):
        coarse = rng.normal(size=(big_h // cell + 2, big_w // cell + 2)).astype(np.float32)
        texture += weight * cv2.resize(coarse, (big_w, big_h), interpolation=cv2.INTER_CUBIC)
    texture = np.clip(texture + 128.0, 0, 255)
    tint = np.array([1.0, 0.95, 0.85], np.float32)
    clip = np.empty((frames, height, width, 3), np.uint8)
    for index in range(frames):
        window = texture[index * step : index * step + height, index * step : index * step + width]
        clip[index] = np.clip(window[:, :, None] * tint, 0, 255).astype(np.uint8)
    return clip


def transcode(
    frames,
    tmp_path: Path,
    *,
    fps: float = 24,
    crf: int = 23,
    codec: str = "libx264",
    size: tuple[int, int] | None = None,
) -> list[np.ndarray]:
    """Encode (after an optional INTER_AREA resize to ``size`` = (w, h)) and decode back."""
    if size is not None:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    path = tmp_path / f"t_{codec}_{crf}.mp4"
    write_video(path, frames, fps=fps, codec=codec, crf=crf, preset="veryfast")
    return list(read_frames(path))


def real_clip(name: str, frames: int, size: tuple[int, int] | None = (1280, 720)) -> list[np.ndarray]:
    out = []
    for frame in read_frames(CLIPS / name, max_frames=frames):
        if size is not None and frame.shape[1::-1] != size:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        out.append(frame)
    return out
