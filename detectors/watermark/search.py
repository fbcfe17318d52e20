"""Resynchronisation: find the pilot in an accumulated residual under shifts, scales, aspect
changes, rotations and flips.

The residual accumulated over frames is warped back by a hypothesised (scale, angle, mirror),
folded onto one tile (the mark repeats with the tile's period) and cross-correlated with the
pilot by FFT, which scores every cyclic shift at once. Each score is normalised by the spread
of the scores over the shifts of its cell phase (``standardise``), so under "no mark" it is close
to a standard normal.

The false-positive rate counts every hypothesis that *could* be scored (a union bound), not just
the ones a coarse-to-fine search visits: the fine lattice of two families, (scale x angle) at the
picture's own aspect and (scale x aspect change) without rotation, x mirrors x shifts. The two
families cover what re-uploads do: rotate and zoom, or squeeze/stretch to another frame shape;
a squeeze that is also rotated is not searched.

Cost: the coarse pass scores a central window of two by three tiles for every coarse point, in
batches (one FFT call for a whole batch), and hill-climbs the few best on the fine lattice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import fft as sp_fft

from detectors.watermark.layout import CELL_PX, TILE_PX

__all__ = [
    "Hypothesis",
    "Peak",
    "fold",
    "correlate",
    "standardise",
    "phase_spread",
    "warp",
    "peak_of",
    "search",
    "SearchGrid",
    "SEARCH_GRID",
    "coarse_starts",
    "refine",
]


@dataclass(frozen=True)
class Hypothesis:
    scale: float = 1.0  # how much bigger the mark appears than embedded (horizontally)
    angle: float = 0.0  # degrees, counter-clockwise
    mirrored: bool = False
    aspect: float = 1.0  # vertical over horizontal scale: 0.75 for a 16:9 picture squeezed to 75 % height

    @property
    def aligned(self) -> bool:
        return self.scale == 1.0 and self.angle == 0.0 and self.aspect == 1.0

    @property
    def scales(self) -> tuple[float, float]:
        """(horizontal, vertical) scale of the mark."""
        return self.scale, self.scale * self.aspect


@dataclass(frozen=True)
class Peak:
    hypothesis: Hypothesis
    z: float
    shift: tuple[int, int]
    noise: float  # spread of the correlation over the shifts of the peak's cell phase


def fold(residual: np.ndarray) -> np.ndarray:
    """Sum every tile-period block of ``residual`` into one tile (partial tiles zero-padded)."""
    rows, cols = residual.shape
    if not (rows % TILE_PX or cols % TILE_PX):  # whole tiles (the coarse window): no padding
        return residual.reshape(rows // TILE_PX, TILE_PX, -1, TILE_PX).sum(axis=(0, 2), dtype=np.float64)
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
    sx, sy = hyp.scales
    if out_shape is None:
        out_shape = (max(TILE_PX, int(rows / sy)), max(TILE_PX, int(cols / sx)))
    theta = math.radians(hyp.angle)
    cos, sin = math.cos(theta), math.sin(theta)
    linear = np.array([[cos * sx, -sin * sy], [sin * sx, cos * sy]])  # rotation after the axis scales
    # dst(x, y) = src(M [x, y, 1]): scale and rotate about the two centres.
    centre_out = np.array([(out_shape[1] - 1) / 2, (out_shape[0] - 1) / 2])
    centre_in = np.array([(cols - 1) / 2, (rows - 1) / 2])
    matrix = np.hstack([linear, (centre_in - linear @ centre_out)[:, None]])
    return cv2.warpAffine(
        src.astype(np.float32, copy=False),
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
    """Coarse lattices to visit, the fine lattice to refine on and to count in the union bound.

    Two families: ``rotations`` (scale x angle, aspect 1) and ``squeezes`` (scale x aspect,
    angle 0), both with and without a mirror. Steps are logarithmic in scale and aspect.
    """

    scale_min: float = 0.66
    scale_max: float = 2.1  # 2.0: a centre crop keeping a quarter of the area, shown at its own size
    angle_max: float = 10.5
    aspect_min: float = 0.75
    aspect_max: float = 1.34
    coarse_scale_step: float = 0.025  # relative
    coarse_aspect_step: float = 0.025
    coarse_angle_step: float = 1.0  # degrees
    fine_scale_step: float = 0.004
    fine_angle_step: float = 0.2
    keep: int = 3  # coarse winners of each family refined
    # Central tiles scored in the coarse pass. 128x128 (issue 21, for speed) let ~2,000 coarse
    # points drown a CRF 28 crop's true scale (z 2.1 instead of 9.3); 192x192 is back to the
    # area the narrower search used (160x192) and costs ~10 % more detect time.
    coarse_window: tuple[int, int] = (192, 192)
    batch: int = 64  # coarse hypotheses per FFT call

    def _log_steps(self, lo: float, hi: float, step: float, pad: int = 0) -> np.ndarray:
        first = math.floor(math.log(lo) / math.log1p(step)) - pad
        last = math.ceil(math.log(hi) / math.log1p(step)) + pad
        return np.exp(np.arange(first, last + 1) * math.log1p(step))

    def _angles(self, step: float, limit: float) -> np.ndarray:
        n = math.ceil(limit / step - 1e-9)
        return np.arange(-n, n + 1) * step

    def coarse(self) -> list[Hypothesis]:
        scales = self._log_steps(self.scale_min, self.scale_max, self.coarse_scale_step)
        rotations = [
            Hypothesis(float(s), float(a), m)
            for m in (False, True)
            for s in scales
            for a in self._angles(self.coarse_angle_step, self.angle_max)
        ]
        squeezes = [
            Hypothesis(float(s), 0.0, m, float(r))
            for m in (False, True)
            for s in scales
            for r in self._log_steps(self.aspect_min, self.aspect_max, self.coarse_aspect_step)
            if abs(math.log(r)) > self.coarse_aspect_step / 2
        ]  # aspect 1 is the other family's
        return rotations + squeezes

    def snap(self, hyp: Hypothesis) -> tuple[int, int, int, bool, bool]:
        """A hypothesis's fine-lattice coordinates: (scale k, angle j, aspect i, mirror, squeeze family)."""
        step = math.log1p(self.fine_scale_step)
        k, i = round(math.log(hyp.scale) / step), round(math.log(hyp.aspect) / step)
        squeeze = i != 0
        return k, 0 if squeeze else round(hyp.angle / self.fine_angle_step), i, hyp.mirrored, squeeze

    def at(self, k: int, j: int, i: int, mirrored: bool) -> Hypothesis:
        step = math.log1p(self.fine_scale_step)
        return Hypothesis(
            1.0 if k == 0 else math.exp(k * step),
            j * self.fine_angle_step + 0.0,
            mirrored,
            1.0 if i == 0 else math.exp(i * step),
        )

    def bounds(self) -> tuple[tuple[int, int], int, tuple[int, int]]:
        """The counted fine lattice, in ``snap`` coordinates: scale index range, largest angle
        index, aspect index range (each range padded by a coarse step and two fine ones, so a
        climb from the edge of the coarse lattice can reach the truth). Climbs never leave it."""
        step = math.log1p(self.fine_scale_step)
        pad = int(math.ceil(max(self.coarse_scale_step, self.coarse_aspect_step) / self.fine_scale_step)) + 2
        k = (math.floor(math.log(self.scale_min) / step) - pad, math.ceil(math.log(self.scale_max) / step) + pad)
        i = (math.floor(math.log(self.aspect_min) / step) - pad, math.ceil(math.log(self.aspect_max) / step) + pad)
        j = math.ceil(
            (self.angle_max + self.coarse_angle_step + 2 * self.fine_angle_step) / self.fine_angle_step - 1e-9
        )
        return k, j, i

    def fine_count(self) -> int:
        """Every fine hypothesis the search can ever score (for the union bound)."""
        (k0, k1), j, (i0, i1) = self.bounds()
        return 2 * (k1 - k0 + 1) * ((2 * j + 1) + (i1 - i0))  # aspect 1 belongs to the rotations


