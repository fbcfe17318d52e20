"""Protected-material registry benchmark: transform-suite recall and false matches against pHash,
PDQ and vPDQ-style baselines in the same run, then scale (1M / 10M fingerprints) and
registration throughput. Writes docs/registry/{results.json,results.md,recall.png,scale.png}.

    python benchmarks/bench_registry.py [--quick] [--skip-scale | --scale-only | --layout-scale]
                                        [--out docs/registry]

Works: the two shared real clips (/work/shared/clips) and scikit-image stills panned and zoomed
into 6 s clips, all normalised to 640x360 references. Queries are written to H.264 files and
matched through ``ProtectedRegistry.match_path``, exactly as ``reelguard registry match`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.fingerprints.base import hamming_matrix  # noqa: E402
from tests.support.fingerprint_examples import still  # noqa: E402
from detectors.fingerprints.index import FlatIndex, MultiIndexHashing  # noqa: E402
from detectors.fingerprints.pdq import PdqFingerprint  # noqa: E402
from detectors.fingerprints.phash import PHashFingerprint  # noqa: E402
from detectors.video_io import probe, read_frames, write_video  # noqa: E402

W, H = 640, 360
FPS = 25.0
CLIPS = Path(os.environ.get("REELGUARD_CLIPS", ROOT.parent / "shared" / "clips"))
STILLS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field", "moon", "coins",
          "page", "text", "immunohistochemistry", "retina", "cell", "brick", "grass", "gravel", "clock",
          "colorwheel", "logo")
REAL = ("penguins_ai_1080p.mp4", "crowd_720p.avi")


# -- works ---------------------------------------------------------------------------------------
def still_clip(name: str, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """A slow pan plus zoom across a still, 640x360 at 25 fps."""
    big = still(name, (int(W * 1.6), int(H * 1.6)))
    rng = np.random.default_rng(zlib.crc32(name.encode()) + seed)  # stable across runs
    n = int(seconds * FPS)
    x0, y0 = rng.uniform(0, 0.35, 2)
    x1, y1 = rng.uniform(0, 0.35, 2)
    z = np.linspace(1.0, 0.8, n)  # zoom in by 20 %
    frames = []
    for i in range(n):
        a = i / max(1, n - 1)
        cw, ch = W * 1.6 * 0.62 * z[i], H * 1.6 * 0.62 * z[i]
        x = (x0 + (x1 - x0) * a) * (big.shape[1] - cw) / 0.35
        y = (y0 + (y1 - y0) * a) * (big.shape[0] - ch) / 0.35
        x, y = min(max(0, x), big.shape[1] - cw), min(max(0, y), big.shape[0] - ch)
        crop = big[int(y):int(y + ch), int(x):int(x + cw)]
        frames.append(cv2.resize(crop, (W, H), interpolation=cv2.INTER_AREA))
    return np.stack(frames)


def real_clip(name: str) -> tuple[np.ndarray, float]:
    path = CLIPS / name
    info = probe(path)
    frames = [cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA) for f in read_frames(path)]
    fps = len(frames) / info.duration_s if info.duration_s else info.fps  # AVI nominal rate lies
    return np.stack(frames), fps


@dataclass
class WorkSpec:
    name: str
    path: Path
    fps: float
    frames: int


def build_works(tmp: Path, names: list[str]) -> list[WorkSpec]:
    works = []
    for name in names:
        frames, fps = real_clip(name) if name in REAL else (still_clip(name), FPS)
        path = write_video(tmp / f"ref_{Path(name).stem}.mp4", frames, fps=fps, crf=18, preset="veryfast")
        works.append(WorkSpec(name, path, fps, len(frames)))
    return works


def load(work: WorkSpec) -> np.ndarray:
    return np.stack(list(read_frames(work.path)))


# -- transforms ----------------------------------------------------------------------------------
def _overlay(frame: np.ndarray) -> np.ndarray:
    out = frame.copy()
    h, w = out.shape[:2]
    band = out[int(h * 0.8):]
    out[int(h * 0.8):] = (band * 0.35).astype(np.uint8)
    cv2.putText(out, "BREAKING: protected footage re-upload", (int(w * 0.03), int(h * 0.92)),
                cv2.FONT_HERSHEY_SIMPLEX, w / 900, (255, 255, 255), max(1, w // 400), cv2.LINE_AA)
    lw, lh = int(w * 0.16), int(h * 0.14)
    x, y = w - lw - int(w * 0.03), int(h * 0.04)
    cv2.rectangle(out, (x, y), (x + lw, y + lh), (230, 40, 40), -1)
    cv2.putText(out, "LOGO", (x + lw // 8, y + int(lh * 0.72)), cv2.FONT_HERSHEY_DUPLEX, w / 800,
                (255, 255, 255), max(1, w // 300), cv2.LINE_AA)
    return out


def _bc(frame: np.ndarray, contrast=1.25, brightness=20) -> np.ndarray:
    return cv2.convertScaleAbs(frame, alpha=contrast, beta=brightness - 128 * (contrast - 1))


def _sepia(frame: np.ndarray) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
    return np.clip(frame.astype(np.float32) @ m.T, 0, 255).astype(np.uint8)


def _grey(frame: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def _crop(frame: np.ndarray, keep: float) -> np.ndarray:
    h, w = frame.shape[:2]
    ch, cw = int(h * keep) // 2 * 2, int(w * keep) // 2 * 2
    y, x = (h - ch) // 2, (w - cw) // 2
    return frame[y:y + ch, x:x + cw]


def _pad(frame: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    cw, ch = canvas
    h, w = frame.shape[:2]
    out = np.zeros((ch, cw, 3), np.uint8)
    y, x = (ch - h) // 2, (cw - w) // 2
    out[y:y + h, x:x + w] = frame
    return out


def _background(i: int) -> np.ndarray:
    """An unregistered moving background for picture-in-picture."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = 128 + 100 * np.sin(xx / 60 + i / 10)
    g = 128 + 100 * np.sin(yy / 45 - i / 15)
    b = 128 + 80 * np.sin((xx + yy) / 90 + i / 20)
    return np.stack([r, g, b], axis=2).astype(np.uint8)


