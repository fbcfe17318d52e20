"""Generation as a job: the policy decision comes back at once; the clip is made by a worker.

``POST /api/generate`` -> 202 with the job id (or 200 with the refusal, logged, nothing queued);
``GET /api/jobs/{id}`` -> the job; ``GET /api/jobs/{id}/clip`` -> the signed MP4 once done.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.records.apikeys import JobPublic, Role
from governance.service.api.routes.common import ERRORS, decision_out
from governance.service.api.schemas import GenerateIn, GenerateOut
from governance.core.errors import PolicyDenied

router = APIRouter(prefix="/api", tags=["generate"])
JobId = PathParam(pattern=r"^[0-9a-f]{32}$", description="job id (32 hex)")


def _submit(svc: Services, body: GenerateIn, principal: Principal) -> tuple[int, GenerateOut]:
    from governance.flows import GenerateRequest, check_prompt, generate
    from governance.service.jobs.queue import broker_url, celery_app, default_queue
    from governance.service.jobs.store import create_job, finish_job, get_job
    from governance.service.jobs.tasks import outputs_dir
    from governance.records.storage.db import session_scope

    ctx = svc.ctx
    decision = check_prompt(ctx, body.prompt, jurisdiction=body.jurisdiction)
    if not decision.allowed:
        # The flow logs the refusal (and stops before the model); nothing is queued.
        try:
            generate(ctx, GenerateRequest(prompt=body.prompt, output=outputs_dir(ctx) / "refused.mp4",
                                          jurisdiction=body.jurisdiction, force=True, actor=principal.actor))
        except PolicyDenied as denied:
            decision = denied.decision
        out = decision_out(decision)
        return 200, GenerateOut(status="denied" if out.action == "deny" else out.action, decision=out)

    with session_scope(ctx.engine) as session:
        job = create_job(session=session, kind="generate", actor=principal.actor, owner=principal.owner,
                         request=body.model_dump(mode="json"))
        job_id = job.job_id
    try:
        celery_app(broker_url(svc.settings), results=False).send_task(
            "reelguard.generate", args=[job_id], task_id=job_id, queue=default_queue(),
            retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception as exc:
        # The job stays on record as failed, so the request is never lost silently.
        with session_scope(ctx.engine) as session:
            row = get_job(session=session, job_id=job_id)
            if row is not None:
                finish_job(session=session, job=row, status="failed", error="the job queue was unavailable")
        raise ApiError(503, "queue-unavailable", f"the job queue is unavailable; job {job_id} was not started "
                       "(retry the request)", headers={"Retry-After": "5"}) from exc
    return 202, GenerateOut(status="queued", decision=decision_out(decision), job_id=job_id,
                            job_url=f"/api/jobs/{job_id}", clip_url=f"/api/jobs/{job_id}/clip")


@router.post("/generate", response_model=GenerateOut, status_code=202,
             responses={**ERRORS, 200: {"model": GenerateOut, "description": "refused by policy (logged)"}})
async def submit_generation(
    body: GenerateIn,
    principal: Principal = Depends(require(Role.generator)),
    svc: Services = Depends(services),
):
    """Check the prompt now; queue the gated generation when the policy allows it."""
    status, out = await run_in_threadpool(_submit, svc, body, principal)
    return JSONResponse(out.model_dump(mode="json"), status_code=status)


def _load_job(svc: Services, job_id: str, principal: Principal):
    from governance.service.jobs.store import get_job, is_expired
    from governance.records.storage.db import session_scope

    with session_scope(svc.engine) as session:
        job = get_job(session=session, job_id=job_id)
        if job is None or (principal.role is not Role.admin and job.actor != principal.actor):
            raise ApiError(404, "not-found", f"no job {job_id} for this key")
        if is_expired(job) and job.status in {"done", "queued"}:
            raise ApiError(410, "expired", f"job {job_id} expired at {job.expires_at:%Y-%m-%d %H:%M} UTC")
        return JobPublic.model_validate(job)


@router.get("/jobs/{job_id}", response_model=JobPublic,
            responses={**ERRORS, 404: {"description": "unknown job"}, 410: {"description": "expired"}})
def get_job_route(
    job_id: str = JobId,
    principal: Principal = Depends(require(Role.generator)),
    svc: Services = Depends(services),
) -> JobPublic:
    """A job's state; generator keys see their own jobs only."""
    return _load_job(svc, job_id, principal)


@router.get("/jobs/{job_id}/clip", response_class=FileResponse,
            responses={**ERRORS, 200: {"content": {"video/mp4": {}}}, 404: {"description": "unknown job"},
                       409: {"description": "not done yet"}, 410: {"description": "expired"}})
def get_clip(
    job_id: str = JobId,
    principal: Principal = Depends(require(Role.generator)),
    svc: Services = Depends(services),
):
    """The signed, watermarked clip of a finished job."""
    from governance.service.jobs.tasks import outputs_dir

    job = _load_job(svc, job_id, principal)
    if job.status != "done":
        raise ApiError(409, "not-ready", f"job {job_id} is {job.status}")
    path = outputs_dir(svc.ctx) / f"{job_id}.mp4"
    if not path.is_file():
        raise ApiError(410, "expired", f"the clip of job {job_id} is no longer kept")
    return FileResponse(path, media_type="video/mp4", filename=f"reelguard-{job_id}.mp4")
