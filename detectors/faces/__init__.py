"""Faces: detection, descriptors, a brute-force gallery and clip-level presence.

    FaceEmbedder (base)     detect(frame) -> [FaceBox]; describe(frame, boxes) -> [Face]
    └── DlibEmbedder        HOG/MMOD + 5-point alignment + ResNet 128-d (CC0 model files)
    Gallery                 exact nearest-person search (the reference matcher)
    sample_frames           every n frames + cuts;  scan_frames / ClipScanner: multi-frame agreement
    FaceError ─ NoFaceFound, SeveralFaces     (under detectors.DetectorError)

Leaf package: never imports governance. Descriptors are biometric: nothing here logs them.
"""

from detectors.faces.base import MIN_IMAGE_SIDE, Face, FaceBox, FaceEmbedder, check_frame
from detectors.faces.clips import (
    ClipFaces,
    ClipScanner,
    FrameFaces,
    PersonPresence,
    SamplingConfig,
    continued_match,
    sample_frames,
    scan_frames,
)
from detectors.faces.dlib import DlibEmbedder, model_dir
from detectors.faces.errors import FaceError, NoFaceFound, SeveralFaces
from detectors.faces.gallery import Candidate, Gallery, distance_score

__all__ = [
    "FaceEmbedder",
    "Face",
    "FaceBox",
    "MIN_IMAGE_SIDE",
    "check_frame",
    "DlibEmbedder",
    "model_dir",
    "Gallery",
    "Candidate",
    "distance_score",
    "SamplingConfig",
    "sample_frames",
    "scan_frames",
    "ClipScanner",
    "continued_match",
    "FrameFaces",
    "PersonPresence",
    "ClipFaces",
    "FaceError",
    "NoFaceFound",
    "SeveralFaces",
]