def _pip(frame: np.ndarray, i: int) -> np.ndarray:
    out = _background(i)
    small = cv2.resize(frame, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    out[H // 2 - 20:H - 20, W // 2 - 24:W - 24] = small
    return out


def _resample(frames: np.ndarray, speed: float) -> np.ndarray:
    idx = np.arange(0, len(frames), speed).astype(int)
    return frames[idx[idx < len(frames)]]


def _window(frames: np.ndarray, fps: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * fps)
    if len(frames) <= n:
        return frames
    start = int(rng.integers(0, len(frames) - n))
    return frames[start:start + n]


def _combined(frame: np.ndarray) -> np.ndarray:
    f = _crop(frame, 0.85)
    f = cv2.resize(f, (480, 270), interpolation=cv2.INTER_AREA)
    return _overlay(_bc(f, 1.15, 15))


# name -> (per-frame function | None, whole-clip function | None, crf)
TRANSFORMS = {
    "original": (None, None, 23),
    "h264-crf35": (None, None, 35),
    "downscale-50": (lambda f, i: cv2.resize(f, (W // 2, H // 2), interpolation=cv2.INTER_AREA), None, 23),
    "centre-crop-70": (lambda f, i: _crop(f, 0.7), None, 23),
    "letterbox": (lambda f, i: _pad(f, (W, int(W * 3 / 4))), None, 23),
    "pillarbox": (lambda f, i: _pad(f, (int(H * 21 / 9) // 2 * 2, H)), None, 23),
    "logo+text": (lambda f, i: _overlay(f), None, 23),
    "hflip": (lambda f, i: np.ascontiguousarray(f[:, ::-1]), None, 23),
    "speed-1.25x": (None, lambda c: _resample(c, 1.25), 23),
    "brightness-contrast": (lambda f, i: _bc(f), None, 23),
    "grey": (lambda f, i: _grey(f), None, 23),
    "sepia": (lambda f, i: _sepia(f), None, 23),
    "sub-clip-3s": (None, "window3", 23),
    "pip-50": (_pip, None, 23),
    "combined": (lambda f, i: _combined(f), lambda c: _resample(c, 1.1), 30),
}


def make_query(frames: np.ndarray, fps: float, name: str, rng, out: Path) -> Path:
    per_frame, whole, crf = TRANSFORMS[name]
    clip = frames
    if whole == "window3":
        clip = _window(clip, fps, 3.0, rng)
    elif whole is not None:
        clip = whole(clip)
    if per_frame is not None:
        clip = np.stack([per_frame(f, i) for i, f in enumerate(clip)])
    return write_video(out, clip, fps=fps, crf=crf, preset="veryfast")


# -- baselines -----------------------------------------------------------------------------------
class Baseline:
    """Bag-of-frames matching at 1 frame/s on both sides, whole frames, no border handling."""

    def __init__(self, name, fingerprint, threshold, min_pct, min_quality=0, dedupe=False):
        self.name, self.fp, self.threshold = name, fingerprint, threshold
        self.min_pct, self.min_quality, self.dedupe = min_pct, min_quality, dedupe
        self.refs: dict[str, np.ndarray] = {}

    def hashes(self, frames: list[np.ndarray]) -> np.ndarray:
        rows = []
        for frame in frames:
            c = self.fp.hash_frame(frame)
            if c.quality[0] >= self.min_quality:
                rows.append(c.codes[0])
        codes = np.stack(rows) if rows else np.zeros((0, self.fp.nbytes), np.uint8)
        if self.dedupe and len(codes):
            codes = np.unique(codes, axis=0)
        return codes

    def add(self, work: str, frames: list[np.ndarray]) -> None:
        self.refs[work] = self.hashes(frames)

    def query(self, frames: list[np.ndarray]) -> dict[str, tuple[float, int]]:
        """work -> (share of query frames matched, closest frame distance)."""
        q = self.hashes(frames)
        out = {}
        for work, ref in self.refs.items():
            if not len(q) or not len(ref):
                out[work] = (0.0, 999)
                continue
            d = hamming_matrix(q, ref).min(axis=1)
            out[work] = (float((d <= self.threshold).mean()), int(d.min()))
        return out


def one_per_second(path: Path) -> list[np.ndarray]:
    """Frames at 1 frame/s, decoded once and shared by every baseline."""
    info = probe(path)
    return list(read_frames(path, step=max(1, round(info.fps))))


def baselines():
    return [
        Baseline("pHash<=10", PHashFingerprint(strip_borders=False), 10, 0.5),
        Baseline("PDQ<=31", PdqFingerprint(strip_borders=False), 31, 0.5),
        Baseline("vPDQ-style", PdqFingerprint(strip_borders=False), 31, 0.8, min_quality=50, dedupe=True),
    ]


# -- the suite -----------------------------------------------------------------------------------
def flat_references(engine, ids: dict[str, str]) -> dict[str, list]:
    """work name -> prepared layout thumbnails of its flat reference keyframes, as the registry
    loads them from the database."""
    from governance.records.registry.index_store import LayoutStore

    store = LayoutStore(Path(tempfile.gettempdir()))
    store.sync(engine)
    out: dict[str, list] = {}
    for fid, refs in store.references.items():
        out.setdefault(ids[store.sets[fid].work_id], []).extend(refs)
    return out


def layout_scores(qpath: Path, flat: dict[str, list]) -> dict[str, float]:
    """Best layout similarity of the query's keyframes to each flat work (threshold 0): the margin."""
    from detectors.fingerprints.layout import LayoutFingerprint, compare, prepare_query
    from governance.records.registry.service import fingerprint_file, query_config

    if not flat:
        return {}
    clip, _ = fingerprint_file(qpath, query_config(probe(qpath).duration_s or 0.0), max_pixels=W * H * 4)
    queries = [prepare_query(LayoutFingerprint.thumb(clip.layout, i)) for i in range(len(clip.layout))]
    best = {}
    for name, refs in flat.items():
        sims = [m.similarity for q in queries for r in refs if (m := compare(q, r)) is not None]
        best[name] = max(sims, default=0.0)
    return best


def run_suite(tmp: Path, names: list[str], windows: int, transforms: list[str]) -> dict:
    from governance.core.settings import get_settings
    from governance.records.registry import MatchConfig, ProtectedRegistry
    from governance.records.storage.db import get_engine

    decide = MatchConfig()
    settings = get_settings(home=tmp / "home")
    settings.ensure_dirs()
    engine = get_engine(settings.resolved_database_url)
    # Permissive matching reports sub-threshold candidates too, so the closest false match and the
    # margin are measurable; decisions below apply the default thresholds.
    registry = ProtectedRegistry(engine, settings, config=MatchConfig(min_coverage=0.0, min_frames=1))
    print(f"building {len(names)} works ...", flush=True)
    works = build_works(tmp, names)
    bases = baselines()
    t0 = time.perf_counter()
    frames_in = 0
    ids = {}
    for w in works:
        ids[registry.add_path(w.path, owner="bench", title=w.name).work_id] = w.name
        frames_in += w.frames
    reg_s = time.perf_counter() - t0
    for w in works:
        ref_frames = one_per_second(w.path)
        for b in bases:
            b.add(w.name, ref_frames)
    print(f"registered {frames_in} frames in {reg_s:.1f} s ({frames_in / reg_s:.1f} frames/s)", flush=True)
    flat = flat_references(engine, ids)
    print(f"flat reference keyframes (layout rows): {({n: len(r) for n, r in flat.items()})}", flush=True)

    rng = np.random.default_rng(7)
    rows = []
    match_times = []
    for w in works:
        frames = load(w)
        for t in transforms:
            for k in range(windows):
                clip = _window(frames, w.fps, 6.0, rng)  # <= 6 s of the work, at a random offset
                qpath = make_query(clip, w.fps, t, rng, tmp / "q.mp4")
                t1 = time.perf_counter()
                matches = registry.match_path(qpath)
                match_times.append(time.perf_counter() - t1)
                rg = {ids[m.work_id]: m for m in matches}
                decided = {n for n, m in rg.items()
                           if m.query_coverage >= decide.min_coverage and m.frames >= 1}
                row = {"work": w.name, "transform": t, "window": k,
                       "reelguard": {"hit": w.name in decided, "false": sorted(decided - {w.name}),
                                     "coverage": rg[w.name].query_coverage if w.name in rg else 0.0,
                                     "fingerprint": rg[w.name].fingerprint if w.name in rg else None,
                                     "closest_false": max((m.query_coverage for n, m in rg.items() if n != w.name),
                                                          default=0.0)}}
                row["layout"] = layout_scores(qpath, flat)
                q_frames = one_per_second(qpath)
                for b in bases:
                    res = b.query(q_frames)
                    decided_b = {n for n, (pct, _) in res.items() if pct >= b.min_pct and pct > 0}
                    row[b.name] = {"hit": w.name in decided_b, "false": sorted(decided_b - {w.name}),
                                   "coverage": res[w.name][0],
                                   "closest_false": max((p for n, (p, _) in res.items() if n != w.name), default=0.0),
                                   "closest_false_distance": min((d for n, (_, d) in res.items() if n != w.name),
                                                                 default=999)}
                rows.append(row)
        print(f"  {w.name}: done ({sum(r['reelguard']['hit'] for r in rows if r['work'] == w.name)}"
              f"/{sum(r['work'] == w.name for r in rows)} found)", flush=True)
    return {"rows": rows, "registration": {"frames": frames_in, "seconds": reg_s, "fps": frames_in / reg_s},
            "match_seconds": {"mean": float(np.mean(match_times)), "p95": float(np.percentile(match_times, 95))},
            "works": len(works), "registry": registry, "tmp": str(tmp)}


def summarise(rows: list[dict]) -> dict:
    methods = ["reelguard", "pHash<=10", "PDQ<=31", "vPDQ-style"]
    table = {}
    for t in dict.fromkeys(r["transform"] for r in rows):
        sub = [r for r in rows if r["transform"] == t]
        table[t] = {}
        for m in methods:
            table[t][m] = {
                "n": len(sub),
                "recall": float(np.mean([r[m]["hit"] for r in sub])),
                "false_matches": int(sum(len(r[m]["false"]) for r in sub)),
                "mean_coverage": float(np.mean([r[m]["coverage"] for r in sub])),
                "closest_false": float(max(r[m]["closest_false"] for r in sub)),
            }
            if m == "reelguard":
                fps = [r[m]["fingerprint"] for r in sub if r[m]["hit"]]
                table[t][m]["by"] = {k: fps.count(k) for k in set(fps)}
        true = [v for r in sub for n, v in r.get("layout", {}).items() if n == r["work"]]
        false = [v for r in sub for n, v in r.get("layout", {}).items() if n != r["work"]]
        table[t]["reelguard"]["layout_true_min"] = min(true, default=None)
        table[t]["reelguard"]["layout_false_max"] = max(false, default=None)
    return table


# -- scale ---------------------------------------------------------------------------------------
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
            print(f"  {kind} n={n:,}: build {build:.1f} s, search {len(query_codes)} codes {search:.2f} s "
                  f"(runs {', '.join(f'{r:.2f}' for r in runs)}), +{mem:.0f} MB, hits {len(hits)}", flush=True)
            out.append({"kind": kind, "n": n, "build_s": build, "search_s": search, "search_runs_s": runs,
                        "queries": len(query_codes), "memory_mb": mem, "hits": len(hits)})
            del index
    return out


def sixty_second_query(tmp: Path, works: list[Path]) -> Path:
    frames = []
    for p in works:
        frames += [cv2.resize(f, (W, H)) for f in read_frames(p)]
        if len(frames) >= 60 * FPS:
            break
    return write_video(tmp / "q60.mp4", frames[: int(60 * FPS)], fps=FPS, crf=23, preset="veryfast")


# -- report --------------------------------------------------------------------------------------
def write_report(out: Path, table: dict, suite: dict, scale: list[dict], e2e: dict | None, quick: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    methods = ["reelguard", "pHash<=10", "PDQ<=31", "vPDQ-style"]
    lines = ["| transform | n | " + " | ".join(f"{m} recall / false / cov" for m in methods) + " |",
             "|---|---|" + "---|" * len(methods)]
    for t, res in table.items():
        cells = [f"{res[m]['recall']:.3f} / {res[m]['false_matches']} / {res[m]['mean_coverage']:.2f}" for m in methods]
        lines.append(f"| {t} | {res['reelguard']['n']} | " + " | ".join(cells) + " |")
    fired = ["", "| transform | fired (reelguard hits) | closest false coverage: reelguard / pHash / PDQ / vPDQ |",
             "|---|---|---|"]
    for t, res in table.items():
        by = ", ".join(f"{k}: {v}" for k, v in sorted(res["reelguard"].get("by", {}).items()))
        cf = " / ".join(f"{res[m]['closest_false']:.2f}" for m in methods)
        fired.append(f"| {t} | {by} | {cf} |")
    from detectors.fingerprints.layout import LayoutFingerprint

    def _f(v):
        return "-" if v is None else f"{v:.3f}"
    margin = ["", f"Layout fingerprint margin (best similarity of a query's keyframes to a flat work's "
                  f"keyframes; threshold {LayoutFingerprint.threshold}):", "",
              "| transform | same work (min) | other works (max) |", "|---|---|---|"]
    for t, res in table.items():
        margin.append(f"| {t} | {_f(res['reelguard'].get('layout_true_min'))} | "
                      f"{_f(res['reelguard'].get('layout_false_max'))} |")
    scale_lines = ["", "| index | fingerprints | build s | search s (codes) | memory MB |", "|---|---|---|---|---|"]
    for s in scale:
        scale_lines.append(f"| {s['kind']} | {s['n']:,} | {s['build_s']:.1f} | {s['search_s']:.2f} ({s['queries']}) | "
                           f"{s['memory_mb']:.0f} |")
    reg = suite["registration"]
    text = "\n".join([
        f"Registry benchmark ({'quick' if quick else 'full'} run, {suite['works']} works, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPU cores visible)", "",
        *lines, *fired, *margin, *scale_lines, "",
        f"Registration: {reg['frames']} frames in {reg['seconds']:.1f} s = {reg['fps']:.1f} frames/s.",
        f"Match (match_path, per query clip of 3-15 s): mean {suite['match_seconds']['mean']:.2f} s, "
        f"p95 {suite['match_seconds']['p95']:.2f} s.",
        "" if e2e is None else f"60 s query end to end against the benchmark registry: {e2e['total_s']:.2f} s "
        f"(fingerprinting {e2e['extract_s']:.2f} s, {e2e['pdq_codes']} PDQ codes incl. mirror).",
    ])
    (out / "results.md").write_text(text + "\n")
    rows = suite["rows"]
    (out / "results.json").write_text(json.dumps({"table": table, "scale": scale, "registration": reg,
                                                  "match_seconds": suite["match_seconds"], "e2e_60s": e2e,
                                                  "rows": rows, "quick": quick}, indent=1))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(table)
    fig, ax = plt.subplots(figsize=(13, 4.5))
    width = 0.2
    for i, m in enumerate(methods):
        ax.bar(np.arange(len(names)) + (i - 1.5) * width, [table[t][m]["recall"] for t in names], width, label=m)
    ax.axhline(0.99, color="k", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(names)), names, rotation=35, ha="right")
    ax.set_ylabel("recall of the right work")
    ax.set_ylim(0, 1.05)
    ax.legend(ncol=4, loc="lower left")
    ax.set_title("Transform suite: recall per method (same run)")
    fig.tight_layout()
    fig.savefig(out / "recall.png", dpi=110)
    plt.close(fig)
    if scale:
        fig, ax = plt.subplots(figsize=(6, 4))
        for kind in ("mih", "flat"):
            pts = [(s["n"], s["search_s"]) for s in scale if s["kind"] == kind]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=f"{kind} ({scale[0]['queries']} query codes)")
        ax.axhline(2.0, color="k", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel("fingerprints in the index")
        ax.set_ylabel("search seconds")
        ax.legend()
        ax.set_title("PDQ radius-31 search, 60 s query")
        fig.tight_layout()
        fig.savefig(out / "scale.png", dpi=110)
        plt.close(fig)


def scale_only(args) -> int:
    """Fingerprint a real 60 s query (the shared clips, looped) and time its PDQ search."""
    from governance.records.registry.service import fingerprint_file, query_config

    with tempfile.TemporaryDirectory(prefix="bench_registry_") as tmp_s:
        tmp = Path(tmp_s)
        frames = []
        while len(frames) < 60 * FPS:
            for name in REAL:
                frames += list(real_clip(name)[0])
        q60 = write_video(tmp / "q60.mp4", frames[: int(60 * FPS)], fps=FPS, crf=23, preset="veryfast")
        del frames
        t0 = time.perf_counter()
        clip, _ = fingerprint_file(q60, query_config(60.0), max_pixels=W * H * 4)
        extract_s = time.perf_counter() - t0
        print(f"60 s query: {len(clip.pdq)} PDQ codes (with mirror), fingerprinted in {extract_s:.2f} s", flush=True)
        sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
        scale = run_scale(clip.pdq.codes, sizes, flat_max=10_000_000)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps({"extract_60s_s": extract_s, "query_codes": len(clip.pdq),
                                                     "scale": scale}, indent=1))
    return 0


def layout_scale(args) -> int:
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
        return np.clip(np.stack([128 + sum(a * np.cos(2 * np.pi * (fx * xx + fy * yy) + ph) for a, fx, fy, ph in
                                           zip(rng.uniform(20, 60, 3), rng.uniform(0.2, 1.2, 3),
                                               rng.uniform(0.2, 1.2, 3), rng.uniform(0, 6.3, 3)))
                                 for _ in range(3)], axis=2), 0, 255).astype(np.uint8)

    fp = LayoutFingerprint(strip_borders=False)
    query = extract(still_clip("astronaut", seconds=10.0), fps=FPS, config=QUERY)
    rows = []
    for n in (10, 100, 1000):
        store = LayoutStore(Path(tempfile.gettempdir()))
        thumbs = [prepare_reference(Thumbnail.from_code(fp.hash_frame(field()).codes[0], W / H)) for _ in range(n)]
        store.references = {1: thumbs}
        store.sets = {1: SetInfo(1, 1, "w", "video", np.arange(n, dtype=np.int32),
                                 np.stack([np.arange(n), np.arange(n) + 1], 1).astype(np.float32), None)}
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            layout_evidence(store, query, MatchConfig())
            times.append(time.perf_counter() - t0)
        rows.append({"flat_reference_keyframes": n, "query_keyframes": len(query.layout),
                     "seconds": float(np.median(times))})
        print(f"layout: {len(query.layout)} query keyframes x {n} flat reference keyframes: "
              f"{rows[-1]['seconds']:.3f} s (median of 3)", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "layout-scale.json").write_text(json.dumps(rows, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 works (one flat), 1M scale only")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--scale-only", action="store_true", help="only the 1M/10M index measurements")
    parser.add_argument("--layout-scale", action="store_true",
                        help="only the brute-force layout comparison cost versus flat reference keyframes")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "registry")
    parser.add_argument("--windows", type=int, default=None, help="queries per work and transform")
    args = parser.parse_args(argv)
    names = list(REAL) + list(STILLS)
    if args.quick:
        names = list(REAL) + list(STILLS[:3]) + ["colorwheel"]  # colorwheel: the flat (layout) path
    windows = args.windows or 1
    if args.scale_only:
        return scale_only(args)
    if args.layout_scale:
        return layout_scale(args)
    with tempfile.TemporaryDirectory(prefix="bench_registry_") as tmp_s:
        tmp = Path(tmp_s)
        suite = run_suite(tmp, names, windows, list(TRANSFORMS))
        table = summarise(suite["rows"])
        for t, res in table.items():
            print(f"{t:22s} " + "  ".join(f"{m}={res[m]['recall']:.2f}/{res[m]['false_matches']}" for m in res))
        registry = suite["registry"]
        q60 = sixty_second_query(tmp, sorted(tmp.glob("ref_*.mp4")))
        from governance.records.registry.service import fingerprint_file, query_config

        t0 = time.perf_counter()
        clip, _ = fingerprint_file(q60, query_config(60.0), max_pixels=W * H * 4)
        extract_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        registry.match_fingerprints(clip)
        e2e = {"extract_s": extract_s, "total_s": extract_s + time.perf_counter() - t0,
               "pdq_codes": len(clip.pdq)}
        print(f"60 s query: fingerprint {extract_s:.2f} s, total {e2e['total_s']:.2f} s", flush=True)
        scale = []
        if not args.skip_scale:
            sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
            scale = run_scale(clip.pdq.codes, sizes, flat_max=10_000_000)
        write_report(args.out, table, suite, scale, e2e, args.quick)
    print(f"wrote {args.out}/results.md", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
