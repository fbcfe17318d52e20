"""ORB keypoints with geometric verification: the descriptor for crops, overlays and PiP.

Frame hashes see the whole picture, so a 70 % crop, a banner or a picture-in-picture changes
them beyond any threshold. Local features survive: enough ORB descriptors of the reference are
still there, at positions related by one affine map. A frame matches only when a RANSAC affine
fit explains at least ``min_inliers`` descriptor pairs with a sane scale, which random
descriptor coincidences essentially never do.

Descriptors are 256-bit, so they live in the same Hamming indexes as PDQ codes; ``points``
holds each descriptor's position in [0, 1] of the border-free frame.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from detectors.fingerprints.base import Fingerprint, FrameCodes, hamming_matrix
from detectors.fingerprints.borders import remove_borders

__all__ = ["OrbFingerprint", "geometric_inliers"]

_WORK_SIDE = 640


def geometric_inliers(
    query_points: np.ndarray,
    ref_points: np.ndarray,
    *,
    tol: float = 0.015,
    min_scale: float = 0.2,
    max_scale: float = 5.0,
) -> int:
    """Inliers of a RANSAC affine fit mapping reference points onto query points (0 if none).

    Points are normalised to [0, 1]; ``tol`` is the reprojection tolerance in that unit. Fits
    whose scale, shear or reflection are implausible for an edited copy count as 0.
    """
    if len(query_points) < 6:
        return 0
    matrix, mask = cv2.estimateAffine2D(
        ref_points.astype(np.float32),
        query_points.astype(np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=tol,
        maxIters=500,
        confidence=0.99,
    )
    if matrix is None or mask is None:
        return 0
    linear = matrix[:, :2]
    sx, sy = np.linalg.norm(linear[:, 0]), np.linalg.norm(linear[:, 1])
    det = float(np.linalg.det(linear))
    if not (min_scale <= sx <= max_scale and min_scale <= sy <= max_scale) or det <= 0:
        return 0
    if max(sx, sy) / min(sx, sy) > 2.0:  # strong anisotropy: not a crop/scale of the same frame
        return 0
    # Inliers must be spread out, not one textured blob matched by chance.
    inl = query_points[mask.ravel().astype(bool)]
    if len(inl) < 3 or float(np.ptp(inl[:, 0]) * np.ptp(inl[:, 1])) < 0.002:
        return 0
    return int(mask.sum())


_GRID = 4  # cells per side for spreading keypoints


def _spread(keypoints, shape: tuple[int, int], count: int) -> list:
    """At most ``count`` keypoints: the strongest of each grid cell first (``count`` / cells
    each), then the strongest of the rest."""
    if len(keypoints) <= count:
        return list(keypoints)
    h, w = shape
    order = sorted(keypoints, key=lambda k: -k.response)
    per_cell = max(1, count // (_GRID * _GRID))
    taken: dict[int, int] = {}
    chosen, rest = [], []
    for k in order:
        cell = min(int(k.pt[1] * _GRID / h), _GRID - 1) * _GRID + min(int(k.pt[0] * _GRID / w), _GRID - 1)
        if taken.get(cell, 0) < per_cell:
            taken[cell] = taken.get(cell, 0) + 1
            chosen.append(k)
        else:
            rest.append(k)
    return chosen + rest[: count - len(chosen)]


class OrbFingerprint(Fingerprint):
    """Up to ``max_features`` ORB descriptors of the border-free frame at 640 px."""

    name: ClassVar[str] = "orb"
    bits: ClassVar[int] = 256
    threshold: ClassVar[int] = 64  # per-descriptor Hamming distance for a candidate pair
    min_inliers: ClassVar[int] = 12

    def __init__(self, *, max_features: int = 400, strip_borders: bool = True) -> None:
        self.max_features = max_features
        self.strip_borders = strip_borders
        # A low FAST threshold finds corners in flat, graphic frames (animation, title cards,
        # diagrams) too; candidates are then spread over a grid so that an overlay's text and
        # logo corners, the strongest in the frame, cannot crowd out the picture's own.
        self._orb = cv2.ORB_create(  # type: ignore[attr-defined]  # cv2's stubs omit it
            nfeatures=max_features * 4, scaleFactor=1.2, nlevels=8, edgeThreshold=15, patchSize=31, fastThreshold=3
        )

    def hash_frame(self, frame: np.ndarray) -> FrameCodes:
        if self.strip_borders:
            frame = remove_borders(frame)
        h, w = frame.shape[:2]
        scale = _WORK_SIDE / max(h, w)
        if scale < 1.0:
            frame = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        keypoints = _spread(self._orb.detect(gray, None), gray.shape, self.max_features)
        keypoints, descriptors = self._orb.compute(gray, keypoints)
        if descriptors is None or not keypoints:
            return FrameCodes.empty(self.name, self.nbytes)
        gh, gw = gray.shape
        points = np.array([(k.pt[0] / gw, k.pt[1] / gh) for k in keypoints], np.float32)
        n = len(keypoints)
        return FrameCodes(
            self.name,
            descriptors.astype(np.uint8),
            np.zeros(n, np.int32),
            np.zeros(n, np.int16),
            np.full(n, 100, np.int16),
            points,
        )

    def match_codes(self, query: FrameCodes, ref: FrameCodes) -> int:
        """Geometric inliers between two frames' descriptors (mutual nearest neighbours)."""
        if len(query) < 6 or len(ref) < 6:
            return 0
        d = hamming_matrix(query.codes, ref.codes)
        best_r = d.argmin(axis=1)
        best_q = d.argmin(axis=0)
        qi = np.arange(len(query))
        keep = (best_q[best_r] == qi) & (d[qi, best_r] <= self.threshold)
        return geometric_inliers(query.points[keep], ref.points[best_r[keep]])

    def frames_match(self, a: np.ndarray, b: np.ndarray) -> bool:
        return self.match_codes(self.hash_frame(b), self.hash_frame(a)) >= self.min_inliers
