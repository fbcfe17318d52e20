"""Reading a located mark: a self-noise-free z-score for the pilot and soft values for the bits.

Normalising the pilot correlation by its spread over shifts (as the search does) counts the
mark's own correlation with shifted copies of itself as noise, which caps the z-score near 16
however strong the mark. Once a peak is chosen, the mark is estimated (pilot known, data chips
from their signs, a 3x3 kernel fitted for the blur the channel applied) and subtracted, and the
spread of the correlation is measured on what is left: the content and channel noise alone,
over the shifts of the peak's cell phase (see ``search.phase_spread``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from detectors.watermark.ecc import CODE_BITS
from detectors.watermark.layout import CELL_PX, Layout, layout_for_key
from detectors.watermark.search import Peak, correlate, fold, phase_spread, warp

__all__ = ["Templates", "templates_for_key", "Readout", "read_peak"]


@dataclass(frozen=True)
class Templates:
    layout: Layout
    pilot: np.ndarray
    pilot_fft: np.ndarray
    data_signs: np.ndarray
    bit_index: np.ndarray  # (TILE_PX, TILE_PX) code bit of each working pixel, -1 on pilot
    bit_norm: float  # L2 norm of one bit's share of data_signs


@lru_cache(maxsize=8)
def templates_for_key(key: bytes, scheme: str) -> Templates:
    layout = layout_for_key(key, scheme)
    pilot = layout.pilot_tile()
    data_signs = layout.data_sign_tile()
    return Templates(
        layout=layout,
        pilot=pilot,
        pilot_fft=np.conj(np.fft.rfft2(pilot)),
        data_signs=data_signs,
        bit_index=np.kron(layout.bit_of_cell, np.ones((CELL_PX, CELL_PX), dtype=np.int64)),
        bit_norm=math.sqrt(float(np.sum(data_signs**2)) / CODE_BITS),
    )


@dataclass(frozen=True)
class Readout:
    z: float  # pilot correlation over the noise left once the estimated mark is removed
    bit_z: np.ndarray  # (CODE_BITS,) per-bit z-scores, positive meaning codeword bit 0
    amplitude: float  # estimated mark amplitude per working pixel


def read_peak(total: np.ndarray, templates: Templates, peak: Peak) -> Readout:
    folded = fold(warp(total, peak.hypothesis))
    aligned = np.roll(folded, (-peak.shift[0], -peak.shift[1]), axis=(0, 1))
    index = templates.bit_index.ravel()
    data = index >= 0
    soft = np.bincount(index[data], weights=(aligned * templates.data_signs).ravel()[data], minlength=CODE_BITS)
    # Estimated mark: pilot cells carry their sign, data cells their sign times the chip read.
    chips = np.where(soft >= 0, 1.0, -1.0)
    layout = templates.layout
    cells = layout.signs * np.where(layout.pilot, 1.0, chips[np.maximum(layout.bit_of_cell, 0)])
    mark = np.kron(cells, np.ones((CELL_PX, CELL_PX)))
    shifted = np.stack([np.roll(mark, (dy, dx), axis=(0, 1)).ravel() for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=1)
    kernel, *_ = np.linalg.lstsq(shifted, aligned.ravel(), rcond=None)
    cleaned = aligned - (shifted @ kernel).reshape(aligned.shape)
    # The peak sits at shift (0, 0) here. Its cell phase spreads wider where a foreign mark sits
    # in the picture; cleaning (chips chosen from the data) narrows it a little. Take the larger
    # of that phase's spread and the pooled one, so neither inflates z.
    cleaned_corr = correlate(cleaned, templates.pilot_fft)
    noise = max(phase_spread(cleaned_corr), float(cleaned_corr.std()))  # phase_spread is >= 1e-12
    signal = float(np.sum(aligned * templates.pilot))
    pilot_energy = float(np.sum(templates.pilot**2))
    bit_z = soft / (noise * templates.bit_norm / math.sqrt(pilot_energy))
    bit_z *= 1.0 - 2.0 * templates.layout.whitening  # undo the keyed whitening
    return Readout(z=signal / noise, bit_z=bit_z, amplitude=signal / pilot_energy)
