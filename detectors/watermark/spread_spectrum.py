"""``reelguard.ss.v1``: a keyed spread-spectrum luma mark with a calibrated pilot detector.

Embedding adds ``strength * mask * pattern`` to the luma of each frame (the same value to R, G
and B, which changes Y and leaves chroma alone). The pattern is the keyed tile (see ``layout``)
repeated over a working grid whose scale follows the picture height, upsampled smoothly to the
frame. The mask follows local texture, so flat sky carries less than foliage, backs off in
near-black areas, and is normalised so that ``strength`` is the RMS change in 8-bit luma levels
(1.4 is about 45 dB PSNR).

Detection turns each frame into a whitened residual on the working grid (high-pass luma weighted
as a matched filter, see ``_residual``), sums the residuals over frames (also over the intra
pictures and over temporal innovations when the codec's picture types are known), and looks for
the pilot (see ``search``):
first at the embedded geometry, then over crops, scales, small rotations and a mirror. The mark
is declared present when the union-bound p-value is at most ``false_positive_rate``; only then is
the payload read from the data cells and decoded by the BCH code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

import cv2
import numpy as np
from scipy.special import expit, log_ndtr

from detectors.errors import WatermarkError
from detectors.video_io import CodedFrame
from detectors.watermark.base import DEFAULT_SCHEME, Detection, WatermarkScheme
from detectors.watermark.ecc import CODE_BITS, PAYLOAD_BITS, bch_decode, bch_encode
from detectors.watermark.innovation import InnovationSum
from detectors.watermark.layout import TILE_PX, layout_for_key, working_size
from detectors.watermark.readout import Readout, Templates, read_peak, templates_for_key
from detectors.watermark.search import SEARCH_GRID, Hypothesis, SearchGrid, coarse_starts, peak_of, refine

__all__ = ["SpreadSpectrumV1", "PictureSums", "PICTURE_SUBSETS", "unwrap_frame"]

MIN_SIDE = 96  # pixels; below this a frame has fewer cells than one tile needs
DEFAULT_STRENGTH = 1.4
MAX_STRENGTH = 16.0
FLAT_FLOOR = 2.0  # luma levels: the texture floor that keeps flat areas marked, and whitening stable
MASK_CAP = 3.0  # no pixel gets more than 3x the frame's RMS strength
MASK_GAMMA = 0.25  # mask ~ activity^0.25: textures carry more, flat areas keep enough to survive
# Near black, a change of a level or two costs the most (SSIM's luminance term divides by the
# local mean squared, and the eye sees relative contrast): the mask falls linearly below a local
# mean of DARK_LEVEL, to DARK_FLOOR of itself. pan-astronaut (dark background): SSIM 0.9897 ->
# 0.9930, robustness within the run-to-run spread of the encoder (chosen among 7 settings).
DARK_LEVEL = 10.0
DARK_FLOOR = 0.4
HP_SIGMA = 0.6  # working pixels: the detector's high-pass keeps the cell-scale band
FIRST_CHECK = 64  # frames before the first early-stopping look; then at every doubling
NULL_Z_SCALE = 1.1  # z is deflated: re-scored null z spread up to ~1.06-1.10 on other-key clips (benchmark)


def _validate_frame(frame: object, index: int, *, embedding: bool) -> np.ndarray:
    array = np.asarray(frame)
    if embedding:
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise WatermarkError(
                f"frame {index}: embedding needs (H, W, 3) uint8 RGB frames, got {array.dtype} {array.shape}"
            )
    else:
        array = _as_rgb(array, index)
    height, width = array.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise WatermarkError(f"frame {index} is {width}x{height}; the watermark needs at least {MIN_SIDE}x{MIN_SIDE}")
    if working_size(height, width)[1] < TILE_PX:
        raise WatermarkError(f"frame {index} is {width}x{height}: too narrow for the watermark tile")
    return array


def _as_rgb(array: np.ndarray, index: int) -> np.ndarray:
    """Accept grayscale, RGBA, 16-bit and float frames for detection (the mark lives in luma)."""
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise WatermarkError(f"frame {index}: unsupported dtype {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise WatermarkError(f"frame {index}: expected (H, W, 3) RGB, got shape {array.shape}")
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[:, :, :3])


def _working_luma(frame: np.ndarray) -> np.ndarray:
    rows, cols = working_size(*frame.shape[:2])
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return cv2.resize(gray, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)


def _activity(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(local mean, local standard deviation floored so flat areas stay finite) over 5x5 working px."""
    mean = cv2.boxFilter(luma, -1, (5, 5), borderType=cv2.BORDER_REFLECT)
    mean_sq = cv2.boxFilter(luma * luma, -1, (5, 5), borderType=cv2.BORDER_REFLECT)
    return mean, np.sqrt(np.maximum(mean_sq - mean * mean, 0.0) + FLAT_FLOOR**2)


