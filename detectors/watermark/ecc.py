"""Error correction for the 64-bit payload: BCH(127, 64), t = 10, with Chase soft decoding.

bchlib (the Linux kernel's BCH) does the algebra. Hard decoding fixes up to 10 wrong bits of 127;
the Chase-II loop also tries flipping the least reliable bits first, which rescues words with a
few more errors when the detector says which bits it is unsure of. Among the codewords found the
one that best agrees with the soft values wins (maximum likelihood over the candidates).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import bchlib
import numpy as np

from detectors.errors import WatermarkError

__all__ = ["PAYLOAD_BITS", "CODE_BITS", "CodeWord", "bch_encode", "bch_decode"]

PAYLOAD_BITS = 64
_T, _M = 10, 7
CODE_BITS = 127  # 64 data bits + 63 parity bits
_CHASE_BITS = 7  # flips the 7 least reliable bits: 128 hard decodes at most


@lru_cache(maxsize=1)
def _bch() -> bchlib.BCH:
    bch = bchlib.BCH(_T, m=_M)
    if PAYLOAD_BITS + bch.ecc_bits != CODE_BITS:  # guards a bchlib change of polynomial
        raise WatermarkError(f"unexpected BCH layout: {bch.ecc_bits} parity bits")
    return bch


@dataclass(frozen=True)
class CodeWord:
    payload: bytes
    bits: np.ndarray  # (127,) uint8, the corrected codeword
    errors: int  # hard-decision bits that disagreed with the codeword


def bch_encode(payload: bytes) -> np.ndarray:
    """The 127 codeword bits (payload bits first, then parity) as uint8."""
    if len(payload) * 8 != PAYLOAD_BITS:
        raise WatermarkError(f"payload must be {PAYLOAD_BITS // 8} bytes, got {len(payload)}")
    ecc = _bch().encode(bytes(payload))
    bits = np.unpackbits(np.frombuffer(bytes(payload) + bytes(ecc), dtype=np.uint8))
    return bits[:CODE_BITS].copy()


def _hard_decode(bits: np.ndarray) -> np.ndarray | None:
    bch = _bch()
    pad = np.zeros(PAYLOAD_BITS + 8 * bch.ecc_bytes - CODE_BITS, np.uint8)  # ecc bytes hold 63 of 72 bits
    packed = np.packbits(np.concatenate([bits, pad]))
    data, ecc = bytearray(packed[:8].tobytes()), bytearray(packed[8:].tobytes())
    if bch.decode(data, ecc) < 0:
        return None
    bch.correct(data, ecc)
    fixed = np.unpackbits(np.frombuffer(bytes(data) + bytes(ecc), dtype=np.uint8))[:CODE_BITS]
    return fixed if np.array_equal(bch_encode(bytes(data)), fixed) else None


def bch_decode(llr: np.ndarray) -> CodeWord | None:
    """Decode soft values (positive means bit 0 is likelier); None when no codeword fits."""
    llr = np.asarray(llr, dtype=np.float64)
    if llr.shape != (CODE_BITS,):
        raise WatermarkError(f"expected {CODE_BITS} soft bits, got shape {llr.shape}")
    hard = (llr < 0).astype(np.uint8)
    weakest = np.argsort(np.abs(llr))[:_CHASE_BITS]
    best: tuple[float, np.ndarray] | None = None
    seen: set[bytes] = set()
    for flips in itertools.product((0, 1), repeat=_CHASE_BITS):
        trial = hard.copy()
        trial[weakest] ^= np.array(flips, dtype=np.uint8)
        word = _hard_decode(trial)
        if word is None or word.tobytes() in seen:
            continue
        seen.add(word.tobytes())
        # Correlation of the candidate with the soft values: the ML choice among candidates.
        metric = float(np.sum(llr * (1.0 - 2.0 * word)))
        if best is None or metric > best[0]:
            best = (metric, word)
    if best is None:
        return None
    word = best[1]
    payload = np.packbits(word[:PAYLOAD_BITS]).tobytes()
    return CodeWord(payload=payload, bits=word, errors=int(np.sum(word != hard)))
