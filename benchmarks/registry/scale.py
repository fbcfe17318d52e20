"""Scale measurements of the registry benchmark: PDQ search over 1M / 10M synthetic fingerprints
(multi-index hashing vs exact flat scan), the 60 s query end to end, and the brute-force layout
comparison's cost. ``rss_mb`` and ``synthetic_codes`` are also used by the recovery benchmark."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from detectors.fingerprints.index import FlatIndex, MultiIndexHashing
from detectors.video_io import read_frames, write_video
from registry.data import FPS, REAL_CLIPS, H, W, real_clip, still_clip


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def synthetic_codes(n: int, seed: int) -> np.ndarray:
    """Synthetic fill: random 256-bit codes in runs of near-duplicates, like pruned video frames."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n // 8 + 1, 32), np.uint8)
    codes = np.repeat(base, 8, axis=0)[:n]
    noise = rng.random((n, 256)) < 0.06  # ~15 bits apart within a run
    return codes ^ np.packbits(noise, axis=1)


def run_scale(query_codes: np.ndarray, sizes: list[int], *, flat_max: int) -> list[dict]:
    out = []
    for n in sizes:
        for kind in ("mih", "flat"):
            if kind == "flat" and n > flat_max:
                continue
            before = rss_mb()
            t0 = time.perf_counter()
            index = MultiIndexHashing() if kind == "mih" else FlatIndex()
            chunk = 1_000_000
            for s in range(0, n, chunk):
                index.add(synthetic_codes(min(chunk, n - s), s), np.arange(s, min(n, s + chunk)))
            index.add(query_codes[::2], np.arange(n, n + len(query_codes[::2])))  # plant true matches
            index.build()  # MIH sorts its tables here; the search below is the query cost alone
            build = time.perf_counter() - t0
            runs = []
            for _ in range(3):  # median of three: the machine is shared
                t0 = time.perf_counter()
                hits = index.search(query_codes, 31)
                runs.append(time.perf_counter() - t0)
            search = float(np.median(runs))
            mem = rss_mb() - before
            print(
                f"  {kind} n={n:,}: build {build:.1f} s, search {len(query_codes)} codes {search:.2f} s "
                f"(runs {', '.join(f'{r:.2f}' for r in runs)}), +{mem:.0f} MB, hits {len(hits)}",
                flush=True,
            )
            out.append(
                {
                    "kind": kind,
                    "n": n,
                    "build_s": build,
                    "search_s": search,
                    "search_runs_s": runs,
                    "queries": len(query_codes),
                    "memory_mb": mem,
                    "hits": len(hits),
                }
            )
            del index
    return out


def sixty_second_query(tmp: Path, works: list[Path]) -> Path:
    frames = []
    for p in works:
        frames += [cv2.resize(f, (W, H)) for f in read_frames(p)]
        if len(frames) >= 60 * FPS:
            break
    return write_video(tmp / "q60.mp4", frames[: int(60 * FPS)], fps=FPS, crf=23, preset="veryfast")


def scale_only(out: Path, quick: bool) -> int:
    """Fingerprint a real 60 s query (the shared clips, looped) and time its PDQ search."""
    from governance.records.registry.service import fingerprint_file, query_config

    with tempfile.TemporaryDirectory(prefix="bench_registry_") as tmp_s:
        tmp = Path(tmp_s)
        frames: list[np.ndarray] = []
        while len(frames) < 60 * FPS:
            for name in REAL_CLIPS:
                frames += list(real_clip(name)[0])
        q60 = write_video(tmp / "q60.mp4", frames[: int(60 * FPS)], fps=FPS, crf=23, preset="veryfast")
        del frames
        t0 = time.perf_counter()
        clip, _ = fingerprint_file(q60, query_config(60.0), max_pixels=W * H * 4)
        extract_s = time.perf_counter() - t0
        print(f"60 s query: {len(clip.pdq)} PDQ codes (with mirror), fingerprinted in {extract_s:.2f} s", flush=True)
        sizes = [1_000_000] if quick else [1_000_000, 10_000_000]
        scale = run_scale(clip.pdq.codes, sizes, flat_max=10_000_000)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(
        json.dumps({"extract_60s_s": extract_s, "query_codes": len(clip.pdq), "scale": scale}, indent=1)
    )
    return 0


def layout_scale(out: Path) -> int:
    """Time the brute-force layout comparison: 10 query keyframes against N flat reference
    keyframes (random smooth fields), through the registry's own ``layout_evidence``."""
    from detectors.fingerprints.extract import QUERY, extract
    from detectors.fingerprints.layout import LayoutFingerprint, Thumbnail, prepare_reference
    from governance.records.registry import MatchConfig
    from governance.records.registry.index_store import LayoutStore, SetInfo
    from governance.records.registry.matching import layout_evidence

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) / W

    def field():
        return np.clip(
            np.stack(
                [
                    128
                    + sum(
                        a * np.cos(2 * np.pi * (fx * xx + fy * yy) + ph)
                        for a, fx, fy, ph in zip(
                            rng.uniform(20, 60, 3),
                            rng.uniform(0.2, 1.2, 3),
                            rng.uniform(0.2, 1.2, 3),
                            rng.uniform(0, 6.3, 3),
                            strict=True,
                        )
                    )
                    for _ in range(3)
                ],
                axis=2,
            ),
            0,
            255,
        ).astype(np.uint8)

    fp = LayoutFingerprint(strip_borders=False)
    query = extract(still_clip("astronaut", seconds=10.0), fps=FPS, config=QUERY)
    rows = []
    for n in (10, 100, 1000):
        store = LayoutStore(Path(tempfile.gettempdir()))
        thumbs = [prepare_reference(Thumbnail.from_code(fp.hash_frame(field()).codes[0], W / H)) for _ in range(n)]
        store.references = {1: thumbs}
        store.sets = {
            1: SetInfo(
                1,
                1,
                "w",
                "video",
                np.arange(n, dtype=np.int32),
                np.stack([np.arange(n), np.arange(n) + 1], 1).astype(np.float32),
                None,
            )
        }
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            layout_evidence(store, query, MatchConfig())
            times.append(time.perf_counter() - t0)
        rows.append(
            {"flat_reference_keyframes": n, "query_keyframes": len(query.layout), "seconds": float(np.median(times))}
        )
        print(
            f"layout: {len(query.layout)} query keyframes x {n} flat reference keyframes: "
            f"{rows[-1]['seconds']:.3f} s (median of 3)",
            flush=True,
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "layout-scale.json").write_text(json.dumps(rows, indent=1))
    return 0


def end_to_end_60s(tmp: Path, registry) -> dict[str, float]:
    """A 60 s query made of the reference files, fingerprinted and matched against the
    benchmark's registry (seconds; wall clock on a shared machine)."""
    from governance.records.registry.service import fingerprint_file, query_config

    q60 = sixty_second_query(tmp, sorted(tmp.glob("ref_*.mp4")))
    t0 = time.perf_counter()
    clip, _ = fingerprint_file(q60, query_config(60.0), max_pixels=W * H * 4)
    extract_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    registry.match_fingerprints(clip)
    return {"extract_s": extract_s, "total_s": extract_s + time.perf_counter() - t0, "pdq_codes": float(len(clip.pdq))}
