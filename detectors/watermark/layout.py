"""The keyed tile of the spread-spectrum scheme: which cell carries the pilot or which bit.

The mark is one tile of ``TILE_CELLS x TILE_CELLS`` cells repeated over the frame. A cell is
``CELL_PX`` working pixels; the working grid has ``WORK_HEIGHT`` rows whatever the frame size,
so the pattern scales with the picture and survives downscaling. Everything random here is
derived from the secret key with HMAC-SHA256: without the key the cells' signs, the pilot and the
payload whitening are unknown, so the mark can be neither read nor forged cheaply.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from detectors.watermark.ecc import CODE_BITS

__all__ = ["WORK_HEIGHT", "CELL_PX", "TILE_CELLS", "TILE_PX", "Layout", "layout_for_key", "working_size"]

WORK_HEIGHT = 180  # working rows: 90 cells per picture height (8 px cells at 720p)
CELL_PX = 2
TILE_CELLS = 32
TILE_PX = TILE_CELLS * CELL_PX
CELLS_PER_BIT = 7  # 127 bits x 7 cells = 889 data cells; the other 135 cells are pilot


def working_size(height: int, width: int) -> tuple[int, int]:
    """(rows, cols) of the working grid for a frame; the scale is set by the height."""
    return WORK_HEIGHT, max(1, int(round(width * WORK_HEIGHT / height)))


def _rng(key: bytes, scheme: str, purpose: str) -> np.random.Generator:
    digest = hmac.new(key, f"{scheme}/{purpose}".encode(), hashlib.sha256).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32))


@dataclass(frozen=True)
class Layout:
    """Per-key constants: cell signs, the pilot cells, each data cell's bit, the whitening bits."""

    signs: np.ndarray  # (TILE_CELLS, TILE_CELLS) of +-1
    pilot: np.ndarray  # (TILE_CELLS, TILE_CELLS) bool
    bit_of_cell: np.ndarray  # (TILE_CELLS, TILE_CELLS) int, -1 on pilot cells
    whitening: np.ndarray  # (CODE_BITS,) uint8 XORed onto the codeword

    def pilot_tile(self) -> np.ndarray:
        """The zero-mean pilot template at working resolution (zero on data cells)."""
        cells = np.where(self.pilot, self.signs, 0).astype(np.float64)
        cells[self.pilot] -= cells[self.pilot].mean()
        return _to_pixels(cells)

    def data_sign_tile(self) -> np.ndarray:
        """Cell signs on data cells at working resolution (zero on pilot cells)."""
        return _to_pixels(np.where(self.pilot, 0, self.signs).astype(np.float64))

    def mark_tile(self, codeword: np.ndarray) -> np.ndarray:
        """The full +-1 tile for a codeword at working resolution."""
        chips = 1.0 - 2.0 * (codeword ^ self.whitening)  # bit 0 -> +1
        cells = self.signs * np.where(self.pilot, 1.0, chips[np.maximum(self.bit_of_cell, 0)])
        return _to_pixels(cells)


def _to_pixels(cells: np.ndarray) -> np.ndarray:
    return np.kron(cells, np.ones((CELL_PX, CELL_PX)))


@lru_cache(maxsize=16)
def layout_for_key(key: bytes, scheme: str) -> Layout:
    rng = _rng(key, scheme, "layout")
    n_cells = TILE_CELLS * TILE_CELLS
    order = rng.permutation(n_cells)
    n_data = CODE_BITS * CELLS_PER_BIT
    bit_of_cell = np.full(n_cells, -1, dtype=np.int64)
    bit_of_cell[order[:n_data]] = np.arange(n_data) % CODE_BITS
    signs = rng.choice(np.array([-1.0, 1.0]), size=n_cells)
    whitening = _rng(key, scheme, "whitening").integers(0, 2, CODE_BITS, dtype=np.uint8)
    shape = (TILE_CELLS, TILE_CELLS)
    return Layout(
        signs=signs.reshape(shape),
        pilot=(bit_of_cell < 0).reshape(shape),
        bit_of_cell=bit_of_cell.reshape(shape),
        whitening=whitening,
    )
