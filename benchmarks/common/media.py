"""Paths and source pictures shared by the benchmarks (never imported by product code)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The two real clips shared by every helper's checkout (../shared/clips); REELGUARD_CLIPS overrides.
CLIPS = Path(os.environ.get("REELGUARD_CLIPS", ROOT.parent / "shared" / "clips"))


def skimage_still(name: str) -> np.ndarray:
    """A picture bundled with scikit-image as (H, W, 3) uint8 RGB.

    Grey pictures are repeated over three channels, alpha is dropped, binary and float pictures
    are scaled to 0-255, and loaders that return a stereo pair (``stereo_motorcycle``) give
    their first picture. Only pictures shipped inside the wheel are used: nothing is fetched."""
    from skimage import data

    image = getattr(data, name)()
    if isinstance(image, tuple):
        image = image[0]
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        image = ((image - lo) / ((hi - lo) or 1.0) * 255.0).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def replace_block(path: Path, name: str, text: str) -> bool:
    """Replace the generated block ``<!-- name:start -->...<!-- name:end -->`` of a doc page,
    keeping the hand-written text around it; False when the page or its block is missing."""
    if not path.exists():
        return False
    page = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    if not pattern.search(page):
        return False
    block = f"<!-- {name}:start -->\n{text.strip()}\n<!-- {name}:end -->"
    path.write_text(pattern.sub(lambda _m: block, page), encoding="utf-8")
    return True
