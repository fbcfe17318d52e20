"""The registry benchmark's query suite: 15 transforms of a <= 6 s window of a work, each written
to an H.264 file as an upload would be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from detectors.video_io import write_video
from registry.data import H, W


def _overlay(frame: np.ndarray) -> np.ndarray:
    out = frame.copy()
    h, w = out.shape[:2]
    band = out[int(h * 0.8) :]
    out[int(h * 0.8) :] = (band * 0.35).astype(np.uint8)
    cv2.putText(
        out,
        "BREAKING: protected footage re-upload",
        (int(w * 0.03), int(h * 0.92)),
        cv2.FONT_HERSHEY_SIMPLEX,
        w / 900,
        (255, 255, 255),
        max(1, w // 400),
        cv2.LINE_AA,
    )
    lw, lh = int(w * 0.16), int(h * 0.14)
    x, y = w - lw - int(w * 0.03), int(h * 0.04)
    cv2.rectangle(out, (x, y), (x + lw, y + lh), (230, 40, 40), -1)
    cv2.putText(
        out,
        "LOGO",
        (x + lw // 8, y + int(lh * 0.72)),
        cv2.FONT_HERSHEY_DUPLEX,
        w / 800,
        (255, 255, 255),
        max(1, w // 300),
        cv2.LINE_AA,
    )
    return out


def _bc(frame: np.ndarray, contrast: float = 1.25, brightness: float = 20) -> np.ndarray:
    return cv2.convertScaleAbs(frame, alpha=contrast, beta=brightness - 128 * (contrast - 1))


def _sepia(frame: np.ndarray) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
    return np.clip(frame.astype(np.float32) @ m.T, 0, 255).astype(np.uint8)


def _grey(frame: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def _crop(frame: np.ndarray, keep: float) -> np.ndarray:
    h, w = frame.shape[:2]
    ch, cw = int(h * keep) // 2 * 2, int(w * keep) // 2 * 2
    y, x = (h - ch) // 2, (w - cw) // 2
    return frame[y : y + ch, x : x + cw]


def _pad(frame: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    cw, ch = canvas
    h, w = frame.shape[:2]
    out = np.zeros((ch, cw, 3), np.uint8)
    y, x = (ch - h) // 2, (cw - w) // 2
    out[y : y + h, x : x + w] = frame
    return out


def _background(i: int) -> np.ndarray:
    """An unregistered moving background for picture-in-picture."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = 128 + 100 * np.sin(xx / 60 + i / 10)
    g = 128 + 100 * np.sin(yy / 45 - i / 15)
    b = 128 + 80 * np.sin((xx + yy) / 90 + i / 20)
    return np.stack([r, g, b], axis=2).astype(np.uint8)


def _pip(frame: np.ndarray, i: int) -> np.ndarray:
    out = _background(i)
    small = cv2.resize(frame, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    out[H // 2 - 20 : H - 20, W // 2 - 24 : W - 24] = small
    return out


def _resample(frames: np.ndarray, speed: float) -> np.ndarray:
    idx = np.arange(0, len(frames), speed).astype(int)
    return frames[idx[idx < len(frames)]]


def window(frames: np.ndarray, fps: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * fps)
    if len(frames) <= n:
        return frames
    start = int(rng.integers(0, len(frames) - n))
    return frames[start : start + n]


def _combined(frame: np.ndarray) -> np.ndarray:
    f = _crop(frame, 0.85)
    f = cv2.resize(f, (480, 270), interpolation=cv2.INTER_AREA)
    return _overlay(_bc(f, 1.15, 15))


# name -> (per-frame function | None, whole-clip function | "window3" | None, crf)
FrameFn = Callable[[np.ndarray, int], np.ndarray]
TRANSFORMS: dict[str, tuple[FrameFn | None, Callable[[np.ndarray], np.ndarray] | str | None, int]] = {
    "original": (None, None, 23),
    "h264-crf35": (None, None, 35),
    "downscale-50": (lambda f, i: cv2.resize(f, (W // 2, H // 2), interpolation=cv2.INTER_AREA), None, 23),
    "centre-crop-70": (lambda f, i: _crop(f, 0.7), None, 23),
    "letterbox": (lambda f, i: _pad(f, (W, int(W * 3 / 4))), None, 23),
    "pillarbox": (lambda f, i: _pad(f, (int(H * 21 / 9) // 2 * 2, H)), None, 23),
    "logo+text": (lambda f, i: _overlay(f), None, 23),
    "hflip": (lambda f, i: np.ascontiguousarray(f[:, ::-1]), None, 23),
    "speed-1.25x": (None, lambda c: _resample(c, 1.25), 23),
    "brightness-contrast": (lambda f, i: _bc(f), None, 23),
    "grey": (lambda f, i: _grey(f), None, 23),
    "sepia": (lambda f, i: _sepia(f), None, 23),
    "sub-clip-3s": (None, "window3", 23),
    "pip-50": (_pip, None, 23),
    "combined": (lambda f, i: _combined(f), lambda c: _resample(c, 1.1), 30),
}


def make_query(frames: np.ndarray, fps: float, name: str, rng: np.random.Generator, out: Path) -> Path:
    per_frame, whole, crf = TRANSFORMS[name]
    clip = frames
    if whole == "window3":
        clip = window(clip, fps, 3.0, rng)
    elif callable(whole):
        clip = whole(clip)
    if per_frame is not None:
        clip = np.stack([per_frame(f, i) for i, f in enumerate(clip)])
    return write_video(out, clip, fps=fps, crf=crf, preset="veryfast")
