"""The watermark benchmark's measurements: robustness over the attack suite, the null study
(false positives), single-core speed and the strength curve."""

from __future__ import annotations

import math
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from detectors.video_io import read_frames, write_video
from detectors.watermark.layout import TILE_PX, working_size
from detectors.watermark.readout import templates_for_key
from detectors.watermark.search import Hypothesis, correlate, fold, standardise, warp
from detectors.watermark.spread_spectrum import NULL_Z_SCALE, PictureSums, whitened_residual
from watermark.attacks import Attack, attack_named, crop_area, encode, resize
from watermark.clips import CLIPS, FPR, KEY, PAYLOAD, Clip, Frames
from watermark.metrics import bit_accuracy, quality


@dataclass
class Row:
    clip: str
    attack: str
    detected: bool
    payload_ok: bool
    p_value: float
    z: float
    bit_acc: float | None
    frames: int
    geometry: str
    extra: dict = field(default_factory=dict)


def run_robustness(
    scheme, clips: list[Clip], strength: float | None, attacks: list[Attack], log
) -> tuple[list[Row], dict]:
    rows, qualities = [], {}
    for clip in clips:
        marked = list(scheme.embed(clip.frames, payload=PAYLOAD, key=KEY, strength=strength))
        qualities[clip.name] = quality(clip.frames, marked)
        for attack in attacks:
            rng = np.random.default_rng(zlib.crc32(f"{clip.name}/{attack.name}".encode()))
            attacked = attack.apply(marked, clip.fps, rng)
            det = scheme.detect(attacked, key=KEY)
            row = Row(
                clip.name,
                attack.name,
                det.detected,
                det.payload == PAYLOAD,
                det.p_value,
                det.score,
                bit_accuracy(det.details.get("raw_payload_bits"), PAYLOAD),
                det.frames_used,
                det.details.get("geometry", ""),
            )
            rows.append(row)
            log(
                f"  {clip.name:22s} {attack.name:32s} det={row.detected!s:5s} payload={row.payload_ok!s:5s} "
                f"z={row.z:6.2f} p={row.p_value:.1e} bits={row.bit_acc} [{row.geometry}]"
            )
    return rows, qualities


def null_study(scheme, clips: list[Clip], keys: int, log) -> dict:
    """Unmarked clips, attacked unmarked clips and wrong keys through the full detector."""
    variants: list[tuple[str, Frames]] = []
    rng = np.random.default_rng(11)
    for clip in clips:
        variants.append((f"{clip.name}", clip.frames))
        variants.append((f"{clip.name}/crf28", encode(clip.frames, clip.fps, crf=28)))
        variants.append((f"{clip.name}/down50+crf28", encode(resize(clip.frames, 0.5), clip.fps, crf=28)))
        variants.append((f"{clip.name}/crop70", crop_area(clip.frames, 0.7, rng)))
        marked = list(scheme.embed(clip.frames, payload=PAYLOAD, key=KEY))
        variants.append((f"{clip.name}/marked-other-key", encode(marked, clip.fps, crf=23)))
    accumulators = [(name, PictureSums.of(frames)) for name, frames in variants]
    p_values, z_aligned, z_search, per_shift = [], [], [], []
    by_sum: dict[str, list[np.ndarray]] = {}  # per-shift scores of each picture-type sum, embedded geometry
    detections = 0
    started = time.process_time()
    for k in range(keys):
        key = rng.bytes(32)
        templates = templates_for_key(key, scheme.name)
        for _name, sums in accumulators:
            det = scheme.analyse(sums.total, templates, sums.count, subsets=sums.subsets())
            detections += det.detected
            p_values.append(det.p_value)
            z_aligned.append(det.details["z_embedded_geometry"])
            z_search.append(det.details["z_search"])
            if k < 8:  # raw per-shift scores of a few hypotheses: millions of null samples for the tail
                for hyp in (Hypothesis(), Hypothesis(1.1, 1.0), Hypothesis(0.8, -0.6, True)):
                    corr = correlate(fold(warp(sums.total, hyp)), templates.pilot_fft)
                    per_shift.append(standardise(corr).ravel())
                for name, summed, _count in sums.subsets():
                    corr = correlate(fold(summed), templates.pilot_fft)
                    by_sum.setdefault(name, []).append(standardise(corr).ravel())
    runs = keys * len(accumulators)
    log(
        f"  null study: {runs} detections ({len(accumulators)} clip variants x {keys} keys), "
        f"{detections} false positives, {time.process_time() - started:.0f} s CPU"
    )
    grid = scheme.grid
    n_search = grid.fine_count() * TILE_PX * TILE_PX
    from scipy.stats import norm

    share = FPR / 2 / 2  # first look, half to each side
    return {
        "runs": runs,
        "false_positives": int(detections),
        "variants": [v[0] for v in variants],
        "keys": keys,
        "z_aligned": z_aligned,
        "z_search": z_search,
        "p_values": p_values,
        "per_shift": np.concatenate(per_shift) if per_shift else np.zeros(0),
        "per_shift_by_sum": {name: tail(np.concatenate(chunks)) for name, chunks in by_sum.items()},
        "n_search_hypotheses": n_search,
        "threshold_aligned": float(norm.isf(share / 2)) * NULL_Z_SCALE,
        "threshold_search": float(norm.isf(share / n_search)) * NULL_Z_SCALE,
    }


