"""Imperceptibility and payload metrics of the watermark benchmark."""

from __future__ import annotations

import math

import cv2
import numpy as np

from watermark.clips import Frames


def luma(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2YUV)[:, :, 0].astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def quality(original: Frames, marked: Frames) -> dict[str, float]:
    from skimage.metrics import structural_similarity

    ps_rgb = [psnr(a, b) for a, b in zip(original, marked, strict=True)]
    ps_y = [psnr(luma(a), luma(b)) for a, b in zip(original, marked, strict=True)]
    step = max(1, len(original) // 6)
    ssim = [
        structural_similarity(luma(a), luma(b), data_range=255.0)
        for a, b in zip(original[::step], marked[::step], strict=True)
    ]
    wm = [luma(b) - luma(a) for a, b in zip(original, marked, strict=True)]
    flicker = float(np.mean([np.mean(np.abs(wm[i] - wm[i - 1])) for i in range(1, len(wm))])) if len(wm) > 1 else 0.0
    rms = float(np.sqrt(np.mean([np.mean(w * w) for w in wm])))
    static = float(np.sqrt(np.mean(np.mean(wm, axis=0) ** 2)) / rms) if rms else 0.0
    return {
        "psnr_rgb": float(np.mean(ps_rgb)), "psnr_y": float(np.mean(ps_y)), "psnr_rgb_min": float(np.min(ps_rgb)),
        "ssim_y": float(np.mean(ssim)), "flicker": flicker, "wm_rms": rms, "static_fraction": static,
    }  # fmt: skip


def bit_accuracy(raw_hex: str | None, payload: bytes) -> float | None:
    if raw_hex is None:
        return None
    raw = np.unpackbits(np.frombuffer(bytes.fromhex(raw_hex), np.uint8))
    return float(np.mean(raw == np.unpackbits(np.frombuffer(payload, np.uint8))))
