"""The registry benchmark (``bench_registry.py``) in parts: ``data`` (works and the DEV /
HELD-OUT splits), ``transforms`` (the query suite), ``baselines`` (vPDQ as shipped, PDQ and
pHash at full strength), ``run`` (the suite), ``scale`` (index scale) and ``report``."""
