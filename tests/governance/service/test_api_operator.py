"""The operator's day on the API: public verification (anonymous, rate-limited, size-limited,
nothing else opened), health that tells the truth, generation refused without a worker,
the audit actor naming the key's holder, and production refusing the development CA."""

from __future__ import annotations

import io
import os
import uuid

import numpy as np
import pytest
from sqlmodel import select

from tests.governance.service.test_api import MATRIX, PARAMS
from tests.support.api import make_api, redis_or_skip

SAFE = "a red circle moving right on a blue background"
SMALL = {"num_frames": 16, "width": 128, "height": 128, "steps": 2}


def _png(size: int = 32) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(size)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _verify(api, data: bytes, headers=None):
    return api.client.post("/api/verify", files={"file": ("x.png", data, "image/png")}, headers=headers or {})


def _actors(api) -> list[str]:
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    with session_scope(api.ctx.engine) as session:
        return [e.actor for e in session.exec(select(AuditEntry).order_by(AuditEntry.leaf_index))]


# ---- public verification ---------------------------------------------------------------------

def test_anonymous_verification_is_refused_unless_public_mode(home):
    api = make_api(home)
    r = _verify(api, _png())
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing-key"
    assert 'data-verify-mode="keyed"' in api.client.get("/").text


def test_public_mode_verifies_anonymously_and_opens_nothing_else(tmp_path):
    api = make_api(tmp_path / "home", public_verify=True)
    r = _verify(api, _png())
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] and r.json()["audit_proof"]
    assert _actors(api) == ["public"]  # no client address is recorded
    assert 'data-verify-mode="public"' in api.client.get("/").text
    # Every other route still wants a key.
    for (method, template) in MATRIX:
        if (method, template) == ("POST", "/api/verify"):
            continue
        path = template.format(**{k: v for k, v in PARAMS.items() if "{" + k + "}" in template})
        response = api.client.request(method, path)
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
    # A key still works, and is still checked: a bad one is refused, not treated as anonymous.
    assert _verify(api, _png(), api.h("verifier")).status_code == 200
    assert _verify(api, _png(), {"X-API-Key": "rg_garbage"}).status_code == 401
    assert _verify(api, _png(), api.h("generator")).status_code == 403


def test_public_mode_rate_limits_per_client_with_retry_after(tmp_path):
    api = make_api(tmp_path / "home", public_verify=True, public_verify_burst=2, public_verify_per_minute=1)
    assert [_verify(api, _png()).status_code for _ in range(2)] == [200, 200]
    r = _verify(api, _png())
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate-limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert _actors(api) == ["public", "public"]  # the refused one did no work
    # Keyed callers are not limited by the anonymous budget.
    assert _verify(api, _png(), api.h("verifier")).status_code == 200


def test_public_mode_has_its_own_upload_limit(tmp_path):
    data = _png(256)
    api = make_api(tmp_path / "home", public_verify=True, public_verify_max_bytes=len(data) // 2)
    r = _verify(api, data)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too-large"
    assert _verify(api, data, api.h("verifier")).status_code == 200  # keys keep the full limit


def test_token_bucket_refills_over_time():
    from governance.service.api.ratelimit import MemoryRateLimiter

    now = [1000.0]
    limiter = MemoryRateLimiter(rate_per_s=0.5, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("a").allowed for _ in range(3)] == [True, True, False]
    assert limiter.acquire("a").retry_after_s == 2  # one token every 2 s
    assert limiter.acquire("b").allowed  # clients have their own buckets
    now[0] += 2.0
    assert limiter.acquire("a").allowed and not limiter.acquire("a").allowed


def test_redis_bucket_is_shared_between_processes():
    from governance.service.api.ratelimit import RedisRateLimiter

    redis_or_skip()
    url = "redis://127.0.0.1:6379/0"
    client = f"test-{uuid.uuid4().hex}"
    one, two = (RedisRateLimiter(url, rate_per_s=0.01, burst=2) for _ in range(2))
    decisions = [one.acquire(client), two.acquire(client), one.acquire(client)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].retry_after_s >= 1
    # An unreachable Redis still limits, in process.
    down = RedisRateLimiter("redis://127.0.0.1:1/0", rate_per_s=0.01, burst=1)
    assert [down.acquire(client).allowed for _ in range(2)] == [True, False]


# ---- health and generation without a worker -------------------------------------------------

@pytest.fixture
def private_queue(monkeypatch):
    """A queue no stray worker on this machine consumes."""
    name = f"reelguard.test.{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REELGUARD_QUEUE", name)
    yield name
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/0").delete(name)


