"""Batch verification on the job engine: ``reelguard verify DIR --workers N``.

``workers == 1`` runs the verify flow in this process (no broker needed). ``workers > 1``
starts N local Celery worker processes (one prefork worker, concurrency N) on a private queue
of the shared Redis broker and fans the clips out as ``reelguard.verify_clip`` tasks: the same
tasks, retries and exactly-once audit keys as remote workers, so a folder verified here and
one verified by a fleet leave the same audit trail. Results come back in input order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from governance.core.errors import ReelGuardError
from governance.core.settings import Settings

__all__ = ["verify_many", "QueueUnavailable", "BatchTimeout"]

Progress = Callable[[int, int], None]  # (clips done, clips total)


class QueueUnavailable(ReelGuardError):
    """The Redis broker cannot be reached (``--workers 1`` needs none)."""

    exit_code = 11


class BatchTimeout(ReelGuardError):
    exit_code = 1


def verify_many(
    paths: Sequence[str | os.PathLike[str]],
    *,
    workers: int,
    settings: Settings,
    on_progress: Progress | None = None,
    timeout_s: float = 24 * 3600,
    queue: bool | None = None,
    stages: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Verify ``paths``; one dict per clip, in order: ``VerifyReport.to_dict()`` or
    ``{"path", "error", "exit_code"}`` for a clip that could not be verified. ``stages``:
    what runs (``["c2pa"]``: credentials only), default everything.

    ``queue``: None runs in process for one worker or one clip and on the Celery queue otherwise;
    True always uses the queue (one worker process is then the unit that more workers scale)."""
    clips = [str(Path(p).resolve()) for p in paths]
    batch_id = uuid.uuid4().hex
    progress = on_progress or (lambda _done, _total: None)
    if queue is False or (queue is None and (workers <= 1 or len(clips) <= 1)):
        return _in_process(clips, batch_id, settings, progress, stages)
    return _on_celery(clips, batch_id, settings, workers, progress, timeout_s, stages)


def _in_process(
    clips: list[str], batch_id: str, settings: Settings, progress: Progress, stages: Sequence[str] | None
) -> list[dict[str, Any]]:
    from governance.flows import FlowContext
    from governance.service.jobs.tasks import run_verify_clip

    ctx = FlowContext(settings)
    results = []
    for index, clip in enumerate(clips):
        results.append(run_verify_clip(ctx, batch_id, index, clip, list(stages) if stages else None))
        progress(index + 1, len(clips))
    return results


def _worker_env(settings: Settings, broker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REELGUARD_HOME=str(settings.home),
        REELGUARD_DATABASE_URL=settings.resolved_database_url,
        REELGUARD_BROKER_URL=broker,
        REELGUARD_JOBS_EAGER="0",
    )
    # One process per core: numeric libraries' own thread pools would make N processes fight
    # over the same cores (measured: 2 workers slower than 1 without this).
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "REELGUARD_WORKER_THREADS",
    ):
        env.setdefault(name, "1")
    return env


def start_local_worker(
    settings: Settings,
    *,
    queue: str,
    concurrency: int,
    name: str,
    broker: str,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen:
    """A Celery worker process group of our own (so it can be stopped without touching others)."""
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "governance.service.jobs.worker",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "-Q",
        queue,
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=WARNING",
    ]
    env = {**_worker_env(settings, broker), **(extra_env or {})}
    if log_path is None:
        return subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_local_worker(proc: subprocess.Popen, *, grace_s: float = 10.0) -> None:
    """Warm shutdown of a worker this process started, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _on_celery(
    clips: list[str],
    batch_id: str,
    settings: Settings,
    workers: int,
    progress: Progress,
    timeout_s: float,
    stages: Sequence[str] | None,
) -> list[dict[str, Any]]:
    from governance.service.jobs.queue import broker_ok, broker_url, celery_app

    broker = broker_url(settings)
    if not broker_ok(settings):
        raise QueueUnavailable("the job queue (Redis) is unreachable; run with --workers 1 or start Redis")
    queue = f"reelguard.batch.{batch_id}"
    app = celery_app(broker)
    proc = start_local_worker(settings, queue=queue, concurrency=workers, name=f"batch-{batch_id[:8]}", broker=broker)
    try:
        args = [list(stages)] if stages else []
        pending = [
            app.send_task("reelguard.verify_clip", args=[batch_id, i, clip, *args], queue=queue)
            for i, clip in enumerate(clips)
        ]
        deadline = time.monotonic() + timeout_s
        done_before = -1
        while True:
            done = sum(1 for r in pending if r.ready())
            if done != done_before:
                progress(done, len(clips))
                done_before = done
            if done == len(clips):
                break
            if proc.poll() is not None:
                raise QueueUnavailable(f"the local worker exited with status {proc.returncode}")
            if time.monotonic() > deadline:
                raise BatchTimeout(f"batch {batch_id} did not finish within {timeout_s:.0f} s")
            time.sleep(0.1)
        results = []
        for clip, result in zip(clips, pending, strict=True):
            value = result.get(propagate=False)
            if isinstance(value, dict):
                results.append(value)
            else:
                results.append({"path": clip, "error": f"worker error: {value!r}", "exit_code": 1})
            result.forget()
        return results
    finally:
        stop_local_worker(proc)
