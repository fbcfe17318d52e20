"""The watermark benchmark's clips, key and payload: real clips and pans across scikit-image photos."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from common.media import CLIPS, DOCS, skimage_still

from detectors.video_io import read_frames

__all__ = ["CLIPS", "OUT", "KEY", "PAYLOAD", "SIZE", "FPR", "Frames", "Clip", "real_clip", "pan_clip"]

OUT = DOCS / "watermark"
KEY = bytes.fromhex("7e" * 32)
PAYLOAD = bytes.fromhex("c0ffee0ddba11f00")
SIZE = (1280, 720)
FPR = 1e-6

Frames = list[np.ndarray]


@dataclass
class Clip:
    name: str
    frames: Frames
    fps: float
    note: str


def real_clip(name: str, seconds: float, fps: float, note: str, start: int = 0) -> Clip:
    frames = []
    for index, frame in enumerate(read_frames(CLIPS / name, max_frames=start + int(seconds * fps))):
        if index >= start:
            resized = frame.shape[1::-1] != SIZE
            frames.append(cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA) if resized else frame)
    return Clip(name.split(".")[0] + (f"@{start}" if start else ""), frames, fps, note)


def pan_clip(image_name: str, seconds: float, fps: float = 24.0, zoom: float = 1.0) -> Clip:
    """A slow camera pan (and optional zoom) across a scikit-image photo, rendered at 1280x720."""
    image = skimage_still(image_name)
    big = cv2.resize(
        image,
        (int(SIZE[0] * 1.35), int(SIZE[0] * 1.35 * image.shape[0] / image.shape[1]) + 1),
        interpolation=cv2.INTER_CUBIC,
    )
    if big.shape[0] < SIZE[1] * 1.2:
        big = cv2.resize(
            big, (int(big.shape[1] * SIZE[1] * 1.25 / big.shape[0]), int(SIZE[1] * 1.25)), interpolation=cv2.INTER_CUBIC
        )
    n = int(seconds * fps)
    frames = []
    for i in range(n):
        t = i / max(n - 1, 1)
        scale = 1.0 + (zoom - 1.0) * t
        w, h = SIZE[0] / scale, SIZE[1] / scale
        x0 = (big.shape[1] - w) * (0.1 + 0.8 * t)
        y0 = (big.shape[0] - h) * (0.3 + 0.4 * t)
        matrix = np.array([[1 / scale, 0, x0], [0, 1 / scale, y0]], np.float64)
        frames.append(cv2.warpAffine(big, matrix, SIZE, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP))
    return Clip(f"pan-{image_name}", frames, fps, f"pan across skimage.data.{image_name}")