def test_generation_is_refused_when_no_worker_is_alive(home, private_queue):
    from governance.records.jobs import Job
    from governance.records.storage.db import session_scope

    redis_or_skip()
    api = make_api(home)
    health = api.client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded" and body["generation"] == "no-worker"
    assert body["workers"] == 0 and body["queue_depth"] == 0 and body["database"] == "ok"
    assert body["disk"]["status"] == "ok" and body["disk"]["free_bytes"] > 0
    r = api.client.post("/api/generate", json={"prompt": SAFE, **SMALL}, headers=api.h("generator"))
    assert r.status_code == 503 and r.headers["Retry-After"]
    err = r.json()["error"]
    assert err["code"] == "no-worker" and "reelguard worker" in err["message"] and "Nothing was queued" in err["message"]
    with session_scope(api.ctx.engine) as session:
        assert session.exec(select(Job)).all() == []


def test_a_worker_heartbeat_opens_generation_and_shows_in_health(home, private_queue):
    from governance.service.jobs.heartbeat import Heartbeat, workers_seen

    redis_or_skip()
    api = make_api(home)
    url = api.settings.broker_url
    beat = Heartbeat(url, name=f"test-{uuid.uuid4().hex[:6]}", queues=(private_queue,), interval_s=0.2).start()
    try:
        for _ in range(50):
            if workers_seen(url, stale_after_s=5, queue=private_queue):
                break
            import time

            time.sleep(0.05)
        r = api.client.post("/api/generate", json={"prompt": SAFE, **SMALL}, headers=api.h("generator"))
        assert r.status_code == 202, r.text
        assert r.json()["runner"] == "worker"
        body = api.client.get("/healthz").json()
        assert body["status"] == "ok" and body["generation"] == "ok"
        assert body["workers"] == 1 and body["worker_last_seen_s"] < 5
        assert body["queue_depth"] == 1  # the job waits in the queue (nobody consumes it here)
    finally:
        beat.stop()
    assert workers_seen(url, stale_after_s=5, queue=private_queue) == []  # gone at once on stop
    assert api.client.get("/healthz").json()["generation"] == "no-worker"


def test_generation_runs_in_process_when_the_setting_says_so(home, private_queue, monkeypatch):
    from governance.service.jobs import tasks
    from governance.service.jobs.store import finish_job, get_job
    from governance.records.storage.db import session_scope

    ran = []

    def fake_job(ctx, job_id):  # the real body is tested in test_jobs; here: who runs it, and where
        ran.append(job_id)
        with session_scope(ctx.engine) as session:
            finish_job(session=session, job=get_job(session=session, job_id=job_id), status="done", result={})
        return "done"

    monkeypatch.setattr(tasks, "run_generate_job", fake_job)
    api = make_api(home, generate_in_process=True)
    assert api.client.get("/healthz").json()["generation"] == "in-process"
    r = api.client.post("/api/generate", json={"prompt": SAFE, **SMALL}, headers=api.h("generator"))
    assert r.status_code == 202 and r.json()["runner"] == "in-process"
    job_id = r.json()["job_id"]
    api.app.state.services.local_jobs.shutdown(wait=True)
    assert ran == [job_id]
    job = api.client.get(f"/api/jobs/{job_id}", headers=api.h("generator")).json()
    assert job["status"] == "done"


# ---- identity and production --------------------------------------------------------------

def test_the_audit_actor_names_the_keys_holder(home):
    api = make_api(home)
    assert _verify(api, _png(), api.h("verifier")).status_code == 200
    holder_id = api.tokens["rights-holder"].split("_")[1]
    verifier_id = api.tokens["verifier"].split("_")[1]
    assert _actors(api) == [f"verifier (apikey:{verifier_id})"]
    from governance.service.api.auth import Principal
    from governance.records.apikeys import Role

    holder = Principal(key_id=holder_id, role=Role.rights_holder, owner="Studio A", name="ci")
    assert holder.actor == f"Studio A (apikey:{holder_id})"
    assert holder.owns(f"apikey:{holder_id}") and holder.owns(holder.actor) and not holder.owns("Studio A")


def test_production_refuses_the_development_ca_and_a_missing_tsa(home):
    from governance.core.errors import ConfigError
    from governance.service.api import create_app

    from governance.core.settings import get_settings

    settings = get_settings(home=home, environment="production")
    with pytest.raises(ConfigError) as refused:
        create_app(settings)
    assert "development CA" in str(refused.value) and "tsa_url" in str(refused.value)


def test_production_starts_with_an_imported_identity_and_a_tsa(home):
    import datetime as dt

    from cryptography.hazmat.primitives import serialization

    from governance.core.settings import get_settings
    from governance.flows import FlowContext
    from governance.provenance.keys import certs, import_identity
    from governance.service.api import create_app

    settings = get_settings(home=home, environment="production", tsa_url="http://127.0.0.1:9/tsa")
    settings.ensure_dirs()
    root_key = certs.generate_key("es256")
    root = certs.issue_certificate(root_key, common_name="Org Root", organisation="Org", profile="root")
    inter_key = certs.generate_key("es256")
    inter = certs.issue_certificate(inter_key, common_name="Org CA", organisation="Org", profile="intermediate",
                                    issuer=(root, root_key))
    key = certs.generate_key("es256")
    now = dt.datetime.now(dt.timezone.utc)
    leaf = certs.issue_certificate(key, common_name="Org Signer", organisation="Org", profile="signer",
                                   issuer=(inter, inter_key), not_before=now - dt.timedelta(days=1),
                                   not_after=now + dt.timedelta(days=30))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    import_identity(settings, chain_pem=certs.cert_pem(leaf, inter, root).encode(), key_pem=key_pem)
    FlowContext(settings, recover=False).check_environment()  # no error
    assert create_app(settings) is not None


