"""Generation as a job: the policy decision comes back at once; the clip is made by a worker.

``POST /api/generate`` -> 202 with the job id (or 200 with the refusal, logged, nothing queued;
503 ``no-worker`` when no worker's heartbeat is fresh, unless ``generate_in_process``);
``GET /api/jobs/{id}`` -> the job; ``GET /api/jobs/{id}/clip`` -> the signed MP4 once done.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from generator.errors import GenerationParameterError
from governance.core.errors import PolicyDenied
from governance.records.apikeys import JobPublic, Role
from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS, decision_out
from governance.service.api.schemas import GenerateIn, GenerateOut
from governance.service.api.uploads import multipart_openapi

if TYPE_CHECKING:
    from policies import PolicyDecision

router = APIRouter(prefix="/api", tags=["generate"])
log = logging.getLogger("reelguard.api")
JobId = PathParam(pattern=r"^[0-9a-f]{32}$", description="job id (32 hex)")


def _workers_alive(svc: Services) -> bool | None:
    """Whether a worker consuming the generation queue beat recently; None when the broker
    does not answer (then nothing can be queued either)."""
    from governance.service.jobs.heartbeat import workers_seen
    from governance.service.jobs.queue import broker_url, default_queue

    try:
        return bool(
            workers_seen(
                broker_url(svc.settings), stale_after_s=svc.settings.worker_stale_after_s, queue=default_queue()
            )
        )
    except Exception:  # redis' errors and socket errors alike: the broker is unusable
        return None


def _run_local(ctx, job_id: str) -> str:
    """A job on the API process's own thread. What a worker would retry (database outage, a
    busy lock) has no queue to go back to here: the job is marked failed, with the reason."""
    from governance.records.storage.db import session_scope
    from governance.service.jobs import tasks
    from governance.service.jobs.store import finish_job, get_job

    try:
        return tasks.run_generate_job(ctx, job_id)
    except Exception as exc:  # on a pool thread nobody else would ever see it
        log.error("in-process generation job %s failed: %s", job_id, type(exc).__name__)
        try:
            with session_scope(ctx.engine) as session:
                row = get_job(session=session, job_id=job_id)
                if row is not None:
                    finish_job(session=session, job=row, status="failed", error=f"{type(exc).__name__}: {exc}")
        except Exception:  # the database itself is down: the job expires as unfinished
            log.error("could not record the failure of job %s", job_id)
        return "failed"


def _submit(svc: Services, body: GenerateIn, principal: Principal) -> tuple[int, GenerateOut]:
    from governance.flows import GenerateRequest, check_prompt, generate
    from governance.flows.model_limits import check_params
    from governance.records.storage.db import session_scope
    from governance.service.jobs.queue import broker_url, celery_app, default_queue
    from governance.service.jobs.store import create_job, finish_job, get_job
    from governance.service.jobs.tasks import outputs_dir

    ctx = svc.ctx
    try:  # a request the model cannot make is refused now, not by a worker minutes later
        check_params(ctx.settings.model, num_frames=body.num_frames, width=body.width, height=body.height)
    except GenerationParameterError as exc:
        raise ApiError(422, "invalid-request", str(exc)) from None
    decision = check_prompt(ctx, body.prompt, jurisdiction=body.jurisdiction)
    if not decision.allowed:
        # The flow logs the refusal (and stops before the model); nothing is queued.
        try:
            generate(
                ctx,
                GenerateRequest(
                    prompt=body.prompt,
                    output=outputs_dir(ctx) / "refused.mp4",
                    jurisdiction=body.jurisdiction,
                    force=True,
                    actor=principal.actor,
                ),
            )
        except PolicyDenied as denied:
            decision = denied.decision
        out = decision_out(decision)
        return 200, GenerateOut(status="denied" if out.action == "deny" else out.action, decision=out)

    alive = _workers_alive(svc)
    in_process = not alive and svc.settings.generate_in_process
    if alive is False and not in_process:
        # Queued with nobody to run it, the job would sit "queued" until it expired.
        stale = int(svc.settings.worker_stale_after_s)
        raise ApiError(
            503,
            "no-worker",
            f"no generation worker is running (none seen in the last {stale} s on "
            f"queue {default_queue()!r}); start one with `reelguard worker`, or set generate_in_process "
            "= true to generate in the API process. Nothing was queued.",
            headers={"Retry-After": "30"},
        )

    with session_scope(ctx.engine) as session:
        job = create_job(
            session=session,
            kind="generate",
            actor=principal.actor,
            owner=principal.owner,
            request=body.model_dump(mode="json"),
        )
        job_id = job.job_id
    if in_process:
        # The same job body a worker runs (exactly-once audit keys included), on this
        # process's single job thread; the client polls the job as it would a queued one.
        svc.local_jobs.submit(_run_local, ctx, job_id)
        return 202, _queued(decision, job_id, runner="in-process")
    try:
        celery_app(broker_url(svc.settings), results=False).send_task(
            "reelguard.generate",
            args=[job_id],
            task_id=job_id,
            queue=default_queue(),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
    except Exception as exc:
        # The job stays on record as failed, so the request is never lost silently.
        with session_scope(ctx.engine) as session:
            row = get_job(session=session, job_id=job_id)
            if row is not None:
                finish_job(session=session, job=row, status="failed", error="the job queue was unavailable")
        raise ApiError(
            503,
            "queue-unavailable",
            f"the job queue is unavailable; job {job_id} was not started (retry the request)",
            headers={"Retry-After": "5"},
        ) from exc
    return 202, _queued(decision, job_id, runner="worker")


@router.post(
    "/generate",
    response_model=GenerateOut,
    status_code=202,
    responses={
        **ERRORS,
        200: {"model": GenerateOut, "description": "refused by policy (logged)"},
        503: {"description": "no worker is running (nothing queued), or the queue or database is down"},
    },
)
async def submit_generation(
    body: GenerateIn,
    principal: Principal = Depends(require(Role.generator)),
    svc: Services = Depends(services),
):
    """Check the prompt now; queue the gated generation when the policy allows it and a worker
    is alive (503 ``no-worker`` otherwise, or an in-process run when ``generate_in_process``)."""
    status, out = await run_in_threadpool(_submit, svc, body, principal)
    return JSONResponse(out.model_dump(mode="json"), status_code=status)


def _load_job(svc: Services, job_id: str, principal: Principal):
    from governance.records.storage.db import session_scope
    from governance.service.jobs.store import get_job, is_expired

    with session_scope(svc.engine) as session:
        job = get_job(session=session, job_id=job_id)
        if job is None or (principal.role is not Role.admin and not principal.owns(job.actor)):
            raise ApiError(404, "not-found", f"no job {job_id} for this key")
        if is_expired(job) and job.status in {"done", "queued"}:
            raise ApiError(410, "expired", f"job {job_id} expired at {job.expires_at:%Y-%m-%d %H:%M} UTC")
        return JobPublic.model_validate(job)


@router.get(
    "/jobs/{job_id}",
    response_model=JobPublic,
    responses={**ERRORS, 404: {"description": "unknown job"}, 410: {"description": "expired"}},
)
def get_job_route(
    job_id: str = JobId,
    principal: Principal = Depends(require(Role.generator)),
    svc: Services = Depends(services),
) -> JobPublic:
    """A job's state; generator keys see their own jobs only."""
    return _load_job(svc, job_id, principal)


