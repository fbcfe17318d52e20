"""The jobs' bodies: plain functions (``run_*``, testable without a worker) wrapped as Celery tasks.

Exactly-once effects on an at-least-once queue: each flow runs with the audit actor
``job:<id>`` (``job:<id>:<n>`` per batch clip) and commits its audit events and records in one
transaction. A redelivered job (worker death, retry) first looks for events of its actor: if
the flow committed, it finalises from them (and completes the output's atomic rename that a
SIGKILL may have cut short) instead of running the flow again. On PostgreSQL a session-level
advisory lock keeps two workers off the same job; the server drops it when a worker dies.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import shared_task
from sqlalchemy import text

from governance.core.errors import ANY_ERROR, PolicyDenied, ReelGuardError, StorageError, exit_code_for
from governance.records.jobs import utcnow
from governance.service.jobs.store import committed_events, finish_job, get_job, is_expired, is_terminal, job_actor

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from governance.flows import FlowContext

__all__ = ["JobBusy", "run_generate_job", "run_verify_clip", "outputs_dir", "worker_context"]

_CONTEXT: FlowContext | None = None


class JobBusy(ReelGuardError):
    """Another worker holds this job right now."""


def worker_context() -> FlowContext:
    """One FlowContext per worker process (built after fork, from the environment)."""
    global _CONTEXT
    if _CONTEXT is None:
        from governance.flows import FlowContext

        _CONTEXT = FlowContext(semantic_policy=os.environ.get("REELGUARD_SEMANTIC_POLICY", "1") != "0")
    return _CONTEXT


def outputs_dir(ctx: FlowContext) -> Path:
    """Where generation jobs write their clips (shared storage when workers are remote)."""
    path = ctx.settings.home / "outputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def job_lock(engine: Engine, job_id: str):
    """Yields True when this process may run ``job_id`` (always True on SQLite: one machine)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big", signed=True)
    conn = engine.connect()
    try:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        yield got
        if got:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    finally:
        conn.close()


def _generation_result(job_id: str, content_id: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"content_id": content_id, "clip": f"{job_id}.mp4", **extra}


def _finalise_committed(ctx: FlowContext, job_id: str, events: list[dict[str, Any]]) -> tuple[str, dict, str | None]:
    """The outcome of a flow that already committed (a previous attempt died after commit)."""
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecordPublic, get_record

    by_kind = {e["kind"]: e for e in events}
    if "generation.recorded" in by_kind:
        content_id = by_kind["generation.recorded"]["event"]["content_id"]
        out = outputs_dir(ctx) / f"{job_id}.mp4"
        signed_tmp = out.with_name(f".{job_id}.{content_id}.signed.mp4")
        if not out.exists() and signed_tmp.exists():
            os.replace(signed_tmp, out)  # the rename the dead worker did not get to
        if not out.exists():
            return "failed", {"content_id": content_id}, "the clip was recorded but its file was lost"
        with session_scope(ctx.engine) as session:
            row = get_record(session=session, content_id=content_id)
            record = GenerationRecordPublic.model_validate(row).model_dump(mode="json") if row else {}
        return "done", _generation_result(job_id, content_id, {"record": record, "recovered_after_crash": True}), None
    if "generation.registry_check" in by_kind:
        event = by_kind["generation.registry_check"]["event"]
        return "blocked", {"outcome": event.get("outcome"), "matches": event.get("matches", [])}, None
    return "denied", {"decision": by_kind.get("policy.decision", {}).get("event", {})}, None


def _clean_partials(folder: Path, job_id: str) -> None:
    """Hidden temp files of an attempt that died before commit (never visible as outputs)."""
    for stale in folder.glob(f".{job_id}.*"):
        stale.unlink(missing_ok=True)


def _reference_args(ctx: FlowContext, request: dict[str, Any]) -> dict[str, Any]:
    """The reference a job was submitted with (POST /api/generate/reference): a stored file
    named by its sha256, resolved inside the references folder only; the flow checks it again."""
    if not request.get("reference_file"):
        return {}
    from governance.flows.references import stored_reference

    kind = "video" if request.get("reference_kind") == "video" else "image"
    return {kind: stored_reference(ctx.settings, request["reference_file"]), "strength": request.get("strength")}