SEARCH_GRID = SearchGrid()


def _batch_z(
    residual: np.ndarray, hyps: list[Hypothesis], template_ffts: tuple[np.ndarray, np.ndarray], window: tuple[int, int]
) -> np.ndarray:
    """Best standardised pilot score on the central ``window`` (whole tiles) of each unmirrored
    hypothesis (row 0) and of its mirror image (row 1), a batch through one FFT call.

    The mirror costs no warp: the mirrored residual warped by (scale, angle, aspect) is the
    column flip of the unmirrored one warped by (scale, -angle, aspect), and over whole tiles
    a flipped fold correlated with the pilot takes the values of the fold correlated with the
    flipped pilot (the shifts negated, cell phases kept): ``template_ffts`` holds both."""
    tiles = np.stack([fold(warp(residual, h, window)) for h in hyps]).astype(np.float32)
    spectrum = sp_fft.rfft2(tiles)
    best = np.full((2, len(hyps)), -np.inf)
    for side, template_fft in enumerate(template_ffts):
        corr = sp_fft.irfft2(spectrum * template_fft, s=(TILE_PX, TILE_PX))
        for dy in range(CELL_PX):
            for dx in range(CELL_PX):
                flat = corr[:, dy::CELL_PX, dx::CELL_PX].reshape(len(hyps), -1)
                z = (flat.max(axis=1) - flat.mean(axis=1)) / np.maximum(flat.std(axis=1), 1e-12)
                best[side] = np.maximum(best[side], z)
    return best


