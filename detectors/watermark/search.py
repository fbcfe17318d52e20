"""Resynchronisation: find the pilot in an accumulated residual under shifts, scales, rotations, flips.

The residual accumulated over frames is warped back by a hypothesised (scale, angle, mirror),
folded onto one tile (the mark repeats with the tile's period) and cross-correlated with the
pilot by FFT, which scores every cyclic shift at once. Each score is normalised by the spread
of the scores over the shifts of its cell phase (``standardise``), so under "no mark" it is close
to a standard normal.

The false-positive rate counts every hypothesis that *could* be scored (a union bound), not just
the ones a coarse-to-fine search visits: the fine lattice of scales x angles x mirrors x shifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from detectors.watermark.layout import CELL_PX, TILE_PX

__all__ = [
    "Hypothesis", "Peak", "fold", "correlate", "standardise", "phase_spread", "warp", "peak_of", "search",
    "SearchGrid", "SEARCH_GRID",
]


@dataclass(frozen=True)
class Hypothesis:
    scale: float = 1.0  # how much bigger the mark appears than embedded
    angle: float = 0.0  # degrees, counter-clockwise
    mirrored: bool = False

    @property
    def aligned(self) -> bool:
        return self.scale == 1.0 and self.angle == 0.0


@dataclass(frozen=True)
class Peak:
    hypothesis: Hypothesis
    z: float
    shift: tuple[int, int]
    noise: float  # spread of the correlation over the shifts of the peak's cell phase


def fold(residual: np.ndarray) -> np.ndarray:
    """Sum every tile-period block of ``residual`` into one tile (partial tiles zero-padded)."""
    rows, cols = residual.shape
    padded = np.zeros((-(-rows // TILE_PX) * TILE_PX, -(-cols // TILE_PX) * TILE_PX), np.float64)
    padded[:rows, :cols] = residual
    return padded.reshape(padded.shape[0] // TILE_PX, TILE_PX, -1, TILE_PX).sum(axis=(0, 2))


def correlate(folded: np.ndarray, template_fft: np.ndarray) -> np.ndarray:
    """Circular cross-correlation C[s] = sum_u folded[u + s] * template[u] for every shift s."""
    return np.fft.irfft2(np.fft.rfft2(folded) * template_fft, s=folded.shape)


def phase_spread(corr: np.ndarray, shift: tuple[int, int] = (0, 0)) -> float:
    """Spread of the correlation over the shifts with the same cell phase as ``shift``.

    Shifts that put the template's cells on whole cells of the picture and shifts that straddle
    cell borders do not spread alike where the picture has structure at the cell scale: a mark
    made with another key (the spread of the cell-aligned quarter is 1.45x the pooled one, so
    a pooled z-score there had standard deviation 1.5 over 300 wrong keys) or a photo upscaled
    in blocks. Each phase is therefore normalised by its own spread.
    """
    return float(corr[shift[0] % CELL_PX :: CELL_PX, shift[1] % CELL_PX :: CELL_PX].std()) or 1e-12


def standardise(corr: np.ndarray) -> np.ndarray:
    """Per-shift z-scores, each cell phase centred and scaled by its own spread (see ``phase_spread``)."""
    z = np.empty_like(corr)
    for dy in range(CELL_PX):
        for dx in range(CELL_PX):
            block = corr[dy::CELL_PX, dx::CELL_PX]
            z[dy::CELL_PX, dx::CELL_PX] = (block - block.mean()) / phase_spread(corr, (dy, dx))
    return z


def warp(residual: np.ndarray, hyp: Hypothesis, out_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Resample the residual into the embedder's frame of reference under ``hyp``."""
    src = residual[:, ::-1] if hyp.mirrored else residual
    if hyp.aligned and out_shape is None:
        return np.ascontiguousarray(src)
    rows, cols = src.shape
    if out_shape is None:
        out_shape = (max(TILE_PX, int(rows / hyp.scale)), max(TILE_PX, int(cols / hyp.scale)))
    theta = math.radians(hyp.angle)
    a, b = hyp.scale * math.cos(theta), hyp.scale * math.sin(theta)
    # dst(x, y) = src(M [x, y, 1]): rotate and scale about the two centres.
    cx_out, cy_out = (out_shape[1] - 1) / 2, (out_shape[0] - 1) / 2
    cx_in, cy_in = (cols - 1) / 2, (rows - 1) / 2
    matrix = np.array(
        [[a, -b, cx_in - a * cx_out + b * cy_out], [b, a, cy_in - b * cx_out - a * cy_out]], dtype=np.float64
    )
    return cv2.warpAffine(
        src.astype(np.float32),
        matrix,
        (out_shape[1], out_shape[0]),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def peak_of(
    residual: np.ndarray,
    hyp: Hypothesis,
    template_fft: np.ndarray,
    *,
    at_origin: bool = False,
    out_shape: tuple[int, int] | None = None,
) -> Peak:
    """The pilot's best cyclic shift under ``hyp`` (or its score at shift 0), z-normalised over shifts."""
    corr = correlate(fold(warp(residual, hyp, out_shape)), template_fft)
    z = standardise(corr)
    if at_origin:
        return Peak(hyp, float(z[0, 0]), (0, 0), phase_spread(corr))
    flat = int(np.argmax(z))
    sy, sx = divmod(flat, z.shape[1])
    return Peak(hyp, float(z[sy, sx]), (sy, sx), phase_spread(corr, (sy, sx)))


@dataclass(frozen=True)
class SearchGrid:
    """Coarse lattice to visit, fine lattice to refine on and to count in the union bound."""

    scale_min: float = 0.66
    scale_max: float = 1.52
    angle_max: float = 2.25
    coarse_scale_step: float = 0.015  # relative
    coarse_angle_step: float = 0.75  # degrees
    fine_scale_step: float = 0.004
    fine_angle_step: float = 0.2
    fine_radius: int = 2  # fine steps each side of a coarse point
    keep: int = 3  # coarse winners refined
    coarse_window: tuple[int, int] = (160, 192)  # central region scored in the coarse pass

    def _scales(self, step: float, pad: int = 0) -> np.ndarray:
        lo = math.floor(math.log(self.scale_min) / math.log1p(step)) - pad
        hi = math.ceil(math.log(self.scale_max) / math.log1p(step)) + pad
        return np.exp(np.arange(lo, hi + 1) * math.log1p(step))

    def _angles(self, step: float, limit: float) -> np.ndarray:
        n = math.ceil(limit / step - 1e-9)
        return np.arange(-n, n + 1) * step

    def coarse(self) -> list[Hypothesis]:
        return [
            Hypothesis(float(s), float(a), m)
            for m in (False, True)
            for s in self._scales(self.coarse_scale_step)
            for a in self._angles(self.coarse_angle_step, self.angle_max)
        ]

    def fine_around(self, hyp: Hypothesis) -> list[Hypothesis]:
        k0 = round(math.log(hyp.scale) / math.log1p(self.fine_scale_step))
        j0 = round(hyp.angle / self.fine_angle_step)
        out = []
        for dk in range(-self.fine_radius, self.fine_radius + 1):
            for dj in range(-self.fine_radius, self.fine_radius + 1):
                scale = 1.0 if k0 + dk == 0 else math.exp((k0 + dk) * math.log1p(self.fine_scale_step))
                out.append(Hypothesis(scale, (j0 + dj) * self.fine_angle_step + 0.0, hyp.mirrored))
        return out

    def fine_count(self) -> int:
        """Every fine hypothesis the search can ever score (for the union bound)."""
        scales = len(self._scales(self.fine_scale_step, pad=self.fine_radius + 2))
        angles = len(self._angles(self.fine_angle_step, self.angle_max + (self.fine_radius + 1) * self.fine_angle_step))
        return 2 * scales * angles


SEARCH_GRID = SearchGrid()


def search(residual: np.ndarray, template_fft: np.ndarray, grid: SearchGrid = SEARCH_GRID) -> Peak:
    """Best peak over the grid: coarse pass on a central window, fine pass on the whole residual."""
    window = (min(grid.coarse_window[0], residual.shape[0]), min(grid.coarse_window[1], residual.shape[1]))
    coarse = [peak_of(residual, h, template_fft, out_shape=window) for h in grid.coarse()]
    coarse.sort(key=lambda p: p.z, reverse=True)
    fine = dict.fromkeys(h for winner in coarse[: grid.keep] for h in grid.fine_around(winner.hypothesis))
    return max((peak_of(residual, h, template_fft) for h in fine), key=lambda p: p.z)
