"""Letterbox / pillarbox detection and removal, applied before any frame is hashed.

A border is a run of near-uniform dark rows (letterbox) or columns (pillarbox) at an edge. Only
dark bars count: a uniform bright sky at the top of a frame is content, and cropping it on one
side but not the other would break matching. Detection is per frame and depends only on the
pixels, so a reference and its bordered copy are cropped to the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["BorderBox", "detect_borders", "remove_borders"]

_MAX_MEAN = 40.0  # limited-range black is 16; compression noise lifts it a little
_MAX_STD = 10.0
_MIN_FRACTION = 0.01  # thinner bars are left alone (compression ringing at the edges)
_MIN_CONTENT = 0.3  # never crop to less than this share of a dimension


@dataclass(frozen=True)
class BorderBox:
    """The content rectangle inside the bars: rows ``top:bottom``, columns ``left:right``."""

    top: int
    bottom: int
    left: int
    right: int
    height: int
    width: int

    @property
    def has_border(self) -> bool:
        return (self.top, self.left) != (0, 0) or (self.bottom, self.right) != (self.height, self.width)


def _run(means: np.ndarray, stds: np.ndarray) -> int:
    """Length of the leading run of border lines."""
    bad = (means > _MAX_MEAN) | (stds > _MAX_STD)
    return int(np.argmax(bad)) if bad.any() else len(means)


def detect_borders(frame: np.ndarray) -> BorderBox:
    """Find the content box of one RGB frame (the whole frame when there are no bars)."""
    height, width = frame.shape[:2]
    if frame.ndim == 3:
        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float32)
    else:
        gray = frame.astype(np.float32)
    row_mean, row_std = gray.mean(axis=1), gray.std(axis=1)
    col_mean, col_std = gray.mean(axis=0), gray.std(axis=0)
    top = _run(row_mean, row_std)
    if top >= height:  # an all-dark frame has no border, only dark content
        return BorderBox(0, height, 0, width, height, width)
    bottom = height - _run(row_mean[::-1], row_std[::-1])
    left = _run(col_mean, col_std)
    right = width - _run(col_mean[::-1], col_std[::-1])

    def keep(a: int, b: int, n: int) -> tuple[int, int]:
        a = a if a >= _MIN_FRACTION * n else 0
        b = b if n - b >= _MIN_FRACTION * n else n
        if b - a < _MIN_CONTENT * n:
            return 0, n
        return a, b

    top, bottom = keep(top, bottom, height)
    left, right = keep(left, right, width)
    return BorderBox(top, bottom, left, right, height, width)


def remove_borders(frame: np.ndarray) -> np.ndarray:
    """The frame without its letterbox / pillarbox bars (a view, not a copy)."""
    box = detect_borders(frame)
    if not box.has_border:
        return frame
    return frame[box.top : box.bottom, box.left : box.right]