def run_generate_job(ctx: FlowContext, job_id: str) -> str:
    """Run (or finish) one generation job; returns its final status."""
    from governance.flows import GenerateRequest, ProtectedMaterialBlocked, generate
    from governance.records.storage.db import session_scope

    actor = job_actor(job_id)
    with job_lock(ctx.engine, job_id) as acquired:
        if not acquired:
            raise JobBusy(f"job {job_id} is running on another worker")
        with session_scope(ctx.engine) as session:
            job = get_job(session=session, job_id=job_id)
            if job is None:
                return "missing"
            if is_terminal(job):
                return job.status
            if is_expired(job):
                finish_job(session=session, job=job, status="failed", error="the job expired before a worker ran it")
                return "failed"
            done = committed_events(session=session, actor=actor)
            if done:
                status, result, error = _finalise_committed(ctx, job_id, done)
                finish_job(session=session, job=job, status=status, result=result, error=error)
                return status
            job.attempts += 1
            job.status, job.updated_at = "running", utcnow()
            session.add(job)
            request = dict(job.request)

        folder = outputs_dir(ctx)
        _clean_partials(folder, job_id)
        try:
            outcome = generate(
                ctx,
                GenerateRequest(
                    prompt=request["prompt"],
                    output=folder / f"{job_id}.mp4",
                    seed=int(request.get("seed", 0)),
                    num_frames=request.get("num_frames"),
                    width=request.get("width"),
                    height=request.get("height"),
                    steps=request.get("steps"),
                    fps=request.get("fps"),
                    jurisdiction=request.get("jurisdiction"),
                    force=True,
                    actor=actor,
                    **_reference_args(ctx, request),
                ),
            )
            result = outcome.to_dict()
            result.pop("output", None)  # a server path; clients fetch /api/jobs/<id>/clip
            status, payload, error = "done", _generation_result(job_id, outcome.content_id, result), None
        except PolicyDenied as denied:
            status, payload, error = "denied", {"decision": denied.decision.to_dict()}, None
        except ProtectedMaterialBlocked as blocked:
            status, payload, error = (
                "blocked",
                {"outcome": blocked.outcome, "matches": [m.to_dict() for m in blocked.matches]},
                None,
            )
        except (StorageError, JobBusy):
            raise  # transient: the task retries
        except ANY_ERROR as exc:  # leaf errors are virtual subclasses: ``except ReelGuardError`` misses them
            status, payload, error = "failed", None, str(exc)
        with session_scope(ctx.engine) as session:
            job = get_job(session=session, job_id=job_id)
            if job is not None:
                finish_job(session=session, job=job, status=status, result=payload, error=error)
        return status


def run_verify_clip(
    ctx: FlowContext, batch_id: str, index: int, path: str, stages: list[str] | None = None
) -> dict[str, Any]:
    """Verify one file of a batch (``stages``: what runs, default everything); a redelivered
    file returns its committed verdict."""
    from governance.flows import VerifyOptions, verify
    from governance.records.storage.db import session_scope

    actor = job_actor(batch_id, index)
    with session_scope(ctx.engine) as session:
        done = committed_events(session=session, actor=actor)
    if done:
        event = done[-1]["event"]
        return {
            "path": path,
            "verdict": event.get("verdict"),
            "reasons": event.get("reasons", []),
            "flags": event.get("flags", []),
            "file_sha256": event.get("file_sha256"),
            "audit_leaf_index": done[-1]["leaf_index"],
            "replayed": True,
        }
    options = VerifyOptions(stages=frozenset(stages)) if stages else VerifyOptions()
    try:
        return verify(ctx, path, actor=actor, options=options).to_dict()
    except StorageError:
        raise
    except ANY_ERROR as exc:  # the leaf packages' errors too (virtual subclasses escape ``except ReelGuardError``)
        return {"path": path, "error": str(exc), "exit_code": exit_code_for(exc)}


@shared_task(bind=True, name="reelguard.generate", acks_late=True, reject_on_worker_lost=True, max_retries=30)
def generate_task(self, job_id: str) -> str:
    try:
        return run_generate_job(worker_context(), job_id)
    except (JobBusy, StorageError) as exc:
        raise self.retry(countdown=5, exc=exc) from exc


@shared_task(bind=True, name="reelguard.verify_clip", acks_late=True, reject_on_worker_lost=True, max_retries=10)
def verify_clip_task(self, batch_id: str, index: int, path: str, stages: list[str] | None = None) -> dict[str, Any]:
    try:
        return run_verify_clip(worker_context(), batch_id, index, path, stages)
    except StorageError as exc:
        raise self.retry(countdown=5, exc=exc) from exc