@router.get(
    "/jobs/{job_id}/clip",
    response_class=FileResponse,
    responses={
        **ERRORS,
        200: {"content": {"video/mp4": {}}},
        404: {"description": "unknown job"},
        409: {"description": "not done yet"},
        410: {"description": "expired"},
    },
)
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


# -- generation from a reference image or clip (issue 18) ---------------------------------------


ReferenceKind = Literal["image", "video"]  # as governance.flows.references, not imported at start-up
_KINDS: dict[str, ReferenceKind] = {"image": "image", "video": "video"}


class _ReferencedGenerateIn(GenerateIn):
    """What a job records for a reference generation: the stored file's name, never a path
    (JSON clients of /api/generate cannot set these: GenerateIn forbids extra fields)."""

    reference_kind: ReferenceKind
    reference_file: str
    reference_sha256: str
    strength: float | None = Field(default=None, gt=0, le=1)


_REFERENCE_FIELDS = ("prompt", "seed", "num_frames", "width", "height", "steps", "fps", "jurisdiction")


def _reference_error(exc: BaseException) -> ApiError:
    """A refused or unusable reference as the client sees it (server paths scrubbed)."""
    from governance.flows.references import ReferenceProtectedMaterial, ReferenceUseRefused
    from governance.service.api.errors import scrub_paths

    message = scrub_paths(str(exc))
    if isinstance(exc, ReferenceUseRefused):
        return ApiError(403, "reference-refused", message)
    if isinstance(exc, ReferenceProtectedMaterial):
        return ApiError(403, "reference-protected-material", message)
    return ApiError(422, "bad-reference", message)  # ReferenceMediaError


