"""Frame fingerprints, Hamming indexes and temporal alignment for near-duplicate search.

Fingerprint (base)      name, bits, threshold, hash_frame / fingerprint, distance
├── PdqFingerprint      256-bit PDQ (+ dihedral variants), bars removed first
├── PHashFingerprint    64-bit imagehash pHash: the cheap first pass
├── OrbFingerprint      ORB keypoints + RANSAC affine check: crops, overlays, PiP
└── LayoutFingerprint   64x36 Y/Cr/Cb thumbnail, correlation under crop/PiP hypotheses: flat frames
HammingIndex            BruteForceIndex (reference) | FlatIndex | MultiIndexHashing
align                   temporal voting over frame hits -> aligned segment
"""

from detectors.fingerprints.align import Alignment, FrameHits, align
from detectors.fingerprints.base import Fingerprint, FingerprintExample, FrameCodes, hamming, hamming_matrix
from detectors.fingerprints.borders import BorderBox, detect_borders, remove_borders
from detectors.fingerprints.extract import QUERY, REFERENCE, ClipFingerprints, ExtractConfig, extract
from detectors.fingerprints.index import (
    BruteForceIndex,
    FlatIndex,
    HammingIndex,
    Hits,
    MultiIndexHashing,
    load_index,
)
from detectors.fingerprints.keypoints import OrbFingerprint, geometric_inliers
from detectors.fingerprints.layout import LayoutFingerprint
from detectors.fingerprints.pdq import PdqFingerprint
from detectors.fingerprints.phash import PHashFingerprint

# The manifest of fingerprint types (python-threatexchange style): the shared test runs them all.
FINGERPRINTS: tuple[type[Fingerprint], ...] = (PdqFingerprint, PHashFingerprint, OrbFingerprint, LayoutFingerprint)

__all__ = [
    "Fingerprint",
    "FingerprintExample",
    "FrameCodes",
    "FINGERPRINTS",
    "PdqFingerprint",
    "PHashFingerprint",
    "OrbFingerprint",
    "LayoutFingerprint",
    "geometric_inliers",
    "hamming",
    "hamming_matrix",
    "BorderBox",
    "detect_borders",
    "remove_borders",
    "HammingIndex",
    "BruteForceIndex",
    "FlatIndex",
    "MultiIndexHashing",
    "Hits",
    "load_index",
    "FrameHits",
    "Alignment",
    "align",
    "ExtractConfig",
    "REFERENCE",
    "QUERY",
    "ClipFingerprints",
    "extract",
]
