"""Protected-material registry benchmark: transform-suite recall and false matches of ReelGuard
against full-strength PDQ, pHash and vPDQ baselines in the same run, on DEV and HELD-OUT works
reported apart, then scale (1M / 10M fingerprints) and registration throughput.
Writes docs/registry/{results.json,results.md,recall.png,scale.png} and the generated block of
docs/registry.md.

    python benchmarks/bench_registry.py [--quick] [--skip-scale | --scale-only | --layout-scale]
                                        [--split dev|heldout|both] [--out docs/registry]

Works: DEV (``registry/split_dev.json``: the two shared real clips and 19 scikit-image stills,
the set the layout fingerprint and its thresholds were tuned on) and HELD-OUT
(``registry/split_heldout.json``), panned and zoomed into 6 s clips, normalised to 640x360
references. Queries are written to H.264 files and fingerprinted as ``reelguard registry match``
does, decided by production's ``MatchConfig``. The parts live in ``benchmarks/registry/``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from registry.data import load_split  # noqa: E402
from registry.report import write_report  # noqa: E402
from registry.run import run_suite  # noqa: E402
from registry.scale import end_to_end_60s, layout_scale, rss_mb, run_scale, scale_only, synthetic_codes  # noqa: E402
from registry.transforms import TRANSFORMS  # noqa: E402

__all__ = ["main", "rss_mb", "synthetic_codes", "run_scale", "TRANSFORMS"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the splits' quick works (one flat each), 1M scale only")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--scale-only", action="store_true", help="only the 1M/10M index measurements")
    parser.add_argument(
        "--layout-scale",
        action="store_true",
        help="only the brute-force layout comparison cost versus flat reference keyframes",
    )
    parser.add_argument(
        "--split",
        choices=("dev", "heldout", "both"),
        default="both",
        help="whose works to query (all named splits are registered)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "registry")
    parser.add_argument("--windows", type=int, default=1, help="queries per work and transform")
    args = parser.parse_args(argv)
    if args.scale_only:
        return scale_only(args.out, args.quick)
    if args.layout_scale:
        return layout_scale(args.out)
    started = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - started:6.0f}s] {msg}", flush=True)

    names = ("dev", "heldout") if args.split == "both" else (args.split,)
    splits = [(s, s.names(args.quick)) for s in map(load_split, names)]
    command = "bench_registry.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    with tempfile.TemporaryDirectory(prefix="bench_registry_") as tmp_s:
        tmp = Path(tmp_s)
        suite = run_suite(tmp, splits, args.windows, list(TRANSFORMS), log)
        # Written once before the slower tail, so a failure there cannot lose the suite's rows.
        write_report(args.out, suite, [], None, command=command, quick=args.quick)
        e2e = end_to_end_60s(tmp, suite.registry)
        log(f"60 s query: fingerprint {e2e['extract_s']:.2f} s, total {e2e['total_s']:.2f} s")
        scale = []
        if not args.skip_scale:
            from governance.records.registry.service import fingerprint_file, query_config

            clip, _ = fingerprint_file(tmp / "q60.mp4", query_config(60.0), max_pixels=640 * 360 * 4)
            scale = run_scale(
                clip.pdq.codes, [1_000_000] if args.quick else [1_000_000, 10_000_000], flat_max=10_000_000
            )
        summary = write_report(args.out, suite, scale, e2e, command=command, quick=args.quick)
    print("\n" + summary)
    log(f"wrote {args.out}/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
