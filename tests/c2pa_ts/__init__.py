"""Test support for C2PA: a second, independent reader (@trustnxt/c2pa-ts under Node) and small
helpers (clips, specs, homes). Install the reader with
``npm install --prefix tests/c2pa_ts --no-audit --no-fund``."""
