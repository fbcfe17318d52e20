"""Shared fixtures: an isolated REELGUARD_HOME per test, and a fresh PostgreSQL database.

PostgreSQL tests (marker ``postgres``) read the server URL from ``REELGUARD_TEST_PG_URL``. On a
developer machine without the variable or the server they skip with a clear message; in CI
(``CI`` set) a missing server is a failure, so the production store is always exercised there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CLIPS = SHARED / "clips"
DATASETS = SHARED / "datasets"
C2PA_SAMPLES = SHARED / "c2pa" / "samples"


def _missing(message: str) -> None:
    """Skip on a developer machine; fail in CI, which has everything the Makefile installs."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_shared(path: Path) -> Path:
    """``path`` under ../shared: skip without it on a developer machine, fail in CI (which has it)."""
    if not path.exists():
        _missing(f"{path} is missing (../shared is laid beside the repository in CI)")
    return path


def require_tool(name: str) -> str:
    """The path of the system tool ``name`` (installed by the Makefile's system-deps)."""
    import shutil

    found = shutil.which(name)
    if found is None:
        _missing(f"{name} is not installed (the Makefile's system-deps installs it)")
    return str(found)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh REELGUARD_HOME; every REELGUARD_* variable from the caller is cleared."""
    for name in list(os.environ):
        if name.startswith("REELGUARD_") and name != "REELGUARD_TEST_PG_URL":
            monkeypatch.delenv(name, raising=False)
    path = tmp_path / "home"
    monkeypatch.setenv("REELGUARD_HOME", str(path))
    # Lexical rules only: loading MiniLM in every CLI test would dominate the suite's time;
    # the semantic matcher has its own tests under tests/policies.
    monkeypatch.setenv("REELGUARD_POLICY_SEMANTIC", "false")
    return path


def _pg_admin_url() -> str | None:
    return os.environ.get("REELGUARD_TEST_PG_URL")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason} (set REELGUARD_TEST_PG_URL to run them)")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = _pg_admin_url()
    if not url:
        _unavailable("REELGUARD_TEST_PG_URL is not set")
    try:
        import psycopg

        with psycopg.connect(_libpq(url), connect_timeout=3):
            pass
    except Exception as exc:  # the server is down or refuses us
        _unavailable(f"cannot connect to {url}: {exc}")
    return url


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A new, empty database on the test server for one test; dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"reelguard_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from governance.records.storage.db import get_engine

        for engine_url in [url]:
            try:
                get_engine(engine_url).dispose()
            except Exception:
                pass
        get_engine.cache_clear()
        with psycopg.connect(_libpq(pg_server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