def test_a_real_worker_beats_and_is_gone_when_it_stops(home, private_queue, tmp_path):
    import time

    from governance.service.jobs.batch import start_local_worker, stop_local_worker
    from governance.service.jobs.heartbeat import workers_seen

    redis_or_skip()
    api = make_api(home)
    url = api.settings.broker_url
    proc = start_local_worker(api.settings, queue=private_queue, concurrency=1, name="beat", broker=url,
                              log_path=tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 90
        while not workers_seen(url, stale_after_s=30, queue=private_queue):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.2)
        body = api.client.get("/healthz").json()
        assert body["workers"] == 1 and body["generation"] == "ok"
    finally:
        stop_local_worker(proc)
    assert workers_seen(url, stale_after_s=30, queue=private_queue) == []  # a clean stop removes the beat


def test_report_tables_over_the_api_name_the_refusal_and_who_asked(home):
    import csv

    api = make_api(home)
    denied = api.client.post("/api/generate", json={"prompt": "Mickey Mouse dancing in a castle"},
                             headers=api.h("generator"))
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    rule = denied.json()["decision"]["rule_id"]
    assert api.client.post("/api/audit/checkpoints", headers=api.h("admin")).status_code == 201
    r = api.client.get("/api/audit/report?format=csv&table=refusals", headers=api.h("auditor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(r.text)))
    key_id = api.tokens["generator"].split("_")[1]
    assert (row["source"], row["action"], row["rule"]) == ("policy", "deny", rule)
    assert row["actor"] == f"generator (apikey:{key_id})"
    bad = api.client.get("/api/audit/report?format=json&table=refusals", headers=api.h("auditor"))
    assert bad.status_code == 422


def test_anonymous_verifications_share_a_few_slots(tmp_path):
    api = make_api(tmp_path / "home", public_verify=True, public_verify_concurrency=1)
    slots = api.app.state.services.public_slots
    assert slots.acquire(blocking=False)  # one anonymous verification "in flight"
    try:
        r = _verify(api, _png())
        assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and r.headers["Retry-After"]
        assert _verify(api, _png(), api.h("verifier")).status_code == 200  # keyed callers are not held up
    finally:
        slots.release()
    assert _verify(api, _png()).status_code == 200


# ---- warm start --------------------------------------------------------------------------------

def _started(home, monkeypatch, policy):
    """An app with warm_policy on whose FlowContext.policy is ``policy``; returns its client."""
    from fastapi.testclient import TestClient

    from governance.core.settings import get_settings
    from governance.flows import FlowContext
    from governance.service.api import create_app

    monkeypatch.setattr(FlowContext, "policy", property(policy))
    settings = get_settings(home=home, warm_policy=True)
    return TestClient(create_app(settings, context=FlowContext(settings, semantic_policy=False)))


def test_warm_start_loads_the_policy_engine_before_the_first_request(home, monkeypatch):
    loaded: list[str] = []
    client = _started(home, monkeypatch, lambda self: loaded.append("policy"))
    assert loaded == []  # building the app loads nothing
    with client:  # start-up runs
        assert loaded == ["policy"]
        assert client.get("/").status_code == 200


def test_warm_start_stops_on_a_broken_pack_and_waits_out_a_database_outage(home, monkeypatch, caplog):
    from governance.core.errors import StorageError
    from policies import PolicyError

    def broken(self):
        raise PolicyError("pack.yaml:3: rules[0].category: unknown category 'x'")

    with pytest.raises(PolicyError, match="unknown category"), _started(home, monkeypatch, broken):
        pass

    def outage(self):
        raise StorageError("database unreachable")

    with caplog.at_level("WARNING", logger="reelguard.api"), _started(home, monkeypatch, outage) as client:
        assert client.get("/").status_code == 200  # serving; the engine loads on first use
    assert "policy engine not loaded at start-up" in caplog.text


def test_serve_turns_warm_start_on_unless_told_not_to(home, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from governance.service.cli.main import app as cli

    runs: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: runs.append(os.environ["REELGUARD_WARM_POLICY"]))
    monkeypatch.setenv("REELGUARD_WARM_POLICY", "unset")  # restored after the test: serve writes it
    for flags in ([], ["--no-warm"]):
        result = CliRunner().invoke(cli, ["serve", *flags])
        assert result.exit_code == 0, result.output
    assert runs == ["1", "0"]
