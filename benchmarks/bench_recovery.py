"""Recovery benchmark (issue 21): per attack, how often the generation record of one of OUR clips
is recovered by the watermark alone, the fingerprints alone, and both (watermark first, as
``verify`` does), with false recoveries on unrelated clips; the detector's end-to-end speed at
720p; and the own-output index at 1M clips.

    .venv/bin/python benchmarks/bench_recovery.py [--quick] [--skip-scale] [--speed-only | --scale-only]

Writes docs/recovery/{results.md,results.json,recovery.png} and refreshes docs/recovery.md's
summary block. Decisions are the production ones: ``SpreadSpectrumV1.detect`` at FPR 1e-6 and
``OwnOutputs.match_pending`` (PDQ first, the staged search) with the registry's ``MatchConfig`` (min_frames 2).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import cpu_model  # noqa: E402
from recovery import data, report  # noqa: E402
from recovery.scale import detect_speed, scale_run  # noqa: E402

from detectors.fingerprints.extract import extract_pdq_first  # noqa: E402
from detectors.watermark import DEFAULT_SCHEME, get_scheme  # noqa: E402
from governance.records.registry.service import query_config  # noqa: E402

OUT = ROOT / "docs" / "recovery"
KEY = bytes.fromhex("3c" * 32)


def _own_registry(home: Path):
    from governance.core.settings import get_settings
    from governance.records.registry import OwnOutputs
    from governance.records.storage.db import get_engine, init_db

    settings = get_settings(home=home)
    engine = get_engine(settings.resolved_database_url)
    init_db(engine)
    return OwnOutputs(engine, settings), engine


def register(own, engine, clips: list[data.Clip]) -> dict[str, str]:
    """Each clip's fingerprints stored as one of our outputs; returns content id -> clip name."""
    from governance.records.storage.db import session_scope

    ids = {}
    for clip in clips:
        content_id = hashlib.sha256(clip.name.encode()).hexdigest()[:16]
        fingerprints = own.fingerprint_frames(np.stack(clip.frames), fps=clip.fps)
        with session_scope(engine) as session:
            own.add(
                session,
                content_id=content_id,
                file_sha256=hashlib.sha256(content_id.encode()).hexdigest(),
                name=clip.name,
                owner="bench",
                clip=fingerprints,
            )
        ids[content_id] = clip.name
    return ids


def lookup(scheme, own, frames, fps: float, payloads: dict[bytes, str], ids: dict[str, str]) -> dict:
    """What each layer recovers from one attacked clip: the clip name it points to, or None."""
    arrays = data.bw.pixels(frames)
    det = scheme.detect(frames, key=KEY)
    by_wm = payloads.get(det.payload) if det.detected and det.payload is not None else None
    duration = len(arrays) / fps
    # As ``verify`` looks up our own outputs (no protected work registered): PDQ first, the
    # staged search, keyframes only if PDQ decides nothing.
    matches = own.match_pending(extract_pdq_first(arrays, fps=fps, config=query_config(duration)))
    by_fp = ids.get(matches[0].content_id) if matches else None
    return {
        "watermark": by_wm,
        "fingerprint": by_fp,
        "both": by_wm or by_fp,
        "z": round(float(det.score), 2),
        "fp_score": matches[0].score if matches else None,
        "fp_kind": matches[0].fingerprint if matches else None,
    }


def speed_only(scheme, log, *, scale_only: bool = False) -> int:
    results = json.loads((OUT / "results.json").read_text(encoding="utf-8"))
    earlier = {k: results[k] for k in ("speed", "scale")}
    earlier["load"] = [results["setup"]["load_before"], results["setup"]["load_after"]]
    results.setdefault("earlier_runs", []).append(earlier)
    results["setup"]["load_before"] = os.getloadavg()
    if not scale_only:
        log("detection speed at 720p")
        results["speed"] = detect_speed(scheme, KEY)
    results["scale"] = scale_run(data.ours(True), log)
    results["setup"]["load_after"] = os.getloadavg()
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print("\n" + report.write(OUT, results))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clips and attacks")
    parser.add_argument("--skip-scale", action="store_true", help="no 1M-clip index run")
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="rerun the speed and scale parts into the existing results.json (the earlier "
        "figures are kept under 'earlier_runs')",
    )
    parser.add_argument(
        "--scale-only",
        action="store_true",
        help="as --speed-only, but rerun only the 1M-clip lookup (the detector speed is kept)",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - started:6.0f}s] {msg}", flush=True)

    scheme = get_scheme(DEFAULT_SCHEME)
    if args.speed_only or args.scale_only:
        return speed_only(scheme, log, scale_only=args.scale_only)
    setup = {
        "quick": args.quick,
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical CPUs, shared with other jobs",
        "load_before": os.getloadavg(),
        "scheme": scheme.name,
    }
    ours, others, attacks = data.ours(args.quick), data.unrelated(args.quick), data.attacks(args.quick)
    log(f"ours: {[c.name for c in ours]}; unrelated: {[c.name for c in others]}; {len(attacks)} attacks")
    rows, negatives = [], []
    with tempfile.TemporaryDirectory() as tmp:
        own, engine = _own_registry(Path(tmp) / "home")
        ids = register(own, engine, ours)
        payloads = {}
        for clip in ours:
            payload = hashlib.sha256(b"payload/" + clip.name.encode()).digest()[:8]
            payloads[payload] = clip.name
            marked = list(scheme.embed(clip.frames, payload=payload, key=KEY))
            for attack in attacks:
                rng = np.random.default_rng(zlib.crc32(f"{clip.name}/{attack.name}".encode()))
                attacked = attack.apply(marked, clip.fps, rng)
                found = lookup(scheme, own, attacked, clip.fps, payloads, ids)
                psnr = round(data.content_psnr(clip.frames, data.bw.pixels(attacked)), 2) if attack.new else None
                rows.append({"clip": clip.name, "attack": attack.name, "new": attack.new, "psnr": psnr, **found})
                log(
                    f"  {clip.name:16s} {attack.name:48s} wm={found['watermark'] == clip.name!s:5s} "
                    f"fp={found['fingerprint'] == clip.name!s:5s} z={found['z']} fp_score={found['fp_score']}"
                )
        by_name = {a.name: a for a in attacks}
        for clip in others:  # never marked with KEY, never registered
            for name in data.NEGATIVE_ATTACKS:
                rng = np.random.default_rng(zlib.crc32(f"{clip.name}/{name}".encode()))
                found = lookup(scheme, own, by_name[name].apply(clip.frames, clip.fps, rng), clip.fps, payloads, ids)
                negatives.append({"clip": clip.name, "attack": name, **found})
                log(f"  unrelated {clip.name:16s} {name:48s} wm={found['watermark']} fp={found['fingerprint']}")
    log("detection speed at 720p")
    speed = detect_speed(scheme, KEY)
    scale = None if args.skip_scale else scale_run(ours, log)
    setup["load_after"] = os.getloadavg()
    results = {"setup": setup, "rows": rows, "negatives": negatives, "speed": speed, "scale": scale}
    previous = OUT / "results.json"
    if previous.exists():  # keep the earlier speed and scale figures beside the new ones
        old = json.loads(previous.read_text(encoding="utf-8"))
        earlier = {k: old.get(k) for k in ("speed", "scale")}
        earlier["load"] = [old["setup"]["load_before"], old["setup"]["load_after"]]
        results["earlier_runs"] = [*old.get("earlier_runs", []), earlier]
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    summary = report.write(OUT, results)
    print("\n" + summary)
    log(f"wrote {OUT / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
