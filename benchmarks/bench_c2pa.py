"""C2PA signing and verification time versus file size, as a ratio to a plain SHA-256.

    python benchmarks/bench_c2pa.py            # 1, 10, 100, 250, 500 MB
    python benchmarks/bench_c2pa.py --quick    # 1, 10, 100 MB

Each size is a real, playable MP4 (a short H.264 clip whose ``mdat`` is grown with random
bytes, so c2pa-rs hashes every byte as it would for a long video). In the same run, for each
size: SHA-256 of the file (hashlib, 1 MiB chunks), a plain file copy, c2pa-rs signing alone
(``Builder.sign`` into a file), ``sign_video`` (that plus the atomic write with fsync, the
output's SHA-256 and the manifest read-back) and ``read_provenance`` (c2pa-rs reading and
validating with trust anchors). Best of ``--repeat`` runs; warm page cache. Writes
``docs/c2pa/bench.json``, ``docs/c2pa/bench.md`` and ``docs/c2pa/bench.png``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "c2pa"
MB = 1024 * 1024


def _grown_mp4(seed_clip: Path, dst: Path, size_bytes: int) -> Path:
    """Copy ``seed_clip`` with its mdat grown to reach ``size_bytes`` (offsets stay valid: mdat
    precedes moov and we only append to its end)."""
    data = seed_clip.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        box, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"mdat":
            break
        pos += box
    else:
        raise SystemExit("seed clip has no mdat box")
    extra = max(0, size_bytes - len(data))
    if box + extra >= 2**32:
        raise SystemExit("sizes above 4 GiB need a 64-bit mdat; not needed here")
    rng = np.random.default_rng(0)
    with open(dst, "wb") as out:
        out.write(data[:pos])
        out.write(struct.pack(">I4s", box + extra, b"mdat"))
        out.write(data[pos + 8 : pos + box])
        left = extra
        while left:
            chunk = min(left, 8 * MB)
            out.write(rng.integers(0, 256, chunk, dtype=np.uint8).tobytes())
            left -= chunk
        out.write(data[pos + box :])
    return dst


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(sizes_mb: list[int], repeat: int, algorithm: str) -> dict:
    from detectors.provenance import read_provenance
    from detectors.video_io import write_video
    from governance.keys import create_identity, trust_bundle_pem
    from governance.settings import get_settings
    import c2pa

    from governance.signing import ManifestSpec, SignOptions, build_definition, sign_video

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-c2pa-") as tmp:
        work = Path(tmp)
        settings = get_settings(home=work / "home")
        identity = create_identity(settings, algorithm=algorithm)
        anchors = trust_bundle_pem(settings)
        frames = np.random.default_rng(1).integers(0, 255, (8, 64, 64, 3), dtype=np.uint8)
        seed = write_video(work / "seed.mp4", frames, fps=8, preset="ultrafast")
        spec = ManifestSpec(
            title="bench.mp4", content_id="0123456789abcdef", watermark_scheme="reelguard.ss.v1",
            watermark_payload_hex="00112233aabbccdd", model_record={"model_id": "bench"},
            policy_decision={"action": "allow"}, jurisdiction="eu", obligations=("c2pa",),
        )
        for size in sizes_mb:
            src = _grown_mp4(seed, work / f"in-{size}.mp4", size * MB)
            dst = work / f"out-{size}.mp4"
            n = repeat if size <= 100 else max(1, repeat // 2)
            sha = _best(lambda: _sha256(src), n)
            copy = _best(lambda: shutil.copyfile(src, work / "copy.mp4"), n)
            (work / "copy.mp4").unlink()
            def c2pa_only() -> None:  # c2pa-rs alone: no fsync, no output hash, no read-back
                builder = c2pa.Builder(build_definition(spec, fmt="video/mp4"), context=SignOptions().context())
                signer = identity.c2pa_signer()
                with open(src, "rb") as source, open(work / "raw.mp4", "w+b") as out:
                    builder.sign(signer, "video/mp4", source, out)
                signer.close()

            native = _best(c2pa_only, n)
            (work / "raw.mp4").unlink()
            sign = _best(lambda: sign_video(src, dst, spec=spec, identity=identity), n)
            report = read_provenance(dst, trust_anchors_pem=anchors)
            if report.state != "trusted":
                raise SystemExit(f"{size} MB: signed file reads {report.state} {report.codes}")
            verify = _best(lambda: read_provenance(dst, trust_anchors_pem=anchors), n)
            rows.append({
                "size_mb": size, "bytes": src.stat().st_size, "sha256_s": sha, "copy_s": copy, "c2pa_sign_s": native, "sign_s": sign,
                "verify_s": verify, "sign_ratio": sign / sha, "verify_ratio": verify / sha, "copy_ratio": copy / sha, "c2pa_sign_ratio": native / sha,
            })
            print(f"{size:>5} MB  sha256 {sha * 1e3:8.1f} ms  copy {copy * 1e3:8.1f} ms  c2pa-rs {native * 1e3:8.1f} ms  "
                  f"sign {sign * 1e3:8.1f} ms "
                  f"({sign / sha:4.2f}x)  verify {verify * 1e3:8.1f} ms ({verify / sha:4.2f}x)", flush=True)
            src.unlink()
            dst.unlink()
    return {
        "algorithm": algorithm,
        "repeat": repeat,
        "c2pa_python": getattr(c2pa, "__version__", "0.38.1"),
        "c2pa_rs": c2pa.sdk_version(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs (shared)",
        "rows": rows,
    }


def write_outputs(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"C2PA {result['algorithm'].upper()} on {result['machine']}, c2pa-rs {result['c2pa_rs']}, best of {result['repeat']}.",
        "",
        "| size | SHA-256 | copy | c2pa-rs sign only | ratio | sign_video | ratio | read_provenance | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['size_mb']} MB | {r['sha256_s'] * 1e3:.1f} ms | {r['copy_s'] * 1e3:.1f} ms | "
            f"{r['c2pa_sign_s'] * 1e3:.1f} ms | {r['c2pa_sign_ratio']:.2f}x | {r['sign_s'] * 1e3:.1f} ms | "
            f"{r['sign_ratio']:.2f}x | {r['verify_s'] * 1e3:.1f} ms | {r['verify_ratio']:.2f}x |"
        )
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size_mb"] for r in result["rows"]]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(sizes, [r["sign_ratio"] for r in result["rows"]], "o-", label="sign_video / SHA-256")
    ax.plot(sizes, [r["verify_ratio"] for r in result["rows"]], "s-", label="read_provenance / SHA-256")
    ax.plot(sizes, [r["c2pa_sign_ratio"] for r in result["rows"]], "d--", label="c2pa-rs sign only / SHA-256")
    ax.plot(sizes, [r["copy_ratio"] for r in result["rows"]], "^:", label="file copy / SHA-256")
    ax.axhline(1.5, color="grey", linestyle="--", linewidth=1, label="goal 1.5x")
    ax.set_xscale("log")
    ax.set_yscale("log")  # fixed costs dominate at 1 MB; the large-file ratios are what matter
    ax.set_xlabel("file size (MB)")
    ax.set_ylabel("time relative to SHA-256 of the file")
    ax.set_title(f"C2PA cost vs file size ({result['algorithm'].upper()})")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "bench.png", dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="stop at 100 MB")
    parser.add_argument("--sizes", type=int, nargs="*", help="sizes in MB (overrides --quick)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--algorithm", default="es256", choices=["es256", "es384", "ed25519", "ps256"])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--replot", action="store_true", help="redraw table and plot from OUT/bench.json")
    args = parser.parse_args(argv)
    if args.replot:
        write_outputs(json.loads((args.out / "bench.json").read_text()), args.out)
        return 0
    sizes = args.sizes or ([1, 10, 100] if args.quick else [1, 10, 100, 250, 500])
    result = run(sizes, args.repeat, args.algorithm)
    write_outputs(result, args.out)
    print(f"wrote {args.out / 'bench.md'}, bench.json, bench.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
