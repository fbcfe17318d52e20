"""Liveness/readiness and "who am I"."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from governance.service.api.auth import Principal
from governance.service.api.deps import ALL_ROLES, Services, require, services
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import Health, Me

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def health(svc: Services = Depends(services)):
    """Ready when the database answers; the queue is reported but only generation needs it."""
    from sqlmodel import text

    from governance.service.jobs.queue import broker_ok

    database = "ok"
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        database = "unavailable"
    queue = "ok" if broker_ok(svc.settings) else "unavailable"
    body = Health(status="ok" if database == "ok" else "degraded", database=database, queue=queue)
    return JSONResponse(body.model_dump(), status_code=200 if database == "ok" else 503)


@router.get("/api/me", response_model=Me, responses=ERRORS)
def me(principal: Principal = Depends(require(*ALL_ROLES))) -> Me:
    """The caller's key id, role and (for rights holders) owner."""
    return Me(key_id=principal.key_id, role=principal.role, owner=principal.owner)
