"""The face-embedder interface: find faces (boxes), describe each one (a fixed-length vector).

A ``FaceEmbedder`` is the only thing the likeness guard knows about a face model, so a stronger
model can replace dlib's without touching the gallery, the clip sampler or the flows. Descriptors
of one model compare by Euclidean distance; descriptors of different models never compare (the
registry stores the embedder's ``name`` beside them).

Descriptors are biometric data: ``Face.__repr__`` and ``Face.to_dict`` leave them out, so a
log line or a JSON report never carries one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.errors import MediaError
from detectors.faces.errors import NoFaceFound, SeveralFaces

__all__ = ["FaceBox", "Face", "FaceEmbedder", "MIN_IMAGE_SIDE"]

# Below this the detectors find nothing even upsampled (their windows are 40 px after one 2x
# upsampling); a smaller photo is refused with a message instead of "no face".
MIN_IMAGE_SIDE = 48


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face's box in the coordinates of the frame it was found in (pixels, right/bottom
    exclusive) and the detector's confidence (HOG: SVM margin; MMOD: CNN score)."""

    left: int
    top: int
    right: int
    bottom: int
    score: float = 0.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def size(self) -> int:
        return min(self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "top": self.top,
            "right": self.right,
            "bottom": self.bottom,
            "score": round(float(self.score), 3),
        }


@dataclass(frozen=True)
class Face:
    """One face: where it is and its descriptor (float32; never printed)."""

    box: FaceBox
    descriptor: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"box": self.box.to_dict()}  # the descriptor is biometric: never in reports


class FaceEmbedder(ABC):
    """A face model: ``detect`` boxes in an RGB frame, ``describe`` the faces in those boxes.

    ``threshold`` is the distance at or below which two descriptors are taken for one person,
    as the model's maker calibrated it; the likeness guard may use a stricter one it measured.
    """

    name: str = "face-embedder"
    descriptor_size: int = 128
    threshold: float = 0.6

    @abstractmethod
    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        """Boxes of the faces in ``frame`` ((H, W, 3) uint8 RGB), largest first."""

    @abstractmethod
    def describe(self, frame: np.ndarray, boxes: list[FaceBox]) -> list[Face]:
        """One descriptor per box, in the same order."""

    def faces(self, frame: np.ndarray) -> list[Face]:
        """Every face in ``frame``, described."""
        frame = check_frame(frame)
        boxes = self.detect(frame)
        return self.describe(frame, boxes) if boxes else []

    def single_face(self, frame: np.ndarray, *, what: str = "photo") -> Face:
        """The one face of an enrolment photo: NoFaceFound or SeveralFaces otherwise."""
        frame = check_frame(frame)
        height, width = frame.shape[:2]
        if min(height, width) < MIN_IMAGE_SIDE:
            raise NoFaceFound(
                f"{what}: {width}x{height} is too small to hold a face the model can use "
                f"(at least {MIN_IMAGE_SIDE} px a side, a face of 80 px or more is best)"
            )
        boxes = self.detect(frame)
        if not boxes:
            raise NoFaceFound(
                f"{what}: no face found (use a photo where the face is frontal, lit and at least 80 px across)"
            )
        if len(boxes) > 1:
            raise SeveralFaces(
                f"{what}: {len(boxes)} faces found; enrol from photos that show only the "
                "person being enrolled (crop the others out)",
                count=len(boxes),
            )
        return self.describe(frame, boxes)[0]

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Euclidean distances between descriptor ``a`` (D,) or (N, D) and ``b`` (M, D) -> (M,) or (N, M)."""
        a = np.asarray(a, dtype=np.float32)
        b = np.atleast_2d(np.asarray(b, dtype=np.float32))
        if a.ndim == 1:
            return np.linalg.norm(b - a[None, :], axis=1)
        diff = a[:, None, :] - b[None, :, :]
        return np.sqrt(np.einsum("nmd,nmd->nm", diff, diff))


def check_frame(frame: np.ndarray) -> np.ndarray:
    """A contiguous (H, W, 3) uint8 frame, or MediaError saying what is wrong."""
    array = np.asarray(frame)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise MediaError(f"faces need (H, W, 3) uint8 RGB frames, got {array.dtype} {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise MediaError(f"empty frame {array.shape}")
    return np.ascontiguousarray(array)
