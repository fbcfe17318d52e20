"""Run every benchmark (``benchmarks/bench_*.py``) in turn; each writes its tables and plots
under docs/. ``BENCH_ARGS=--quick make bench`` passes --quick to each; ``BENCH=watermark,c2pa``
selects some."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    selected = {name.strip() for name in os.environ.get("BENCH", "").split(",") if name.strip()}
    extra = shlex.split(os.environ.get("BENCH_ARGS", ""))
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in selected]
    failures = []
    for script in scripts:
        print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *extra], cwd=HERE.parent)
        print(f"=== {script.name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failures.append(script.name)
    if failures:
        print("failed: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
