"""Liveness/readiness and "who am I"."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from governance.service.api.auth import Principal
from governance.service.api.deps import ALL_ROLES, Services, require, services
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import DiskOut, GenerationState, Health, Me, Reachable

router = APIRouter(tags=["system"])


MIN_FREE_BYTES = 1024**3  # below this, uploads and generated clips may fail half-way


def _disk(svc: Services) -> DiskOut:
    import shutil

    try:
        usage = shutil.disk_usage(svc.settings.home)
    except OSError:
        return DiskOut(free_bytes=0, total_bytes=0, status="unavailable")
    low = usage.free < MIN_FREE_BYTES
    return DiskOut(free_bytes=usage.free, total_bytes=usage.total, status="low" if low else "ok")


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def health(svc: Services = Depends(services)):
    """What works right now: the database, the disk under the home, the queue (broker), the
    workers seen by their heartbeats and the jobs waiting, and so whether a generation request
    would run. 503 when verification cannot work (database down, disk full); "degraded" with
    200 when only generation cannot (no worker, broker down)."""
    from sqlmodel import text

    from governance.service.jobs.heartbeat import queue_depth, workers_seen
    from governance.service.jobs.queue import broker_url, default_queue

    database: Reachable = "ok"
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        database = "unavailable"
    disk = _disk(svc)
    url, queue = broker_url(svc.settings), default_queue()
    broker: Reachable
    generation: GenerationState
    try:
        seen = workers_seen(url, stale_after_s=svc.settings.worker_stale_after_s, queue=queue)
        depth: int | None = queue_depth(url, queue)
        broker = "ok"
    except Exception:  # redis and socket errors alike: report, never fail the health check
        seen, depth, broker = [], None, "unavailable"
    if seen:
        generation = "ok"
    elif svc.settings.generate_in_process:
        generation = "in-process"
    else:
        generation = "no-worker" if broker == "ok" else "unavailable"
    serving = database == "ok" and disk.status == "ok"
    body = Health(
        status="ok" if serving and generation in ("ok", "in-process") else "degraded",
        database=database,
        queue=broker,
        queue_depth=depth,
        generation=generation,
        disk=disk,
        workers=len(seen),
        worker_last_seen_s=round(seen[0].age_s(), 1) if seen else None,
        public_verify=svc.settings.public_verify,
    )
    return JSONResponse(body.model_dump(), status_code=200 if serving else 503)


@router.get("/api/me", response_model=Me, responses=ERRORS)
def me(principal: Principal = Depends(require(*ALL_ROLES))) -> Me:
    """The caller's key id, role and (for rights holders) owner."""
    return Me(key_id=principal.key_id, role=principal.role, owner=principal.owner)
