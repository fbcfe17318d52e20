"""The watermark benchmark (``bench_watermark.py``) in parts: ``clips`` (data), ``attacks``,
``metrics``, ``anchors`` (invisible-watermark baselines), ``run`` (measurements) and ``report``."""
