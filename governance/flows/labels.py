"""Visible (explicit) AI labels burned into frames, as China's labelling measures require.

GB 45438-2025 asks for a visible text label on synthetic video, at least 5 % of the shorter
side tall and shown for at least 2 s at the start. The label glyphs ("AI生成 · AI-generated")
ship as a pre-rendered mask (rendered once from WenQuanYi Micro Hei, so no CJK font is needed at
run time); it is scaled to the frame and alpha-blended over a dark plate for contrast.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import cv2
import numpy as np

__all__ = ["apply_visible_label", "LABEL_MIN_HEIGHT_FRACTION", "LABEL_MIN_SECONDS"]

LABEL_MIN_HEIGHT_FRACTION = 0.05
LABEL_MIN_SECONDS = 2.0
_HEIGHT_FRACTION = 0.06  # a margin above the 5 % floor survives downscaling


@lru_cache(maxsize=1)
def _mask() -> np.ndarray:
    data = resources.files("governance.flows.resources").joinpath("ai_label_mask.png").read_bytes()
    mask = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if mask is None:  # a damaged installation, not a user error
        raise RuntimeError("the packaged label mask ai_label_mask.png does not decode; reinstall ReelGuard")
    return mask.astype(np.float32) / 255.0


def _label_layer(width: int, height: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The scaled glyph mask and its top-left position for a frame size."""
    mask = _mask()
    text_h = max(8, int(np.ceil(min(width, height) * _HEIGHT_FRACTION / 0.8)))  # glyphs fill ~80 % of the mask
    scale = text_h / mask.shape[0]
    text_w = int(round(mask.shape[1] * scale))
    max_w = width - 2 * max(2, width // 50)
    if text_w > max_w:  # very narrow frames: keep the height rule, drop the English part by cropping
        text_w = max_w
    resized = cv2.resize(mask, (int(round(mask.shape[1] * scale)), text_h), interpolation=cv2.INTER_AREA)
    resized = resized[:, :text_w]
    margin = max(2, min(width, height) // 40)
    return resized, (margin, margin)


def apply_visible_label(frames: np.ndarray, *, fps: float, seconds: float = LABEL_MIN_SECONDS) -> np.ndarray:
    """Return a copy of ``frames`` (F, H, W, 3) with the label on the first ``seconds`` (all
    frames when the clip is shorter)."""
    frames = np.array(frames, dtype=np.uint8, copy=True)
    count = frames.shape[0]
    labelled = count if fps <= 0 else min(count, int(np.ceil(seconds * fps)))
    height, width = frames.shape[1:3]
    mask, (x, y) = _label_layer(width, height)
    h, w = mask.shape
    alpha = mask[:, :, None]
    plate = 0.45  # dark translucent plate behind the text
    region = frames[:labelled, y : y + h, x : x + w].astype(np.float32)
    region = region * (1 - plate)
    region = region * (1 - alpha) + 255.0 * alpha
    frames[:labelled, y : y + h, x : x + w] = np.clip(region, 0, 255).astype(np.uint8)
    return frames