def _mark_weight(mean: np.ndarray, activity: np.ndarray) -> np.ndarray:
    """The embedder's mask before normalisation: the mark's expected local amplitude, up to scale."""
    return cv2.pow(activity, MASK_GAMMA) * np.clip(mean * (1.0 / DARK_LEVEL), DARK_FLOOR, 1.0)


def whitened_residual(frame: np.ndarray) -> np.ndarray:
    """High-pass working luma, weighted as a matched filter: the per-frame detection statistic."""
    return _residual(_working_luma(frame))


def _residual(luma: np.ndarray) -> np.ndarray:
    # Matched filter: weight each pixel by the mark's expected amplitude over the content's
    # residual variance (~ activity^2). Against the plain 1/activity on the benchmark's compressed
    # pans: z +14 to +55 % (pan-astronaut, crop 70 % + CRF 28: 7.3 -> 11.3), the null's spread over
    # 150 wrong keys unchanged.
    high = luma - cv2.GaussianBlur(luma, (0, 0), HP_SIGMA, borderType=cv2.BORDER_REFLECT)
    mean, activity = _activity(luma)
    return high * _mark_weight(mean, activity) / (activity * activity)


@lru_cache(maxsize=4)
def _frame_pattern(key: bytes, scheme: str, payload: bytes, height: int, width: int) -> np.ndarray:
    """The unit-RMS mark pattern at frame resolution (float32), cached per clip geometry."""
    tile = layout_for_key(key, scheme).mark_tile(bch_encode(payload))
    rows, cols = working_size(height, width)
    reps = (-(-rows // TILE_PX), -(-cols // TILE_PX))
    work = np.tile(tile, reps)[:rows, :cols].astype(np.float32)
    pattern = np.asarray(cv2.resize(work, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32)
    pattern /= float(np.sqrt(np.mean(pattern.astype(np.float64) ** 2)))
    pattern.setflags(write=False)
    return pattern


# Sums over fewer frames, by the codec's picture type. At high compression a smooth camera pan
# keeps the (static) mark mostly in intra pictures: B pictures are predicted from their moving
# neighbours and re-code too little to carry it, so summing them only adds noise (measured on
# the benchmark's pans: intra picture alone z 6.4-11.3, all 48 frames 1.6-7.0).
PICTURE_SUBSETS: dict[str, frozenset[str] | None] = {
    "all": None,
    "I+P": frozenset({"I", "P"}),
    "I": frozenset({"I"}),
}


class PictureSums:
    """Whitened residuals summed over all frames, over the I+P and I pictures, and the temporal
    innovations of predicted pictures (see ``innovation``)."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.totals = {name: np.zeros(shape, np.float64) for name in PICTURE_SUBSETS}
        self.counts = dict.fromkeys(PICTURE_SUBSETS, 0)
        self.innovations = InnovationSum(shape)

    def add_frame(self, frame: np.ndarray, picture_type: str | None) -> None:
        luma = _working_luma(frame)
        residual = _residual(luma)
        self.add(residual, picture_type)
        if picture_type is not None:  # bare arrays: no codec, no prediction to undo
            self.innovations.add(luma, residual, picture_type)

    def add(self, residual: np.ndarray, picture_type: str | None) -> None:
        for name, types in PICTURE_SUBSETS.items():
            if types is None or picture_type in types:
                self.totals[name] += residual
                self.counts[name] += 1

    @classmethod
    def of(cls, frames: Iterable[np.ndarray | CodedFrame]) -> PictureSums:
        """The sums over a whole clip (no validation, no early stop: for studies of the null)."""
        sums: PictureSums | None = None
        for raw in frames:
            frame, kind = unwrap_frame(raw)
            if sums is None:
                sums = cls(working_size(*frame.shape[:2]))
            sums.add_frame(frame, kind)
        if sums is None:
            raise WatermarkError("no frames to sum")
        return sums

    @property
    def total(self) -> np.ndarray:
        return self.totals["all"]

    @property
    def count(self) -> int:
        return self.counts["all"]

    def subsets(self) -> list[tuple[str, np.ndarray, int]]:
        """The sums worth testing besides the all-frame one: non-empty, not the same frames as a
        wider one, and the intra pictures joined with the innovations when both exist."""
        out, seen = [], {self.count}
        for name in ("I", "I+P"):  # narrowest first: with no P pictures, I+P is the I sum again
            if self.counts[name] and self.counts[name] not in seen:
                out.append((name, self.totals[name], self.counts[name]))
                seen.add(self.counts[name])
        intra, fresh = self.totals["I"], self.innovations.total
        if self.counts["I"] and self.innovations.count:
            # Each part scaled to unit RMS (key-free weights), so neither drowns the other.
            joined = intra / _rms(intra) + fresh / _rms(fresh)
            out.append(("I+innovation", joined, self.counts["I"] + self.innovations.count))
        return out


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values * values))) or 1.0


def unwrap_frame(raw: np.ndarray | CodedFrame) -> tuple[np.ndarray, str | None]:
    """(pixels, picture type or None when unknown) of a frame handed to the detector."""
    return (raw.frame, raw.picture_type) if isinstance(raw, CodedFrame) else (raw, None)


def _size_changed(index: int, frame: np.ndarray, size: tuple[int, int]) -> WatermarkError:
    return WatermarkError(f"frame {index} is {frame.shape[1]}x{frame.shape[0]} but the clip is {size[1]}x{size[0]}")


class SpreadSpectrumV1(WatermarkScheme):
    name = DEFAULT_SCHEME
    payload_bits = PAYLOAD_BITS
    false_positive_rate = 1e-6
    default_strength = DEFAULT_STRENGTH

    def __init__(self, *, grid: SearchGrid = SEARCH_GRID, search_enabled: bool = True) -> None:
        self.grid = grid
        self.search_enabled = search_enabled

    # ----------------------------------------------------------------- embedding
    def embed(
        self,
        frames: Iterable[np.ndarray],
        *,
        payload: bytes,
        key: bytes,
        strength: float | None = None,
    ) -> Iterator[np.ndarray]:
        payload = self.check_payload(payload)
        key = self.check_key(key)
        strength = DEFAULT_STRENGTH if strength is None else float(strength)
        if not (0.0 < strength <= MAX_STRENGTH) or not math.isfinite(strength):
            raise WatermarkError(f"strength must be in (0, {MAX_STRENGTH}] luma levels, got {strength}")
        return self._embed_stream(frames, payload, key, strength)

    def _embed_stream(
        self, frames: Iterable[np.ndarray], payload: bytes, key: bytes, strength: float
    ) -> Iterator[np.ndarray]:
        size: tuple[int, int] | None = None
        for index, raw in enumerate(frames):
            frame = _validate_frame(raw, index, embedding=True)
            if size is None:
                size = frame.shape[:2]
            elif frame.shape[:2] != size:
                raise _size_changed(index, frame, size)
            yield self.embed_frame(frame, _frame_pattern(key, self.name, payload, *size), strength)

    @staticmethod
    def embed_frame(frame: np.ndarray, pattern: np.ndarray, strength: float) -> np.ndarray:
        """Mark one frame with a precomputed pattern (the hot loop: cv2 only, no float RGB)."""
        height, width = frame.shape[:2]
        activity = _mark_weight(*_activity(_working_luma(frame)))
        mask = np.minimum(activity / float(np.sqrt(np.mean(activity * activity))), MASK_CAP)
        mask *= strength / float(np.sqrt(np.mean(mask * mask)))
        delta = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
        delta *= pattern
        up = cv2.convertScaleAbs(np.maximum(delta, 0.0))  # rounds and saturates to uint8
        down = cv2.convertScaleAbs(np.minimum(delta, 0.0))
        out = cv2.add(frame, cv2.cvtColor(up, cv2.COLOR_GRAY2RGB))
        return cv2.subtract(out, cv2.cvtColor(down, cv2.COLOR_GRAY2RGB), dst=out)

    # ----------------------------------------------------------------- detection
    def detect(
        self, frames: Iterable[np.ndarray | CodedFrame], *, key: bytes, max_frames: int | None = None
    ) -> Detection:
        key = self.check_key(key)
        if max_frames is not None and max_frames < 1:
            raise WatermarkError(f"max_frames must be at least 1, got {max_frames}")
        templates = templates_for_key(key, self.name)
        sums: PictureSums | None = None
        size: tuple[int, int] | None = None
        used, check, next_check = 0, 0, FIRST_CHECK
        result: Detection | None = None
        for index, raw in enumerate(frames):
            if max_frames is not None and used >= max_frames:
                break
            pixels, kind = unwrap_frame(raw)
            frame = _validate_frame(pixels, index, embedding=False)
            if sums is None or size is None:
                size = frame.shape[:2]
                sums = PictureSums(working_size(*size))
            elif frame.shape[:2] != size:
                raise _size_changed(index, frame, size)
            sums.add_frame(frame, kind)
            used += 1
            result = None
            if used == next_check:
                result = self.analyse(sums.total, templates, used, check, subsets=sums.subsets())
                check, next_check = check + 1, next_check * 2
                if result.detected and result.payload is not None:
                    return result  # confident: stop reading
        if sums is None:
            raise WatermarkError("no frames to look for a watermark in")
        if result is not None:
            return result
        return self.analyse(sums.total, templates, used, check, subsets=sums.subsets())

    def analyse(
        self,
        total: np.ndarray,
        templates: Templates,
        frames_used: int,
        check: int = 0,
        *,
        subsets: Sequence[tuple[str, np.ndarray, int]] = (),
    ) -> Detection:
        """Zero-bit test then payload decoding on the residual summed over frames.

        The alpha of 1e-6 is spent as alpha/2^(check+1) on the check-th early-stopping look, and
        each look splits its share equally between the embedded geometry (2 hypotheses: as is and
        mirrored) and the resynchronisation search (every fine hypothesis times every shift).
        ``subsets`` are other sums (by picture type, see ``PICTURE_SUBSETS``, and the intra pictures
        joined with the temporal innovations, see ``PictureSums.subsets``); every
        sum tested multiplies the hypotheses (Bonferroni), so the false-positive rate holds.
        Each side's best peak is re-scored without self-noise (``readout``) before its p-value.
        """
        log_share = -(check + 1) * math.log(2.0) + math.log(0.5)
        sums = [("all", total, frames_used), *subsets]
        log_tests = math.log(len(sums))
        scored = []
        # Where to climb is chosen once, on all the sums joined (they share the clip's geometry);
        # every sum then climbs from those starts. The union bound counts the whole fine lattice.
        starts = (
            coarse_starts([summed for _, summed, _ in sums], templates.pilot_fft, self.grid)
            if self.search_enabled
            else []
        )
        for sum_name, summed, count in sums:
            aligned = max(
                (peak_of(summed, Hypothesis(mirrored=m), templates.pilot_fft, at_origin=True) for m in (False, True)),
                key=lambda p: p.z,
            )
            candidates = [(aligned, 2, "embedded")]
            if self.search_enabled:
                found = refine(summed, starts, templates.pilot_fft, self.grid)
                candidates.append((found, self.grid.fine_count() * TILE_PX * TILE_PX, "resynchronised"))
            for peak, n_hypotheses, geometry in candidates:
                readout = read_peak(summed, templates, peak)
                z = readout.z / NULL_Z_SCALE
                log_p = log_tests + math.log(n_hypotheses) + float(log_ndtr(-z)) - log_share
                scored.append((log_p, peak, readout, geometry, sum_name, count))
        log_p, best, readout, geometry, sum_name, count = min(scored, key=lambda item: item[0])
        p_value = min(1.0, math.exp(log_p))
        detected = p_value <= self.false_positive_rate
        details = {
            "geometry": geometry,
            "scale": best.hypothesis.scale,
            "angle": best.hypothesis.angle,
            "aspect": best.hypothesis.aspect,
            "mirrored": best.hypothesis.mirrored,
            "shift": best.shift,
            "frames_summed": sum_name,  # all, the I / I+P pictures only, or I+innovation
            "frames_in_sum": count,
            "sums_tested": len(sums),
            "z_embedded_geometry": scored[0][2].z,  # of the all-frame sum, as before the subsets
            "z_search": scored[1][2].z if self.search_enabled else None,
            "z_by_sum": {f"{name}/{geometry_}": float(readout_.z) for _, _, readout_, geometry_, name, _ in scored},
            # hard decisions before error correction (diagnostics and bit-accuracy benchmarks)
            "raw_payload_bits": np.packbits((readout.bit_z[:PAYLOAD_BITS] < 0).astype(np.uint8)).tobytes().hex(),
        }
        payload, accuracy = None, None
        confidence: tuple[float, ...] = ()
        if detected:
            payload, confidence, accuracy, decoded = _decode(readout)
            details.update(decoded)
        return Detection(
            scheme=self.name,
            detected=detected,
            payload=payload,
            p_value=p_value,
            score=readout.z,
            bit_confidence=confidence,
            bit_accuracy_estimate=accuracy,
            frames_used=frames_used,
            details=details,
        )


def _decode(readout: Readout) -> tuple[bytes | None, tuple[float, ...], float, dict]:
    """BCH-decode the bits; confidences are posterior probabilities that each raw bit is right."""
    expected = max(abs(float(np.mean(np.abs(readout.bit_z)))), 0.5)
    llr = 2.0 * expected * readout.bit_z
    confidence = expit(np.abs(llr))
    word = bch_decode(llr)
    payload_conf = tuple(float(c) for c in confidence[:PAYLOAD_BITS])
    if word is None:
        return None, payload_conf, float(confidence.mean()), {"ecc": "failed"}
    info = {"ecc": "decoded", "bit_errors_corrected": word.errors}
    return word.payload, payload_conf, 1.0 - word.errors / CODE_BITS, info
