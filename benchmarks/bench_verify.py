"""Verifying Content Credentials, file in -> verdict out: ReelGuard beside c2pa-rs and SHA-256.

    python benchmarks/bench_verify.py            # samples + MP4 1/10/100/500 MB + JPEG 1/10/50 MB (~5 min, 2 cores)
    python benchmarks/bench_verify.py --quick    # samples + MP4 1/10 MB + JPEG 1/10 MB, 3 rounds (~1 min)
    python benchmarks/bench_verify.py --replot   # redraw docs/verify.md and the plot from results.json

For every file, in one warm process and in the same run: ReelGuard's credentials-only
verification (``verify`` with ``stages={"c2pa"}``, the batch mode: one ``FlowContext``, many
files), its core (``read_provenance``), c2pa-python's bare ``Reader`` + ``.json()`` with the same
trust table and with none, and ``hashlib.file_digest`` SHA-256. Engines take turns per file;
best and median of the rounds; warm page cache. Files: the real samples in
``shared/c2pa/samples`` (``REELGUARD_C2PA_SAMPLES``) and signed MP4s and JPEGs generated into a
temporary folder (a temporary ``REELGUARD_HOME`` holds the signing identity; all deleted at the
end). Videos up to ``--full-max-mb`` are also verified in full (watermark + registry). Nothing
is fetched: every c2pa Context is offline and non-loopback connections are refused. Writes
``docs/verify.md``, ``docs/verify/results.json`` and ``docs/verify/verify.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # machine.py, bench_c2pa.py and the verify/ helpers
sys.path.insert(1, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import machine  # noqa: E402  (benchmarks/machine.py)
from verify import data, measure, report  # noqa: E402  (benchmarks/verify/)

OUT = ROOT / "docs" / "verify"
REPORT = ROOT / "docs" / "verify.md"


def log(text: str) -> None:
    print(text, flush=True)


def forbid_network() -> None:
    """Refuse every connection that is not to a loopback address or a Unix socket (c2pa-rs's own
    fetching is off in every Context; this guards the Python side)."""
    import ipaddress

    def allowed(sock: socket.socket, address: object) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True
        host = address[0] if isinstance(address, tuple) else str(address)
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"

    for name in ("connect", "connect_ex"):
        real = getattr(socket.socket, name)

        def guarded(self: socket.socket, address: object, _real=real) -> object:
            if not allowed(self, address):
                raise PermissionError(f"bench_verify: refusing a connection to {address!r} (offline benchmark)")
            return _real(self, address)

        setattr(socket.socket, name, guarded)


def run(args: argparse.Namespace) -> dict:
    import c2pa

    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        work = Path(tmp)
        os.environ["REELGUARD_HOME"] = str(work / "home")
        from governance.core.settings import get_settings
        from governance.flows.context import FlowContext
        from governance.flows.verify import VerifyOptions, verify

        settings = get_settings(home=work / "home", remote_manifests=False, timestamp=False,
                                organisation="ReelGuard Bench")
        if settings.remote_manifests or settings.tsa_url:
            raise SystemExit("remote manifests / a TSA URL are configured; the benchmark stays offline")
        # The generated files come from another install (an issuer whose CA the verifier adds to
        # its trust, as a platform adds a partner's): trusted, and not this install's own release.
        from governance.provenance.keys import load_or_create_identity, trust_bundle_pem
        from governance.provenance.trust import TrustStore

        issuer_settings = get_settings(home=work / "issuer", organisation="ReelGuard Bench Studio")
        issuer = load_or_create_identity(issuer_settings)
        TrustStore(settings).add(trust_bundle_pem(issuer_settings).encode(), kind="anchor", source="issuer")
        ctx = FlowContext(settings)
        files = data.samples(args.samples)
        sample_count = len(files)
        first = files[0]
        first_start = time.perf_counter()
        verify(ctx, first.path, actor="bench", options=VerifyOptions(stages=frozenset({"c2pa"})))
        first_call = time.perf_counter() - first_start
        log(f"{sample_count} samples; first verify in this process {first_call * 1e3:.0f} ms ({first.label})")

        t = time.perf_counter()
        seed = data.seed_clip(ctx, work, watermarked=True)
        videos = data.signed_videos(issuer, work, args.sizes, seed, watermarked=True)
        jpegs = data.signed_jpegs(issuer, work, args.jpeg_sizes)
        full_sizes = [s for s in args.sizes if s <= args.full_max_mb] if not args.no_full else []
        plain = []
        if full_sizes:
            plain_seed = data.seed_clip(ctx, work, watermarked=False)
            plain = data.signed_videos(issuer, work, full_sizes, plain_seed, watermarked=False, tag="-plain")
            for f in plain:
                f.label += " (no watermark in the pixels)"
            protected = data._import_support().make_clip(work / "protected.mp4", seed=3, frames=48, size=128)
            ctx.registry.add_path(protected, owner="Bench", title="a protected work")
        phases = {"generate": time.perf_counter() - t}
        log(f"generated {len(videos)} MP4s, {len(jpegs)} JPEGs, {len(plain)} unmarked MP4s "
            f"in {time.perf_counter() - t:.0f} s")

        generated = sorted(videos + jpegs, key=lambda f: (f.kind != "video", f.bytes))
        engines = measure.Engines(ctx)
        rows: list[dict] = []
        try:
            t = time.perf_counter()
            log(f"credentials only, {args.repeat} rounds ({args.repeat_large} from {args.large_from_mb} MB):")
            for group in (generated, files):
                data.warm(group)
                small = [f for f in group if f.bytes < args.large_from_mb * data.MB]
                large = [f for f in group if f.bytes >= args.large_from_mb * data.MB]
                rows += measure.time_files(engines, small, args.repeat, log=log)
                rows += measure.time_files(engines, large, args.repeat_large, log=log)
            order = {f.path.name: i for i, f in enumerate(generated + files)}
            rows.sort(key=lambda r: order[r["file"]])

            breakdowns = []
            picks = [f for f in generated if f.kind == "video"][:1]  # the smallest signed MP4
            picks += [f for f in files if f.path.name == args.breakdown]
            phases["credentials"] = time.perf_counter() - t
            t = time.perf_counter()
            log(f"breakdown ({args.breakdown_reps} calls per step):")
            for f in picks:
                b = measure.breakdown(ctx, engines, f, args.breakdown_reps)
                breakdowns.append(b)
                log(f"  {f.label}: e2e {b['measured']['e2e']['median'] * 1e3:.2f} ms = "
                    + ", ".join(f"{s['key']} {s['median'] * 1e3:.2f}" for s in b["steps"])
                    + f"; c2pa-rs bare {b['measured']['bare_trust']['median'] * 1e3:.2f} ms")
            phases["breakdown"] = time.perf_counter() - t
        finally:
            engines.close()

        full = []
        if full_sizes:
            t = time.perf_counter()
            log(f"full verification ({args.repeat_full} runs{'' if args.quick else '; sample videos once'}):")
            targets = [f for f in videos if f.bytes <= (args.full_max_mb + 1) * data.MB] + plain
            data.warm(targets)
            full += measure.full_verification(ctx, targets, args.repeat_full, log=log)
            if not args.quick:
                sample_videos = [f for f in files if f.is_video]
                full += measure.full_verification(ctx, sample_videos, 1, log=log)
            by_file = {r["file"]: r for r in rows}
            for r in full:
                if r["file"] in by_file:
                    r["c2pa_only_s"] = by_file[r["file"]]["best"]["rg_e2e"]
            phases["full"] = time.perf_counter() - t
        ctx.close()
        ctx.engine.dispose()

    command = "python benchmarks/bench_verify.py" + ("".join(f" {shlex.quote(a)}" for a in sys.argv[1:]))
    return {
        "meta": {
            "when": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", "cpu": machine.cpu_model(),
            "sha_instructions": sha_instructions(), "cpus": os.cpu_count(),
            "load_avg": [round(load_start, 2), round(os.getloadavg()[0], 2)], "python": platform.python_version(),
            "c2pa_python": _c2pa_python_version(), "c2pa_rs": c2pa.sdk_version(), "quick": args.quick,
            "command": command, "repeat": args.repeat, "repeat_large": args.repeat_large,
            "large_from_mb": args.large_from_mb, "repeat_full": args.repeat_full, "sizes_mb": args.sizes,
            "jpeg_sizes_mb": args.jpeg_sizes, "samples": sample_count, "first_call_s": first_call,
            "first_call_file": first.label, "wall_s": time.perf_counter() - started,
            "phases_s": {k: round(v, 1) for k, v in phases.items()},
            "engines": measure.ENGINE_NAMES,
        },
        "rows": rows, "breakdown": breakdowns, "full": full,
    }


def sha_instructions() -> str:
    """Whether the CPU hashes SHA-256 in hardware (the SHA extensions): the SHA-256 column moves with it."""
    lines = machine._cpuinfo().splitlines()
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return "SHA extensions" if "sha_ni" in flags else "no SHA extensions" if flags else "unknown"


def _c2pa_python_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("c2pa-python")
    except PackageNotFoundError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="MP4 1/10 MB, JPEG 1/10 MB, 3 rounds (about a minute)")
    parser.add_argument("--sizes", type=int, nargs="*", help="signed MP4 sizes in MB (default 1 10 100 500)")
    parser.add_argument("--jpeg-sizes", type=int, nargs="*", help="signed JPEG sizes in MB (default 1 10 50)")
    parser.add_argument("--repeat", type=int, help="rounds per file (default 15, quick 3)")
    parser.add_argument("--repeat-large", type=int, help="rounds per file from --large-from-mb up (default 7, quick 3)")
    parser.add_argument("--large-from-mb", type=int, default=50)
    parser.add_argument("--repeat-full", type=int, help="full verifications per generated video (default 3, quick 1)")
    parser.add_argument("--full-max-mb", type=int, default=100, help="largest video verified in full")
    parser.add_argument("--no-full", action="store_true", help="skip full verification")
    parser.add_argument("--breakdown", default="c2pa-js-legacy__firefly-1.jpg", help="sample file broken down too")
    parser.add_argument("--breakdown-reps", type=int, help="calls per breakdown step (default 41, quick 15)")
    parser.add_argument("--samples", type=Path, default=data.SAMPLES)
    parser.add_argument("--out", type=Path, default=OUT, help="results.json and verify.png")
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--replot", action="store_true", help="redraw the report and plot from OUT/results.json")
    args = parser.parse_args(argv)
    if args.replot:
        import json

        report.write_outputs(json.loads((args.out / "results.json").read_text()), args.out, args.report)
        return 0
    args.sizes = args.sizes or ([1, 10] if args.quick else [1, 10, 100, 500])
    args.jpeg_sizes = args.jpeg_sizes if args.jpeg_sizes is not None else ([1, 10] if args.quick else [1, 10, 50])
    args.repeat = args.repeat or (3 if args.quick else 15)
    args.repeat_large = args.repeat_large or (3 if args.quick else 7)
    args.repeat_full = args.repeat_full or (1 if args.quick else 3)
    args.breakdown_reps = args.breakdown_reps or (15 if args.quick else 41)
    forbid_network()
    result = run(args)
    report.write_outputs(result, args.out, args.report)
    log(f"wrote {args.report}, {args.out / 'results.json'}, {args.out / 'verify.png'} "
        f"({result['meta']['wall_s'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
