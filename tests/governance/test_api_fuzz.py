"""Property-based fuzzing of every operation in /openapi.json (schemathesis): never a 5xx."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[test]' (schemathesis)")
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.governance.test_api_support import make_api, redis_or_skip  # noqa: E402


@pytest.fixture
def api(home, monkeypatch):
    redis_or_skip()  # /api/generate publishes jobs; a private queue keeps them off real workers
    queue = f"reelguard.fuzz.{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REELGUARD_QUEUE", queue)
    yield make_api(home)
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/0").delete(queue)


def test_no_server_errors(api):
    """Any request the schema allows (and many it does not) gets a non-5xx JSON answer as admin."""
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = {"X-API-Key": api.tokens["admin"]}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    seen: Counter[int] = Counter()

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            response = case.call(headers=headers)
            seen[response.status_code] += 1
            where = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.json()["error"]["request_id"], where

        check()
    assert sum(n for code, n in seen.items() if code < 300) > 20, seen  # the fuzzer got past auth and validation
    assert seen[401] == 0 and seen[403] == 0, seen
