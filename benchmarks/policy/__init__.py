"""The policy benchmark, split into data (prompt files, obfuscator), the keyword baseline, the run
and the report; ``benchmarks/bench_policy.py`` is the one command."""
