"""Jobs on Celery + Redis: exactly-once effects, crash recovery, expiry, queue outages, batches."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from tests.support.api import make_api, panning_clip, redis_or_skip

SAFE = "a red circle moving right on a blue background"
DENIED = "Mickey Mouse dancing in a castle"
SMALL = {"num_frames": 16, "width": 128, "height": 128, "steps": 2}
GENERATION_KINDS = ["policy.decision", "generation.generated", "generation.watermarked", "generation.signed",
                    "generation.registry_check", "generation.recorded",
                    "registry.change"]  # the output's own fingerprints, stored with its record (issue 21)


class _Crash(BaseException):
    """Stands in for SIGKILL inside one process: nothing after it runs."""


def _kinds(ctx, actor: str) -> list[str]:
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        return [e.kind for e in session.exec(select(AuditEntry).where(AuditEntry.actor == actor).order_by(AuditEntry.leaf_index))]


def _new_job(ctx, request: dict, **kw) -> str:
    from governance.service.jobs.store import create_job
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        return create_job(session=session, kind="generate", actor="test", request=request, **kw).job_id


def _job(ctx, job_id: str):
    from governance.service.jobs.store import get_job
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        job = get_job(session=session, job_id=job_id)
        session.expunge(job)
        return job


def test_a_job_that_died_after_commit_is_finished_not_rerun(home, monkeypatch):
    """Redelivery after a crash between the flow's commit and the rename: no second run,
    no duplicate audit events, and the output appears (atomically) only now."""
    import governance.flows as flows
    from governance.records.audit.events import GenerationRecordedEvent, PolicyDecisionEvent
    from governance.service.jobs.store import job_actor
    from governance.service.jobs.tasks import outputs_dir, run_generate_job
    from governance.records.storage.db import session_scope

    api = make_api(home)
    ctx = api.ctx
    job_id = _new_job(ctx, {"prompt": SAFE})
    calls = []

    def crashing_generate(ctx_, request, **_kw):
        calls.append(request)
        with session_scope(ctx_.engine) as session:
            ctx_.audit.append(session, PolicyDecisionEvent(prompt_sha256="0" * 64, action="allow", pack_digest="x",
                                                           jurisdiction="eu"), actor=request.actor)
            ctx_.audit.append(session, GenerationRecordedEvent(content_id="ab" * 8, file_sha256="0" * 64,
                                                               output_name=request.output.name), actor=request.actor)
        request.output.with_name(f".{job_id}.{'ab' * 8}.signed.mp4").write_bytes(b"signed clip")
        raise _Crash()

    monkeypatch.setattr(flows, "generate", crashing_generate)
    with pytest.raises(_Crash):
        run_generate_job(ctx, job_id)
    out = outputs_dir(ctx) / f"{job_id}.mp4"
    assert not out.exists() and _job(ctx, job_id).status == "running"

    monkeypatch.setattr(flows, "generate", lambda *a, **k: pytest.fail("the flow ran twice"))
    assert run_generate_job(ctx, job_id) == "done"
    assert out.read_bytes() == b"signed clip"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    job = _job(ctx, job_id)
    assert job.result["content_id"] == "ab" * 8 and job.result["recovered_after_crash"] and job.attempts == 1
    assert _kinds(ctx, job_actor(job_id)) == ["policy.decision", "generation.recorded"]
    assert run_generate_job(ctx, job_id) == "done" and len(calls) == 1  # idempotent from now on


def test_refused_prompt_is_logged_and_not_queued(home):
    from governance.records.jobs import Job
    from governance.records.storage.db import session_scope

    api = make_api(home)
    r = api.client.post("/api/generate", json={"prompt": DENIED}, headers=api.h("generator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "denied" and body["job_id"] is None and not body["decision"]["allowed"]
    key_id = api.tokens["generator"].split("_")[1]
    assert _kinds(api.ctx, f"generator (apikey:{key_id})") == ["policy.decision"]  # the key's holder, named
    with session_scope(api.ctx.engine) as session:
        assert session.exec(select(Job)).all() == []


def test_queue_outage_is_a_clear_503_and_the_job_is_on_record(home, monkeypatch):
    from governance.records.jobs import Job
    from governance.records.storage.db import session_scope

    monkeypatch.setenv("REELGUARD_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    api = make_api(home)
    r = api.client.post("/api/generate", json={"prompt": SAFE, **SMALL}, headers=api.h("generator"))
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "queue-unavailable" and r.headers["Retry-After"]
    with session_scope(api.ctx.engine) as session:
        jobs = session.exec(select(Job)).all()
    assert [(j.status, j.error) for j in jobs] == [("failed", "the job queue was unavailable")]
    assert api.client.get("/healthz").json()["queue"] == "unavailable"


def test_expired_jobs(home):
    from datetime import timedelta

    from governance.service.jobs.tasks import run_generate_job

    api = make_api(home)
    job_id = _new_job(api.ctx, {"prompt": SAFE}, ttl=timedelta(seconds=-1))
    assert run_generate_job(api.ctx, job_id) == "failed"
    assert "expired" in _job(api.ctx, job_id).error
    # A finished job past its expiry answers 410 Gone (admin sees every job).
    from governance.service.jobs.store import finish_job, get_job
    from governance.records.storage.db import session_scope

    with session_scope(api.ctx.engine) as session:
        finish_job(session=session, job=get_job(session=session, job_id=job_id), status="done", result={})
    r = api.client.get(f"/api/jobs/{job_id}", headers=api.h("admin"))
    assert r.status_code == 410 and r.json()["error"]["code"] == "expired"
    # Someone else's job is invisible to a generator key.
    assert api.client.get(f"/api/jobs/{job_id}", headers=api.h("generator")).status_code == 404


def test_batch_verification_on_two_celery_workers(home, tmp_path):
    from governance.records.audit.models import AuditEntry
    from governance.service.jobs.batch import verify_many
    from governance.records.storage.db import session_scope

    redis_or_skip()
    api = make_api(home)
    clips = [panning_clip(tmp_path / f"c{i}.mp4", still=s, frames=12, size=(160, 96))
             for i, s in enumerate(("astronaut", "coffee", "chelsea", "rocket"))]
    seen = []
    results = verify_many(clips, workers=2, settings=api.settings, on_progress=lambda d, t: seen.append((d, t)))
    assert [r["verdict"] for r in results] == ["unknown"] * 4
    assert [Path(r["path"]).name for r in results] == [c.name for c in clips]
    assert seen[-1] == (4, 4)
    single = verify_many(clips, workers=1, settings=api.settings)
    assert [r["verdict"] for r in single] == [r["verdict"] for r in results]
    one_worker = verify_many(clips[:2], workers=1, settings=api.settings, queue=True)  # one Celery process
    assert [r["verdict"] for r in one_worker] == ["unknown"] * 2
    with session_scope(api.ctx.engine) as session:
        actors = [e.actor for e in session.exec(select(AuditEntry))]
    assert len(actors) == 10 and len(set(actors)) == 10  # one event per clip per batch, none twice


@pytest.fixture
def database_url(request, home):
    """PostgreSQL when the test server is configured (as in CI), else SQLite in the home."""
    if os.environ.get("REELGUARD_TEST_PG_URL"):
        return request.getfixturevalue("pg_url")
    return None


@pytest.mark.slow
def test_generation_job_survives_sigkill_of_its_worker(home, tmp_path, monkeypatch, database_url):
    """Kill the worker running a generation (SIGKILL, whole process group): a second worker
    completes it; one set of audit events; no half-written file ever has the output's name."""
    import signal

    from governance.service.jobs.batch import start_local_worker, stop_local_worker
    from governance.service.jobs.queue import broker_url
    from governance.service.jobs.store import job_actor
    from governance.service.jobs.tasks import outputs_dir

    redis_or_skip()
    queue = f"reelguard.test.{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REELGUARD_QUEUE", queue)
    api = make_api(home, **({"database_url": database_url} if database_url else {}))
    worker_env = {"REELGUARD_VISIBILITY_TIMEOUT": "4", "REELGUARD_SEMANTIC_POLICY": "0"}
    start = dict(settings=api.settings, queue=queue, concurrency=1, broker=broker_url(api.settings), extra_env=worker_env)
    first = start_local_worker(**start, name="first", log_path=tmp_path / "first.log")
    second = None
    try:
        # The API refuses to queue until a worker has been seen (its heartbeat).
        from governance.service.jobs.heartbeat import workers_seen

        deadline = time.monotonic() + 90
        while not workers_seen(broker_url(api.settings), stale_after_s=30, queue=queue):
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()[-2000:]
            time.sleep(0.2)
        r = api.client.post("/api/generate", json={"prompt": SAFE, "seed": 3, **SMALL}, headers=api.h("generator"))
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        deadline = time.monotonic() + 90
        while _job(api.ctx, job_id).status != "running":
            assert time.monotonic() < deadline, (tmp_path / "first.log").read_text()[-2000:]
            time.sleep(0.2)
        second = start_local_worker(**start, name="second", log_path=tmp_path / "second.log")
        time.sleep(3)  # the first worker is now loading the model or denoising
        assert _job(api.ctx, job_id).status == "running"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        deadline = time.monotonic() + 240
        while _job(api.ctx, job_id).status in ("queued", "running"):
            assert time.monotonic() < deadline, (tmp_path / "second.log").read_text()[-2000:]
            time.sleep(0.5)
        job = _job(api.ctx, job_id)
        assert job.status == "done", (job.error, (tmp_path / "second.log").read_text()[-2000:])
        assert job.attempts == 2
        clip = api.client.get(f"/api/jobs/{job_id}/clip", headers=api.h("generator"))
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4" and clip.content[4:8] == b"ftyp"
        assert _kinds(api.ctx, job_actor(job_id)) == GENERATION_KINDS
        assert sorted(p.name for p in outputs_dir(api.ctx).iterdir()) == [f"{job_id}.mp4"]
        # The finished clip verifies as authentic against the record the job wrote.
        v = api.client.post("/api/verify", files={"file": ("j.mp4", clip.content, "video/mp4")}, headers=api.h("verifier"))
        assert v.json()["verdict"] == "authentic", v.json()["reasons"]
    finally:
        for proc in (first, second):
            if proc is not None:
                stop_local_worker(proc)
