"""Shared pieces of the API and job tests (no tests here): clips, keys, an app per test."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLES = ("generator", "verifier", "rights-holder", "auditor", "admin")
OWNER = "Studio A"


def panning_clip(path: Path, *, still: str = "astronaut", frames: int = 48, size=(320, 180), fps: float = 24.0) -> Path:
    """A short real-picture clip (a slow pan over a scikit-image still) that fingerprints well."""

    from detectors.video_io import write_video
    from tests.support.clips import pan_across
    from tests.support.fingerprint_examples import still as load_still

    w, h = size
    big = load_still(still, (int(w * 1.3), int(h * 1.3)))
    out = pan_across(big, frames=frames, window=(w, h), y=(big.shape[0] - h) // 2)
    return write_video(path, out, fps=fps, preset="veryfast")


@dataclass
class Api:
    client: object
    app: object
    ctx: object
    settings: object
    tokens: dict
    home: Path

    def h(self, role: str | None) -> dict:
        return {"X-API-Key": self.tokens[role]} if role else {}


def make_api(home: Path, **overrides) -> Api:
    from fastapi.testclient import TestClient

    from governance.core.settings import get_settings
    from governance.flows import FlowContext
    from governance.records.apikeys import ApiKeyCreate
    from governance.records.storage.db import session_scope
    from governance.service.api import create_app
    from governance.service.api.auth import create_api_key

    settings = get_settings(home=home, **overrides)
    ctx = FlowContext(settings, semantic_policy=False)
    app = create_app(settings, context=ctx)
    tokens = {}
    with session_scope(ctx.engine) as session:
        for role in ROLES:
            owner = OWNER if role == "rights-holder" else None
            _key, tokens[role] = create_api_key(session=session, key_in=ApiKeyCreate(name=role, role=role, owner=owner))
        _key, tokens["other-holder"] = create_api_key(
            session=session, key_in=ApiKeyCreate(name="b", role="rights-holder", owner="Studio B"))
    client = TestClient(app, raise_server_exceptions=False)
    return Api(client, app, ctx, settings, tokens, home)


def redis_or_skip(url: str = "redis://127.0.0.1:6379/0") -> None:
    """Skip when Redis is unreachable (fail in CI, where it must run)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis at {url} unreachable: {exc}")
