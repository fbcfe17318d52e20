"""What the benchmarks print about the machine they ran on."""

from __future__ import annotations

import platform
from pathlib import Path


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return ""


def cpu_model() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    return next((line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines() if line.startswith("model name")),
                platform.processor() or platform.machine())


def int8_instructions() -> str:
    """Whether the CPU has int8 dot-product instructions (VNNI), which int8 ONNX graphs use when
    present: their latency moves with it."""
    flags = set(next((line.split(":", 1)[1].split() for line in _cpuinfo().splitlines() if line.startswith("flags")), []))
    if "avx512_vnni" in flags:
        return "AVX-512 VNNI"
    if "avx_vnni" in flags:
        return "AVX-VNNI"
    return "AVX2, no VNNI" if "avx2" in flags else "no AVX2 or VNNI seen"
