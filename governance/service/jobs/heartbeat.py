"""Worker heartbeats and queue depth, read by ``/healthz`` and by ``POST /api/generate``.

Each worker's main process writes one Redis key every ``INTERVAL_S`` seconds (a small JSON
record: name, queues, pid, host, last beat) with a time-to-live of a few intervals, so a worker
that dies, hangs or loses its network disappears on its own, without a clean shutdown. Redis
is the broker already (a worker that cannot reach it cannot take jobs either), so no table or
migration is needed and the API reads all of it in two round trips.

Why not Celery's ``inspect().ping()``: it broadcasts and waits for replies for a fixed timeout
(a second or more on every health check), and answers nothing about when a worker was last
seen.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass

__all__ = ["WorkerSeen", "Heartbeat", "beat", "workers_seen", "queue_depth", "KEY_PREFIX", "INTERVAL_S"]

log = logging.getLogger("reelguard.jobs")

KEY_PREFIX = "reelguard:worker:"
INTERVAL_S = 10.0
# Kombu's Redis transport keeps one list per priority step; the default steps put messages of
# priority 0 in the plain list and the others in "<queue>\x06\x16<step>" lists.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


@dataclass(frozen=True)
class WorkerSeen:
    name: str
    host: str
    pid: int
    queues: tuple[str, ...]
    last_seen: float  # seconds since the epoch
    started: float

    def age_s(self, now: float | None = None) -> float:
        return max(0.0, (now if now is not None else time.time()) - self.last_seen)

    def to_dict(self) -> dict:
        return {**asdict(self), "queues": list(self.queues), "age_s": round(self.age_s(), 1)}


def _client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def beat(url: str, worker: WorkerSeen, *, ttl_s: float) -> None:
    """Record one beat of ``worker`` (raises redis errors: the caller decides what they mean)."""
    record = {**asdict(worker), "queues": list(worker.queues), "last_seen": time.time()}
    _client(url).set(KEY_PREFIX + worker.name, json.dumps(record), ex=max(1, int(ttl_s)))


def workers_seen(url: str, *, stale_after_s: float, queue: str | None = None) -> list[WorkerSeen]:
    """Workers whose last beat is younger than ``stale_after_s`` (those consuming ``queue`` when
    given), newest first. Raises redis errors when the broker does not answer."""
    client = _client(url)
    keys = list(client.scan_iter(match=KEY_PREFIX + "*", count=200))
    now = time.time()
    seen = []
    for raw in client.mget(keys) if keys else []:
        if raw is None:  # expired between SCAN and MGET
            continue
        try:
            data = json.loads(raw)
            worker = WorkerSeen(
                name=str(data["name"]),
                host=str(data["host"]),
                pid=int(data["pid"]),
                queues=tuple(data["queues"]),
                last_seen=float(data["last_seen"]),
                started=float(data["started"]),
            )
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed worker heartbeat record")
            continue
        if worker.age_s(now) <= stale_after_s and (queue is None or queue in worker.queues):
            seen.append(worker)
    return sorted(seen, key=lambda w: -w.last_seen)


def queue_depth(url: str, queue: str) -> int:
    """Messages waiting in ``queue`` (not counting those a worker has taken)."""
    client = _client(url)
    pipe = client.pipeline()
    for suffix in _PRIORITY_SUFFIXES:
        pipe.llen(queue + suffix)
    return int(sum(pipe.execute()))


class Heartbeat:
    """A daemon thread beating for one worker process until ``stop()``."""

    def __init__(self, url: str, *, name: str, queues: tuple[str, ...], interval_s: float = INTERVAL_S) -> None:
        now = time.time()
        self.url, self.interval_s = url, interval_s
        self.worker = WorkerSeen(
            name=name, host=socket.gethostname(), pid=os.getpid(), queues=queues, last_seen=now, started=now
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reelguard-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        """Beat once now (the worker is visible when this returns), then every interval."""
        self._failing = False
        self._beat_once()
        self._thread.start()
        return self

    def _beat_once(self) -> None:
        import redis

        try:
            beat(self.url, self.worker, ttl_s=self.interval_s * 3)
            self._failing = False
        except redis.RedisError as exc:
            if not self._failing:  # once per outage, not every interval
                log.warning("worker heartbeat failed: %s", type(exc).__name__)
            self._failing = True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._beat_once()

    def stop(self) -> None:
        """Stop beating and remove the record, so the API sees the worker gone at once."""
        import redis

        self._stop.set()
        self._thread.join(timeout=5)
        try:
            _client(self.url).delete(KEY_PREFIX + self.worker.name)
        except redis.RedisError as exc:
            log.warning("could not remove the worker heartbeat (it expires on its own): %s", type(exc).__name__)
