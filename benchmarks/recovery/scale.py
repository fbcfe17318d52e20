"""Speed parts of the recovery benchmark: the watermark detector end to end at 720p, and one
10 s query against the fingerprints of 1M generated clips (synthetic codes for the fill)."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from recovery import data

bw = data.bw
MILLION = 1_000_000


def detect_speed(scheme, key: bytes, frames: int = 48) -> dict:
    """CPU seconds (all threads of this process) for ``detect`` on an H.264 720p file, end to end
    (decode, residuals, picture sums, search, readout), beside its parts. Best of two runs."""
    from detectors.video_io import read_coded_frames, read_frames, write_video
    from detectors.watermark.spread_spectrum import whitened_residual

    source = [
        cv2.resize(f, (1280, 720), interpolation=cv2.INTER_AREA)
        for f in read_frames(bw.CLIPS / "penguins_ai_1080p.mp4", max_frames=frames)
    ]
    marked = list(scheme.embed(source, payload=b"\x01" * 8, key=key))
    out: dict = {"frames": frames, "size": "1280x720"}
    with tempfile.TemporaryDirectory() as tmp:
        for label, clip in (("marked", marked), ("unmarked", source)):
            path = write_video(Path(tmp) / f"{label}.mp4", clip, fps=24, crf=23)
            best = math.inf
            for _ in range(2):
                t0 = time.process_time()
                det = scheme.detect(read_coded_frames(path), key=key)
                best = min(best, time.process_time() - t0)
            out[f"end_to_end_{label}_cpu_s"] = best
            out[f"end_to_end_{label}_fps"] = det.frames_used / best
            out[f"{label}_detected"] = bool(det.detected)
        t0 = time.process_time()
        n = sum(1 for _ in read_coded_frames(path))
        out["decode_fps"] = n / (time.process_time() - t0)
    t0 = time.process_time()
    for frame in marked:
        whitened_residual(frame)
    out["core_residual_fps"] = len(marked) / (time.process_time() - t0)
    return out


def _rows_per_second(clips: list[data.Clip]) -> float:
    from detectors.fingerprints.extract import extract
    from governance.records.registry.own import OWN_EXTRACT

    rows = seconds = 0.0
    for clip in clips:
        fp = extract(clip.frames, fps=clip.fps, config=OWN_EXTRACT)
        rows += len(fp.pdq)
        seconds += len(clip.frames) / clip.fps
    return rows / seconds


def scale_run(ours: list[data.Clip], log) -> dict:
    """1M generated clips of 10 s in the own-output PDQ index (MIH, as ``KindIndex`` builds it
    above 2M rows), plus the true source; one 10 s query, H.264 CRF 28 at 720p, timed end to end:
    probe + decode + fingerprint, then index search + alignment + decision."""
    from bench_registry import rss_mb, synthetic_codes

    from detectors.fingerprints.extract import extract
    from detectors.fingerprints.index import MultiIndexHashing
    from detectors.video_io import read_frames, write_video
    from governance.records.registry.index_store import ROW_BITS, KindIndex, SetInfo
    from governance.records.registry.matching import MatchConfig, pdq_evidence
    from governance.records.registry.own import OWN_EXTRACT
    from governance.records.registry.service import fingerprint_file, query_config

    rate = _rows_per_second(ours)
    per_clip = max(1, int(round(rate * 10)))
    total = MILLION * per_clip
    log(f"scale: {rate:.2f} PDQ rows per second of our clips -> {per_clip} rows per 10 s clip, {total:,} rows")
    before = rss_mb()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = KindIndex("pdq", Path(tmp), allow_mih=True)
        store.index = MultiIndexHashing()
        rows = np.arange(per_clip, dtype=np.int64)
        frames_meta = np.arange(per_clip, dtype=np.int32)
        times = np.stack([rows * 10.0 / per_clip, (rows + 1) * 10.0 / per_clip], axis=1).astype(np.float32)
        chunk = 100_000  # clips per add
        for start in range(0, MILLION, chunk):
            fids = np.arange(start + 1, start + chunk + 1, dtype=np.int64)
            ids = ((fids[:, None] << ROW_BITS) + rows[None, :]).ravel()
            store.index.add(synthetic_codes(len(ids), start), ids)
            for fid in fids.tolist():  # the per-set metadata the decision reads (shared arrays)
                store.sets[fid] = SetInfo(fid, fid, f"w{fid}", "video", frames_meta, times, None)
        source = [
            cv2.resize(f, (1280, 720), interpolation=cv2.INTER_AREA)
            for f in read_frames(bw.CLIPS / "penguins_ai_1080p.mp4", max_frames=240)
        ]
        true_fp = extract(source, fps=24.0, config=OWN_EXTRACT)
        true_id = MILLION + 1
        store.index.add(
            true_fp.pdq.codes, (np.int64(true_id) << ROW_BITS) + np.arange(len(true_fp.pdq), dtype=np.int64)
        )
        store.sets[true_id] = SetInfo(
            true_id, true_id, "source", "video", true_fp.pdq.frame.astype(np.int32), true_fp.pdq_times, None
        )
        store.index.build()
        build_s = time.perf_counter() - t0
        memory = rss_mb() - before
        log(f"scale: built {len(store.index):,} rows in {build_s:.0f} s, +{memory:.0f} MB")
        query = write_video(Path(tmp) / "query.mp4", source, fps=24.0, crf=28, preset="veryfast")
        runs = []
        for _ in range(3):
            w0, c0 = time.perf_counter(), time.process_time()
            clip, _ = fingerprint_file(query, query_config(10.0), max_pixels=3840 * 2160)
            w1, c1 = time.perf_counter(), time.process_time()
            evidence = pdq_evidence(store, clip, MatchConfig())
            best = max(evidence, key=lambda e: e.coverage * e.alignment.similarity, default=None)
            w2, c2 = time.perf_counter(), time.process_time()
            runs.append(
                {
                    "fingerprint_wall_s": w1 - w0,
                    "fingerprint_cpu_s": c1 - c0,
                    "search_wall_s": w2 - w1,
                    "search_cpu_s": c2 - c1,
                    "total_wall_s": w2 - w0,
                    "found": best.work_id if best else None,
                    "candidates": len(evidence),
                }
            )
            log(f"scale: query {runs[-1]}")
    median = {k: float(np.median([r[k] for r in runs])) for k in runs[0] if k.endswith("_s")}
    return {
        "clips": MILLION,
        "rows_per_clip": per_clip,
        "rows": total + len(true_fp.pdq),
        "build_s": build_s,
        "memory_mb": memory,
        "runs": runs,
        "median": median,
        "found_true_source": all(r["found"] == "source" for r in runs),
        "query": "penguins 10 s, 1280x720, H.264 CRF 28 (veryfast), fingerprinted at query_config(10 s)",
    }
