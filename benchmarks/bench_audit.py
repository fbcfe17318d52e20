"""Audit log benchmark: append throughput, proofs at scale, full verification, concurrency.

    python benchmarks/bench_audit.py            # 1M-event log, 8 x 10,000 concurrent writers
    python benchmarks/bench_audit.py --quick    # 100k events, 8 x 1,000 writers (about a minute)

Writes docs/audit/bench.md (table) and docs/audit/bench.png (plot); ``--out`` changes the folder.
Wall-clock rates depend on what else runs on the machine, so CPU-time rates are reported beside
them. ``--db FILE`` keeps the big log between runs (it is reused when it already has the size).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "governance"))

from governance.records.audit import AuditLog  # noqa: E402
from governance.records.audit.events import ConsentEvent, GenerationEvent  # noqa: E402
from governance.records.storage.db import get_engine, session_scope  # noqa: E402


def _gen(i: int) -> GenerationEvent:
    return GenerationEvent(
        content_id=f"{i:016x}", prompt_sha256=f"{i:064x}", model_id="reelguard/tiny-t2v",
        pipeline_class="ReelGuardTinyPipeline", weights_digest="ab" * 32, seed=i, steps=20, width=512,
        height=288, num_frames=49, fps=16.0, jurisdiction="eu", labels_applied=["c2pa", "watermark"])


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def bench_appends(folder: Path, n: int) -> list[tuple[str, float, float]]:
    """(mode, events/s wall, events/s per CPU second) for three transaction shapes."""
    rows = []
    events = [_gen(i) for i in range(n)]
    log = AuditLog(get_engine(f"sqlite:///{folder}/append.db"))

    def batched() -> None:
        for i in range(0, n, 1000):
            with session_scope(log.engine) as s:
                log.append_many(s, events[i : i + 1000], actor="bench")

    def singles() -> None:
        for i in range(0, n, 1000):
            with session_scope(log.engine) as s:
                for e in events[i : i + 1000]:
                    log.append(s, e, actor="bench")

    def per_tx() -> None:
        for e in events[: n // 20]:
            with session_scope(log.engine) as s:
                log.append(s, e, actor="bench")

    for name, fn, count in [("append_many, 1,000 per transaction", batched, n),
                            ("append, 1,000 per transaction", singles, n),
                            ("append, one transaction each", per_tx, n // 20)]:
        _, wall, cpu = _timed(fn)
        rows.append((name, count / wall, count / cpu))
        print(f"  {name}: {count / wall:,.0f}/s wall, {count / cpu:,.0f}/s CPU", flush=True)
    return rows


def build_big(path: Path, size: int) -> AuditLog:
    log = AuditLog(get_engine(f"sqlite:///{path}"))
    have = log.size()
    if have > size:
        raise SystemExit(f"{path} already holds {have} events, more than {size}")
    t0 = time.perf_counter()
    batch = 10_000
    for start in range(have, size, batch):
        with session_scope(log.engine) as s:
            log.append_many(s, [ConsentEvent(action="use", license_id=f"lic-{i % 977}", person=f"p{i % 131}")
                                for i in range(start, min(size, start + batch))], actor="bench")
        if (start // batch) % 20 == 0:
            print(f"  built {start + batch:,} / {size:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return log


def bench_proofs(log: AuditLog, sizes: list[int], samples: int = 300) -> list[dict]:
    rng = random.Random(1)
    out = []
    for size in sizes:
        gen, ver, cgen, cver, paths = [], [], [], [], []
        for _ in range(samples):
            index = rng.randrange(size)
            t = time.perf_counter()
            proof = log.prove(index, size=size)
            gen.append(time.perf_counter() - t)
            t = time.perf_counter()
            ok = proof.verify()
            ver.append(time.perf_counter() - t)
            paths.append(len(proof.path))
            if not ok:
                raise SystemExit(f"proof of leaf {index} at size {size} does not verify")
        for _ in range(samples // 5):
            old = rng.randrange(1, size + 1)
            t = time.perf_counter()
            cons = log.consistency(old, size)
            cgen.append(time.perf_counter() - t)
            t = time.perf_counter()
            if not cons.verify():
                raise SystemExit(f"consistency {old}->{size} does not verify")
            cver.append(time.perf_counter() - t)
        row = {"size": size, "path": statistics.mean(paths),
               "prove_ms": 1e3 * statistics.median(gen), "prove_p95_ms": 1e3 * sorted(gen)[int(.95 * len(gen))],
               "verify_ms": 1e3 * statistics.median(ver),
               "consistency_ms": 1e3 * statistics.median(cgen), "consistency_verify_ms": 1e3 * statistics.median(cver)}
        out.append(row)
        print(f"  size {size:>9,}: prove {row['prove_ms']:.2f} ms (p95 {row['prove_p95_ms']:.2f}), "
              f"verify {row['verify_ms']:.3f} ms, consistency {row['consistency_ms']:.2f} ms", flush=True)
    return out


def bench_concurrency(folder: Path, per_writer: int) -> list[tuple[str, float, int]]:
    from test_audit_concurrency import WRITERS, check, run_writers

    rows = []
    targets = [("SQLite WAL", lambda m: f"sqlite:///{folder}/conc-{m}.db")]
    pg = os.environ.get("REELGUARD_TEST_PG_URL")
    if pg:
        targets.append(("PostgreSQL", lambda m: _fresh_pg(pg, m)))
    for name, url_for in targets:
        for mode in ("threads", "processes"):
            url = url_for(mode)
            t = time.perf_counter()
            log = run_writers(url, per_writer, mode)
            wall = time.perf_counter() - t
            check(log, per_writer)
            rows.append((f"{name}, {WRITERS} {mode}", wall, WRITERS * per_writer))
            print(f"  {name} {mode}: {WRITERS} x {per_writer:,} in {wall:.1f} s, verified", flush=True)
    return rows


def _fresh_pg(server: str, tag: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"reelguard_bench_{tag}_{os.getpid()}"
    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def plot(proofs: list[dict], appends: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    sizes = [r["size"] for r in proofs]
    a.plot(sizes, [r["prove_ms"] for r in proofs], "o-", label="inclusion proof: generate (DB)")
    a.plot(sizes, [r["consistency_ms"] for r in proofs], "s-", label="consistency proof: generate (DB)")
    a.plot(sizes, [r["verify_ms"] for r in proofs], "^-", label="inclusion proof: verify")
    a.axhline(5, color="#c62828", linestyle="--", linewidth=1, label="goal: 5 ms")
    a.set_xscale("log")
    a.set_xlabel("tree size (events)")
    a.set_ylabel("median time (ms)")
    a.set_title("Proofs stay O(log n)")
    a.legend(fontsize=7, frameon=False)
    names = [r[0].replace(", ", "\n") for r in appends]
    b.barh(names, [r[1] for r in appends], color="#2f5fb3", label="wall clock")
    b.barh(names, [r[2] for r in appends], color="#2f5fb3", alpha=.3, label="per CPU second")
    b.axvline(5000, color="#c62828", linestyle="--", linewidth=1, label="goal: 5,000/s")
    b.set_xlabel("appends per second (SQLite)")
    b.tick_params(axis="y", labelsize=7)
    b.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=140)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k-event log and 8 x 1,000 writers")
    parser.add_argument("--db", type=Path, help="keep the big log in this SQLite file")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "audit")
    parser.add_argument("--skip-concurrency", action="store_true")
    args = parser.parse_args()
    size = 100_000 if args.quick else 1_000_000
    folder = Path(tempfile.mkdtemp(prefix="bench_audit_"))
    print(f"appends ({'20,000' if args.quick else '100,000'} events, SQLite WAL)", flush=True)
    appends = bench_appends(folder, 20_000 if args.quick else 100_000)
    print(f"building a {size:,}-event log", flush=True)
    (log, build_wall, _) = _timed(lambda: build_big(args.db or folder / "big.db", size))
    print(f"  {build_wall:.0f} s", flush=True)
    print("proofs", flush=True)
    sizes = [s for s in (1_000, 10_000, 100_000, 1_000_000) if s <= size]
    proofs = bench_proofs(log, sizes)
    print("full verify", flush=True)
    result, verify_wall, verify_cpu = _timed(log.verify)
    if not result.ok:
        raise SystemExit(f"verify failed: {result.reason}")
    print(f"  {result.size:,} events in {verify_wall:.1f} s wall ({verify_cpu:.1f} s CPU)", flush=True)
    concurrency = [] if args.skip_concurrency else bench_concurrency(folder, 1_000 if args.quick else 10_000)

    args.out.mkdir(parents=True, exist_ok=True)
    plot(proofs, appends, args.out / "bench.png")
    load = os.getloadavg()[0]
    lines = [
        f"# Audit log benchmark ({'quick' if args.quick else 'full'})",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.1f} at the end "
        "(the machine is shared: CPU-time rates are the load-independent figure).",
        "",
        "## Appends (SQLite WAL, synchronous=NORMAL)",
        "",
        "| transaction shape | appends/s (wall) | appends/s (per CPU second) |",
        "|---|---:|---:|",
        *[f"| {name} | {wall:,.0f} | {cpu:,.0f} |" for name, wall, cpu in appends],
        "",
        f"## Proofs (tree of {size:,} events; median of 300 random leaves)",
        "",
        "| tree size | path length | inclusion: generate (ms) | p95 (ms) | inclusion: verify (ms) "
        "| consistency: generate (ms) | consistency: verify (ms) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {r['size']:,} | {r['path']:.1f} | {r['prove_ms']:.2f} | {r['prove_p95_ms']:.2f} | {r['verify_ms']:.3f} "
          f"| {r['consistency_ms']:.2f} | {r['consistency_verify_ms']:.3f} |" for r in proofs],
        "",
        "## Full verification",
        "",
        f"`AuditLog.verify()` recomputed {result.size:,} leaf hashes, subtree hashes and roots in "
        f"**{verify_wall:.1f} s** wall ({verify_cpu:.1f} s CPU); building the log took {build_wall:.0f} s.",
        "",
    ]
    if concurrency:
        lines += ["## Concurrent writers (each verified afterwards: no loss, gap-free, consistent tree)", "",
                  "| store, writers | events | seconds |", "|---|---:|---:|",
                  *[f"| {name} | {n:,} | {wall:.1f} |" for name, wall, n in concurrency], ""]
    lines += ["![benchmark](bench.png)", ""]
    (args.out / "bench.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out / 'bench.md'} and bench.png")


if __name__ == "__main__":
    main()
