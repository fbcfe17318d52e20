"""Helpers of ``benchmarks/bench_verify.py``: the files (``data``), the timing (``measure``) and
the report (``report``)."""
