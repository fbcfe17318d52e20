"""pHash (``imagehash``): a 64-bit DCT hash, cheap enough to run on every decoded frame.

ReelGuard uses it as the first pass of reference sampling (a frame whose pHash is within a few
bits of the last kept frame is a near-duplicate and is not hashed further), and as the pHash
baseline in the benchmark.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import imagehash
import numpy as np
from PIL import Image

from detectors.fingerprints.base import Fingerprint, FrameCodes
from detectors.fingerprints.borders import remove_borders

__all__ = ["PHashFingerprint"]


class PHashFingerprint(Fingerprint):
    """imagehash's 64-bit pHash of the (optionally border-free) frame."""

    name: ClassVar[str] = "phash"
    bits: ClassVar[int] = 64
    threshold: ClassVar[int] = 10

    def __init__(self, *, strip_borders: bool = True) -> None:
        self.strip_borders = strip_borders

    def hash_frame(self, frame: np.ndarray) -> FrameCodes:
        if self.strip_borders:
            frame = remove_borders(frame)
        # imagehash resizes to 32x32 itself; shrinking first with INTER_AREA is faster and kinder.
        small = cv2.resize(frame, (64, 64), interpolation=cv2.INTER_AREA)
        bits = imagehash.phash(Image.fromarray(small)).hash.reshape(-1)
        code = np.packbits(bits.astype(np.uint8))[None, :]
        return FrameCodes(self.name, code, np.zeros(1, np.int32), np.zeros(1, np.int16), np.full(1, 100, np.int16))
