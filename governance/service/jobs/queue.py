"""The Celery app (one per process), its configuration, and the broker health check."""

from __future__ import annotations

import os
from functools import lru_cache

from celery import Celery

from governance.core.settings import Settings

__all__ = ["broker_url", "celery_app", "broker_ok", "default_queue", "QUEUE"]

QUEUE = "reelguard"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def default_queue() -> str:
    """The queue generation jobs go to (``REELGUARD_QUEUE``; tests use a private one)."""
    return os.environ.get("REELGUARD_QUEUE") or QUEUE


def broker_url(settings: Settings | None = None) -> str:
    """``settings.broker_url`` (``REELGUARD_BROKER_URL``), else the local Redis."""
    if settings is not None:
        return settings.broker_url
    return os.environ.get("REELGUARD_BROKER_URL") or DEFAULT_BROKER


@lru_cache(maxsize=8)
def celery_app(url: str | None = None, *, results: bool = True) -> Celery:
    """The Celery app for ``url``; ``results=False`` for publishers that never read results
    (the API: job state lives in the database), so a Redis outage fails fast, not after the
    result store's reconnect loop."""
    url = url or broker_url()
    visibility = int(os.environ.get("REELGUARD_VISIBILITY_TIMEOUT", "3600"))
    app = Celery("reelguard", broker=url, backend=url if results else None, include=["governance.service.jobs.tasks"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_default_queue=QUEUE,
        # At-least-once: ack after the task returns; a worker that dies mid-task gets its
        # message back on the queue (exactly-once effects are the task's job, see tasks.py).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # Unacked messages of a dead *machine* come back after this many seconds; a job that
            # runs longer than this may be handed out twice (the job lock and the audit check
            # keep its effects single), so keep it well above the longest job.
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(10, visibility // 2)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
        },
        redis_socket_connect_timeout=3,
        redis_socket_timeout=10,
        worker_hijack_root_logger=False,
        task_always_eager=os.environ.get("REELGUARD_JOBS_EAGER") == "1",
        broker_connection_timeout=3,
    )
    return app


def broker_ok(settings: Settings | None = None) -> bool:
    """True when the broker answers a PING within a second."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url(settings), socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except Exception:
        return False
