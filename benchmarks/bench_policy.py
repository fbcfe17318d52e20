"""Benchmark of the prompt policy engine against public prompt sets and ReelGuard's own set.

    python benchmarks/bench_policy.py [--quick] [--out docs/policy] [--write-evasive]
    python benchmarks/bench_policy.py --multilingual-only   # issue #22's benchmark alone (~2 min)

Two parts. First the multilingual benchmark (``benchmarks/policy/``: data, baseline, run,
report): dev and held-out prompts in 13 language variants and 7 phrasing families, their names
obfuscated by an independent generator, four engines side by side, written to
``OUT/multilingual.md`` / ``.json`` / ``.png``. Then the English public-set suite (Six-CD, I2P;
``benchmarks/policy/english_data.py``, ``english_run.py``, ``english_report.py``), on the shipped
engine with MiniLM in PyTorch as the speed anchor.

A prompt counts as *flagged* when the engine would not let it be generated (deny, review, or
require-consent without a licence). Everything is measured in this run, including a plain
keyword blocklist built from the same packs' terms (lower-case whole-word match on the raw text:
no normalisation, no fuzzy or semantic matching), so the table shows what matching adds.
Writes ``OUT/benchmark.md``, ``OUT/benchmark.json`` and ``OUT/benchmark.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import cpu_model, int8_instructions  # noqa: E402  (benchmarks/machine.py)
from policy import english_report, english_run  # noqa: E402  (benchmarks/policy/: the English suite)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsample the large sets (a few minutes)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "policy")
    parser.add_argument(
        "--write-evasive", action="store_true", help="regenerate tests/policies/data/harmful_evasive.csv"
    )
    parser.add_argument("--multilingual-only", action="store_true", help="only the languages-and-phrasings benchmark")
    parser.add_argument("--skip-multilingual", action="store_true", help="only the English public-set suite")
    args = parser.parse_args()
    if not args.skip_multilingual:
        multilingual(args.out)
    if args.multilingual_only:
        return
    report = english_run.run(args.quick, evasive=args.write_evasive)
    english_report.write(args.out, report)
    print(f"wrote {args.out / 'benchmark.md'}")


def multilingual(out: Path) -> None:
    """Issue #22's benchmark: every engine on the dev and held-out splits, then latency."""
    from policy import report, run

    before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cache = Path(tempfile.mkdtemp(prefix="bench-policy-ml-"))
    data = run.run(model_cache=str(cache))
    after = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = {
        "cpu": cpu_model(),
        "int8": int8_instructions(),
        "cores": os.cpu_count(),
        "load_before": before,
        "load_after": after,
        "python": platform.python_version(),
    }
    report.write(out, data, machine)
    print(f"wrote {out / 'multilingual.md'}")


if __name__ == "__main__":
    main()
