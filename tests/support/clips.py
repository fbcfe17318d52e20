"""One clip maker for the tests: a camera panning left to right across a still picture."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["pan_across"]


def pan_across(
    image: np.ndarray,
    *,
    frames: int,
    window: tuple[int, int],
    y: int = 0,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """``frames`` views of ``window`` = (w, h) pixels of ``image``, at row ``y``, sliding evenly
    from the left edge to the right one; each resized to ``size`` = (w, h) when given.
    (F, H, W, 3) uint8, C-contiguous frames."""
    w, h = window
    travel = image.shape[1] - w
    if frames < 1 or travel < 0 or y + h > image.shape[0]:
        raise ValueError(f"a {w}x{h} window at row {y} does not fit a {image.shape[1]}x{image.shape[0]} picture")
    out = []
    for k in range(frames):
        x = travel * k // max(1, frames - 1)
        view = image[y : y + h, x : x + w]
        out.append(cv2.resize(view, size, interpolation=cv2.INTER_AREA) if size is not None else np.ascontiguousarray(view))
    return np.stack(out)