def tail(samples: np.ndarray) -> dict:
    return {
        "n": int(samples.size),
        "max": float(samples.max()),
        "p_over_4": float(np.mean(samples > 4)),
        "p_over_5": float(np.mean(samples > 5)),
    }


def timing(scheme, log) -> dict:
    """Single-thread CPU time per frame for the watermark math, and for decode / encode apart."""
    cv2.setNumThreads(1)
    out = {}
    rng = np.random.default_rng(3)
    source = [f for f in read_frames(CLIPS / "penguins_ai_1080p.mp4", max_frames=24)]
    for w, h in ((1280, 720), (1920, 1080)):
        frames = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in source]
        list(scheme.embed(frames[:2], payload=PAYLOAD, key=KEY))  # warm caches (pattern, layout)
        best_embed, best_detect, best_coded = math.inf, math.inf, math.inf
        for _ in range(3):
            t = time.process_time()
            marked = list(scheme.embed(frames, payload=PAYLOAD, key=KEY))
            best_embed = min(best_embed, (time.process_time() - t) / len(frames))
            t = time.process_time()
            for f in marked:
                whitened_residual(f)
            best_detect = min(best_detect, (time.process_time() - t) / len(frames))
            # As when reading a file: picture types known, so the I / I+P sums and the motion-
            # compensated innovations of predicted pictures are kept as well.
            t = time.process_time()
            sums = PictureSums(working_size(h, w))
            for index, f in enumerate(marked):
                sums.add_frame(f, "I" if index == 0 else "P")
            best_coded = min(best_coded, (time.process_time() - t) / len(frames))
        t = time.process_time()
        scheme.analyse(
            sum(whitened_residual(f).astype(np.float64) for f in marked[:4]), templates_for_key(KEY, scheme.name), 4
        )
        analyse_s = time.process_time() - t - 4 * best_detect
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.mp4"
            t = time.process_time()
            write_video(path, marked, fps=24, crf=18, preset="medium")
            enc = (time.process_time() - t) / len(marked)
            t = time.process_time()
            n = sum(1 for _ in read_frames(path))
            dec = (time.process_time() - t) / n
        out[f"{w}x{h}"] = {
            "embed_fps": 1 / best_embed,
            "detect_fps": 1 / best_detect,
            "detect_coded_fps": 1 / best_coded,
            "analyse_s": analyse_s,
            "h264_encode_fps": 1 / enc,
            "decode_fps": 1 / dec,
        }
        log(
            f"  {w}x{h}: embed {1 / best_embed:.0f} fps, detect {1 / best_detect:.0f} fps "
            f"({1 / best_coded:.0f} fps with picture sums and innovations) "
            f"(+{analyse_s:.2f} s per look for the search), H.264 encode {1 / enc:.0f} fps, decode {1 / dec:.0f} fps"
        )
    cv2.setNumThreads(0)
    del rng
    return out


def strength_curve(scheme, clip: Clip, strengths: list[float], log) -> list[dict]:
    rows = []
    for s in strengths:
        marked = list(scheme.embed(clip.frames, payload=PAYLOAD, key=KEY, strength=s))
        q = quality(clip.frames, marked)
        entry = {"strength": s, "psnr_y": q["psnr_y"], "psnr_rgb": q["psnr_rgb"], "ssim": q["ssim_y"]}
        for name in ("H.264 CRF 28", "downscale 50% + H.264 CRF 28"):
            attack = attack_named(name)
            det = scheme.detect(attack.apply(marked, clip.fps, np.random.default_rng(0)), key=KEY)
            entry[name] = {
                "z": det.score,
                "ok": det.detected and det.payload == PAYLOAD,
                "bit_acc": bit_accuracy(det.details.get("raw_payload_bits"), PAYLOAD),
            }
        rows.append(entry)
        log(
            f"  strength {s:.2f}: PSNR Y {q['psnr_y']:.1f} dB, SSIM {q['ssim_y']:.4f}, "
            + ", ".join(f"{k}: z {v['z']:.1f} ok={v['ok']}" for k, v in entry.items() if isinstance(v, dict))
        )
    return rows