def _submit_with_reference(
    svc: Services, body: GenerateIn, kind: ReferenceKind, strength: float | None, path, principal: Principal
) -> tuple[int, GenerateOut]:
    from governance.flows import check_prompt
    from governance.flows.references import (
        ReferenceMediaError,
        ReferenceProtectedMaterial,
        ReferenceUseRefused,
        check_reference,
        load_reference,
        store_reference,
    )

    ctx = svc.ctx
    try:
        reference = load_reference(path, kind, svc.settings)  # type, declared size, decode: before anything
        decision = check_prompt(ctx, body.prompt, jurisdiction=body.jurisdiction)
        if not decision.allowed:
            return _submit(svc, body, principal)  # the prompt's refusal, logged as for /api/generate
        # Checked now for an immediate answer (refusals audited), and again by the flow in the job:
        # the gate never relies on an earlier check.
        check_reference(ctx, reference, decision=decision, actor=principal.actor)
        name = store_reference(svc.settings, reference)
    except (ReferenceMediaError, ReferenceUseRefused, ReferenceProtectedMaterial) as exc:
        raise _reference_error(exc) from None
    job_body = _ReferencedGenerateIn(
        **body.model_dump(),
        reference_kind=kind,
        reference_file=name,
        reference_sha256=reference.sha256,
        strength=strength,
    )
    return _submit(svc, job_body, principal)


@router.post(
    "/generate/reference",
    response_model=GenerateOut,
    status_code=202,
    responses={
        **ERRORS,
        200: {"model": GenerateOut, "description": "prompt refused by policy (logged)"},
        403: {
            "description": "the reference's credentials forbid AI use, or it matches protected "
            "material or an enrolled likeness (audited)"
        },
        413: {"description": "upload or declared dimensions too large"},
        415: {"description": "not a PNG, JPEG, WebP, MP4 or MOV"},
        422: {"description": "bad fields, a video sent as kind=image, an undecodable file"},
    },
    openapi_extra=multipart_openapi(text_fields=("kind", "strength", *_REFERENCE_FIELDS)),
)
async def submit_reference_generation(
    request: Request,
    principal: Principal = Depends(require(Role.generator)),
    svc: Services = Depends(services),
):
    """Image-to-video or video-to-video: multipart ``file`` (the reference) plus the fields of
    ``/api/generate`` as form fields, ``kind`` (image or video; default: what the bytes are) and
    ``strength``. The reference is checked before anything is queued (type and size from its
    bytes, its own Content Credentials, protected material, likeness), kept for the job under a
    name derived from its sha256, and cited in the clip's manifest as an ingredient."""
    from pydantic import ValidationError

    from governance.flows.references import IMAGE_TYPES, VIDEO_TYPES
    from governance.service.api.uploads import receive_upload

    settings = svc.settings
    async with receive_upload(
        request,
        uploads_path=settings.uploads_path,
        max_bytes=settings.max_upload_bytes,
        allowed=IMAGE_TYPES | VIDEO_TYPES,
    ) as upload:
        fields = {k: v for k, v in upload.fields.items() if k in _REFERENCE_FIELDS and v != ""}
        unknown = sorted(set(upload.fields) - set(_REFERENCE_FIELDS) - {"kind", "strength"})
        if unknown:
            raise ApiError(422, "invalid-request", f"unknown form fields: {', '.join(unknown)}")
        try:
            body = GenerateIn.model_validate(fields)
            strength = float(upload.fields["strength"]) if upload.fields.get("strength") else None
        except (ValidationError, ValueError) as exc:
            raise ApiError(422, "invalid-request", str(exc).splitlines()[0] if str(exc) else "bad form field") from None
        given = upload.fields.get("kind") or ("video" if upload.media_type in VIDEO_TYPES else "image")
        kind = _KINDS.get(given)
        if kind is None:
            raise ApiError(422, "invalid-request", f"kind must be image or video, not {given!r}")
        status, out = await run_in_threadpool(_submit_with_reference, svc, body, kind, strength, upload.path, principal)
    return JSONResponse(out.model_dump(mode="json"), status_code=status)


def _queued(decision: PolicyDecision, job_id: str, *, runner: Literal["in-process", "worker"]) -> GenerateOut:
    return GenerateOut(
        status="queued",
        decision=decision_out(decision),
        job_id=job_id,
        runner=runner,
        job_url=f"/api/jobs/{job_id}",
        clip_url=f"/api/jobs/{job_id}/clip",
    )