def _climb(
    residual: np.ndarray, start: Hypothesis, template_fft: np.ndarray, grid: SearchGrid, seen: dict[Hypothesis, Peak]
) -> Peak:
    """Hill-climb on the fine lattice from a coarse winner: strides 2 then 1 fine steps, moving
    while a neighbour scores higher (every point scored is on the counted lattice)."""
    k, j, i, mirrored, squeeze = grid.snap(start)
    (k_lo, k_hi), j_max, (i_lo, i_hi) = grid.bounds()

    def score(kk: int, jj: int, ii: int) -> Peak:
        hyp = grid.at(kk, jj, ii, mirrored)
        if hyp not in seen:
            seen[hyp] = peak_of(residual, hyp, template_fft)
        return seen[hyp]

    best = score(k, j, i)
    for stride in (2, 1):
        moved = True
        while moved:
            moved = False
            for dk in (-stride, 0, stride):
                for dm in (-stride, 0, stride):
                    if not (dk or dm):
                        continue
                    kk, jj, ii = (k + dk, j, i + dm) if squeeze else (k + dk, j + dm, i)
                    if squeeze and ii == 0:
                        continue  # stays in its family
                    if not (k_lo <= kk <= k_hi and abs(jj) <= j_max and i_lo <= ii <= i_hi):
                        continue  # never past the lattice the union bound counts
                    peak = score(kk, jj, ii)
                    if peak.z > best.z:
                        best, (k, j, i), moved = peak, (kk, jj, ii), True
    return best


def coarse_starts(
    residuals: list[np.ndarray], template_fft: np.ndarray, grid: SearchGrid = SEARCH_GRID
) -> list[Hypothesis]:
    """The best coarse points of each family, scored on the central window of the residuals
    joined (each scaled to unit RMS: the sums of one clip share its geometry). The starts are a
    choice of where to climb, never a score: the union bound counts the whole fine lattice."""
    joined = sum(r / (float(np.sqrt(np.mean(r * r))) or 1.0) for r in residuals)
    joined = np.asarray(joined, np.float32)
    rows, cols = joined.shape
    window = (
        max(TILE_PX, min(grid.coarse_window[0], rows) // TILE_PX * TILE_PX),
        max(TILE_PX, min(grid.coarse_window[1], cols) // TILE_PX * TILE_PX),
    )
    plain = [h for h in grid.coarse() if not h.mirrored]
    pilot = sp_fft.irfft2(np.conj(template_fft), s=(TILE_PX, TILE_PX))
    ffts = (template_fft.astype(np.complex64), np.conj(sp_fft.rfft2(pilot[:, ::-1])).astype(np.complex64))
    scored = np.concatenate(
        [_batch_z(joined, plain[n : n + grid.batch], ffts, window) for n in range(0, len(plain), grid.batch)], axis=1
    )
    hyps = plain + [Hypothesis(h.scale, -h.angle + 0.0, True, h.aspect) for h in plain]
    scores = scored.ravel()  # row 0: as given, row 1: mirrored
    squeeze = np.array([h.aspect != 1.0 for h in hyps])
    starts: list[Hypothesis] = []
    for family in (~squeeze, squeeze):
        idx = np.nonzero(family)[0]
        starts += [hyps[n] for n in idx[np.argsort(-scores[idx])][: grid.keep]]
    return starts


def refine(
    residual: np.ndarray, starts: list[Hypothesis], template_fft: np.ndarray, grid: SearchGrid = SEARCH_GRID
) -> Peak:
    """The best fine-lattice peak over the whole residual, climbing from each start."""
    seen: dict[Hypothesis, Peak] = {}
    residual = residual.astype(np.float32, copy=False)
    return max((_climb(residual, h, template_fft, grid, seen) for h in starts), key=lambda p: p.z)


def search(residual: np.ndarray, template_fft: np.ndarray, grid: SearchGrid = SEARCH_GRID) -> Peak:
    """Best peak over the grid for one residual: coarse pass, then the fine hill-climb."""
    return refine(residual, coarse_starts([residual], template_fft, grid), template_fft, grid)
