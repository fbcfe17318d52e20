"""Load and batch benchmarks of ReelGuard as a service (a benchmark, not a test).

1. Load: 16 concurrent clients POST 720p 5 s clips to ``/api/verify`` for 60 s against a local
   ``uvicorn`` server on PostgreSQL; reports throughput, p50/p95/p99 latency, errors, and checks
   that the audit log holds exactly one verification event per successful request.
2. Batch: ``verify_many`` over a 50-clip folder with 1 worker (in process) and with 2 Celery
   worker processes on the same Redis/PostgreSQL; reports the speed-up.

    .venv/bin/python benchmarks/bench_api.py [--quick] [--skip-load] [--skip-batch]

Writes docs/api/bench.md (and prints it). Needs PostgreSQL (REELGUARD_BENCH_PG_URL, default the
local test server) and Redis for the batch part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "clips"
PG = os.environ.get("REELGUARD_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def make_clips(folder: Path, n: int, *, seconds: float = 5.0) -> list[Path]:
    """``n`` 720p clips of ``seconds``: distinct cuts of the shared real clips, copied round-robin."""
    import cv2

    from detectors.video_io import probe, read_frames, write_video

    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for src, offsets in ((SHARED / "crowd_720p.avi", (0.0, 4.0)), (SHARED / "penguins_ai_1080p.mp4", (0.0, 2.5, 5.0))):
        info = probe(src)
        for off in offsets:
            out = folder / f"src-{src.stem}-{int(off)}.mp4"
            if not out.exists():
                first, count = int(off * info.fps), int(seconds * info.fps)
                frames = (
                    cv2.resize(f, (1280, 720), interpolation=cv2.INTER_AREA) if f.shape[:2] != (720, 1280) else f
                    for i, f in enumerate(read_frames(src, max_frames=first + count)) if i >= first
                )
                write_video(out, frames, fps=info.fps, preset="veryfast", crf=23)
            sources.append(out)
    clips = []
    for i in range(n):
        dst = folder / f"clip-{i:03d}.mp4"
        if not dst.exists():
            shutil.copyfile(sources[i % len(sources)], dst)
        clips.append(dst)
    return clips


def fresh_pg_db(tag: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"reelguard_bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG).set(database=name).render_as_string(hide_password=False)


def drop_pg_db(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def load_test(clips: list[Path], *, clients: int, duration: float, server_workers: int, home: Path) -> dict:
    import httpx
    from sqlalchemy import func, select

    from governance.records.apikeys import ApiKeyCreate
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import get_engine, session_scope
    from governance.service.api.auth import create_api_key

    db = fresh_pg_db("load")
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "REELGUARD_HOME": str(home), "REELGUARD_DATABASE_URL": db}
    engine = get_engine(db)
    with session_scope(engine) as session:
        _key, token = create_api_key(session=session, key_in=ApiKeyCreate(name="bench", role="verifier"))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "governance.service.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(server_workers), "--log-level", "warning"],
        env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):  # bounded wait for the server
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        payloads = [(c.name, c.read_bytes()) for c in clips[:8]]
        # Warm every server worker (first request loads the codecs, keys and the registry).
        with httpx.Client(timeout=120) as client:
            for name, data in payloads[: server_workers * 2]:
                client.post(base + "/api/verify", files={"file": (name, data, "video/mp4")}, headers={"X-API-Key": token})
        with session_scope(engine) as session:
            before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.monotonic() + duration

        def client_loop(idx: int) -> None:
            with httpx.Client(timeout=600) as client:
                n = idx
                while time.monotonic() < stop_at:
                    name, data = payloads[n % len(payloads)]
                    n += clients
                    t0 = time.perf_counter()
                    try:
                        r = client.post(base + "/api/verify", files={"file": (name, data, "video/mp4")},
                                        headers={"X-API-Key": token})
                        code = r.status_code
                    except httpx.HTTPError:
                        code = -1
                    dt = time.perf_counter() - t0
                    with lock:
                        statuses[code] = statuses.get(code, 0) + 1
                        if code == 200:
                            latencies.append(dt)

        started = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        with session_scope(engine) as session:
            after = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            kinds = session.execute(select(AuditEntry.kind).where(AuditEntry.leaf_index >= before)).scalars().all()
        total = sum(statuses.values())
        ok = statuses.get(200, 0)
        return {
            "clients": clients, "duration_s": round(elapsed, 1), "server_workers": server_workers,
            "requests": total, "ok": ok, "errors": total - ok, "statuses": statuses,
            "throughput_rps": round(ok / elapsed, 3),
            "p50_s": round(pct(latencies, 50), 2), "p95_s": round(pct(latencies, 95), 2),
            "p99_s": round(pct(latencies, 99), 2), "mean_s": round(statistics.fmean(latencies), 2) if latencies else None,
            "audit_events_added": after - before, "audit_all_verification": all(k == "verification" for k in kinds),
            "audit_matches_requests": (after - before) == ok,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        engine.dispose()
        get_engine.cache_clear()
        drop_pg_db(db)


def batch_test(clips: list[Path], *, home: Path) -> dict:
    from sqlalchemy import func, select

    from governance.core.settings import get_settings
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import get_engine, session_scope
    from governance.service.jobs.batch import verify_many

    # "1" is what `verify DIR --workers 1` runs: in process, where OpenCV's and the decoder's
    # thread pools use both cores; "1c" is one Celery worker process pinned to one numeric thread,
    # the same unit as each of the two workers of "2", so 1c vs 2 shows how the engine scales.
    out = {}
    for label, workers in (("1", 1), ("1c", 1), ("2", 2)):
        db = fresh_pg_db(f"batch{label}")
        settings = get_settings(home=home / f"w{label}", database_url=db)
        settings.ensure_dirs()
        get_engine(db)  # tables exist before the workers start
        t0, cpu0 = time.perf_counter(), time.process_time()
        results = verify_many(clips, workers=workers, settings=settings, queue=True if label == "1c" else None)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        with session_scope(get_engine(db)) as session:
            events = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        out[label] = {"seconds": round(elapsed, 1), "clips_per_s": round(len(clips) / elapsed, 3),
                      "errors": sum(1 for r in results if "error" in r), "audit_events": events,
                      "cores_busy_in_process": round(cpu / elapsed, 2) if label == "1" else None}
        get_engine(db).dispose()
        get_engine.cache_clear()
        drop_pg_db(db)
    out["speedup"] = round(out["1"]["seconds"] / out["2"]["seconds"], 2)
    out["speedup_vs_one_process"] = round(out["1c"]["seconds"] / out["2"]["seconds"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s of load, a 10-clip batch")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--clips", type=int, default=None, help="batch folder size (default 50)")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--clip-dir", type=Path, default=Path(tempfile.gettempdir()) / "reelguard-bench-clips")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "api" / "bench.md")
    args = parser.parse_args()
    duration = args.duration or (15.0 if args.quick else 60.0)
    n_clips = args.clips or (10 if args.quick else 50)
    clips = make_clips(args.clip_dir, n_clips)
    home = Path(tempfile.mkdtemp(prefix="reelguard-bench-"))
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
                     "quick": args.quick}
    try:
        if not args.skip_load:
            results["load"] = load_test(clips, clients=args.clients, duration=duration,
                                        server_workers=args.server_workers, home=home / "load")
            print(json.dumps(results["load"], indent=2))
        if not args.skip_batch:
            results["batch"] = batch_test(clips, home=home / "batch")
            print(json.dumps(results["batch"], indent=2))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    write_markdown(results, args.out, n_clips)


def write_markdown(results: dict, path: Path, n_clips: int) -> None:
    lines = [f"# API benchmark ({results['when']}, {results['machine']}{', quick' if results['quick'] else ''})", ""]
    if "load" in results:
        r = results["load"]
        lines += [
            f"## Load: {r['clients']} clients, POST /api/verify, 720p 5 s clips, {r['duration_s']} s, "
            f"PostgreSQL, uvicorn x{r['server_workers']}", "",
            "| requests | ok | errors | throughput (req/s) | p50 (s) | p95 (s) | p99 (s) | audit events added | one per request |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {r['requests']} | {r['ok']} | {r['errors']} | {r['throughput_rps']} | {r['p50_s']} | {r['p95_s']} | "
            f"{r['p99_s']} | {r['audit_events_added']} | {'yes' if r['audit_matches_requests'] else 'NO'} |", "",
        ]
    if "batch" in results:
        b = results["batch"]
        lines += [
            f"## Batch: verify_many over {n_clips} 720p 5 s clips (PostgreSQL, Redis)", "",
            "| workers | seconds | clips/s | errors | audit events |", "|---|---|---|---|---|",
            *(f"| {name} | {b[w]['seconds']} | {b[w]['clips_per_s']} | {b[w]['errors']} | {b[w]['audit_events']} |"
              for w, name in (("1", "1 (`--workers 1`, in process)"), ("1c", "1 Celery worker process, 1 thread"),
                              ("2", "2 Celery worker processes, 1 thread each"))),
            "", f"Speed-up of `--workers 2` over `--workers 1`: **{b['speedup']}x** (the in-process run kept "
            f"{b['1']['cores_busy_in_process']} cores busy on its own through library thread pools).",
            f"Speed-up of 2 worker processes over 1 (same per-process settings): **{b['speedup_vs_one_process']}x**.", "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
