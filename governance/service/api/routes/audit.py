"""Read-only audit: events, inclusion and consistency proofs, checkpoints, stats, reports."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from governance.records.apikeys import Role
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import AuditEventOut, AuditStats

router = APIRouter(prefix="/api/audit", tags=["audit"], dependencies=[Depends(require(Role.auditor))])
admin_router = APIRouter(prefix="/api/audit", tags=["audit"], dependencies=[Depends(require(Role.admin))])
EventId = PathParam(pattern=r"^[0-9a-f]{32}$")
_NOT_FOUND = {**ERRORS, 404: {"description": "unknown event or size"}}


@router.get("/events", response_model=list[AuditEventOut], responses=ERRORS)
def list_events(
    kind: list[str] = Query(default=[], max_length=20, description="filter by event kind"),
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    svc: Services = Depends(services),
) -> list[AuditEventOut]:
    """Events in leaf order, within [start, end) and of the given kinds."""
    rows = svc.ctx.audit.events(start=start, end=end, kinds=kind, limit=limit)
    return [AuditEventOut.model_validate(r.model_dump()) for r in rows]


@router.get("/events/{event_id}", response_model=AuditEventOut, responses=_NOT_FOUND)
def get_event(event_id: str = EventId, svc: Services = Depends(services)) -> AuditEventOut:
    return AuditEventOut.model_validate(svc.ctx.audit.get(event_id).model_dump())


@router.get("/proof/{event_id}", response_model=dict[str, Any], responses=_NOT_FOUND)
def inclusion_proof(
    event_id: str = EventId, size: int | None = Query(default=None, ge=1), svc: Services = Depends(services)
) -> dict[str, Any]:
    """RFC 9162 inclusion proof of one event in the tree of ``size`` (default: now)."""
    return svc.ctx.audit.prove(event_id, size=size).to_dict()


@router.get("/consistency", response_model=dict[str, Any], responses=_NOT_FOUND)
def consistency_proof(
    old_size: int = Query(ge=0), new_size: int | None = Query(default=None, ge=0), svc: Services = Depends(services)
) -> dict[str, Any]:
    """Proof that the tree at ``old_size`` is a prefix of the tree at ``new_size``."""
    return svc.ctx.audit.consistency(old_size, new_size).to_dict()


@router.get("/checkpoints", response_model=list[dict[str, Any]], responses=ERRORS)
def checkpoints(svc: Services = Depends(services)) -> list[dict[str, Any]]:
    """Every signed checkpoint (signed note text included)."""
    return [c.model_dump(mode="json") for c in svc.ctx.audit.checkpoints()]


@router.get("/verify", response_model=dict[str, Any], responses=ERRORS)
async def verify_log(svc: Services = Depends(services)) -> dict[str, Any]:
    """Recompute every leaf, subtree and root of the log."""
    return (await run_in_threadpool(svc.ctx.audit.verify)).to_dict()


def _stats(svc: Services, days: int) -> AuditStats:
    from sqlalchemy import func, select
    from sqlmodel import col

    from governance.records.audit.log import parse_payload
    from governance.records.audit.models import AuditEntry

    since = datetime.now(UTC) - timedelta(days=days)
    audit = svc.ctx.audit
    with svc.engine.connect() as conn:
        by_kind: dict[str, int] = dict(
            conn.execute(select(col(AuditEntry.kind), func.count()).group_by(col(AuditEntry.kind))).all()
        )
        day = func.date(col(AuditEntry.recorded_at))
        by_day = [
            {"day": str(d), "kind": k, "count": int(n)}
            for d, k, n in conn.execute(
                select(day, col(AuditEntry.kind), func.count())
                .where(col(AuditEntry.recorded_at) >= since)
                .group_by(day, col(AuditEntry.kind))
                .order_by(day)
            ).all()
        ]
        payloads = conn.execute(
            select(col(AuditEntry.payload))
            .where(col(AuditEntry.kind) == "verification", col(AuditEntry.recorded_at) >= since)
            .order_by(col(AuditEntry.leaf_index).desc())
            .limit(5000)
        ).scalars()
        verdicts = Counter(parse_payload(p).get("event", {}).get("verdict", "?") for p in payloads if p)
    return AuditStats(
        size=audit.size(),
        root=audit.root(),
        by_kind={k: int(v) for k, v in by_kind.items()},
        by_day=by_day,
        verdicts=dict(verdicts),
    )


@router.get("/stats", response_model=AuditStats, responses=ERRORS)
async def stats(days: int = Query(default=30, ge=1, le=366), svc: Services = Depends(services)) -> AuditStats:
    """Counts for the dashboard: per kind, per day and kind, verification verdicts."""
    return await run_in_threadpool(_stats, svc, days)


@router.get(
    "/report",
    responses={
        **ERRORS,
        200: {"content": {"application/json": {}, "text/csv": {}, "text/html": {}}},
        409: {"description": "no signed checkpoint covers the log yet"},
    },
)
async def report(
    start: date | None = None,
    end: date | None = None,
    jurisdiction: Literal["eu", "cn", "us-ca"] | None = None,
    format: Literal["json", "csv", "html"] = "json",
    table: Literal["verifications", "generations", "refusals", "likeness"] | None = Query(
        default=None, description="with format=csv: one of the report's tables instead of the totals"
    ),
    svc: Services = Depends(services),
) -> Response:
    """The compliance report for days [start, end] (UTC, default: the last 30 days), from the
    latest signed checkpoint (read-only: an admin signs checkpoints). ``format=csv&table=refusals``
    (or verifications, generations, likeness) answers that table, one row per event."""
    from governance.core.errors import AuditError
    from governance.records.audit.report import build_report, render_csv, render_html, render_json

    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=29)
    if not timedelta(0) <= end - start <= timedelta(days=366):  # the report has one row per day
        raise ApiError(422, "invalid-request", "the report range must run forwards and span at most 366 days")
    try:
        built = await run_in_threadpool(
            build_report,
            svc.ctx.audit,
            start=start,
            end=end,
            jurisdiction=jurisdiction,
            organisation=svc.settings.organisation,
        )
    except AuditError as exc:
        raise ApiError(409, "no-checkpoint" if "checkpoint" in str(exc) else "invalid-request", str(exc)) from None
    if table is not None:
        if format != "csv":
            raise ApiError(422, "invalid-request", "table= goes with format=csv")
        from governance.records.audit.report_tables import table_csv

        return Response(table_csv(built.tables, table), media_type="text/csv")
    render, media = {
        "json": (render_json, "application/json"),
        "csv": (render_csv, "text/csv"),
        "html": (render_html, "text/html"),
    }[format]
    return Response(render(built), media_type=media)


@admin_router.post("/checkpoints", response_model=dict[str, Any], status_code=201, responses=ERRORS)
async def sign_checkpoint(svc: Services = Depends(services)) -> dict[str, Any]:
    """Sign a checkpoint of the log as it is now (admin only)."""
    from governance.records.audit.checkpoint import load_or_create_signer
    from governance.records.audit.checkpoint import sign_checkpoint as sign

    signer = await run_in_threadpool(load_or_create_signer, svc.settings)
    checkpoint = await run_in_threadpool(sign, svc.ctx.audit, signer)
    return {
        "size": checkpoint.size,
        "root": checkpoint.root.hex(),
        "origin": checkpoint.origin,
        "note": checkpoint.note(),
    }
