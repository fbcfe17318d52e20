"""``POST /api/verify``: the verify flow over an uploaded clip (multipart field ``file``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require, services
from governance.records.apikeys import Role
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import VerifyOut
from governance.service.api.thumbs import segment_thumbnails
from governance.service.api.errors import ApiError
from governance.service.api.uploads import VERIFY_TYPES, multipart_openapi, receive_upload

router = APIRouter(prefix="/api", tags=["verify"])


@router.post(
    "/verify",
    response_model=VerifyOut,
    responses={**ERRORS, 413: {"description": "upload too large"}, 415: {"description": "not media ReelGuard reads"},
               422: {"description": "missing field, empty or undecodable clip"}},
    openapi_extra=multipart_openapi(),
)
async def verify_clip(
    request: Request,
    principal: Principal = Depends(require(Role.verifier)),
    svc: Services = Depends(services),
    only: str | None = Query(None, description="stages to run: c2pa, watermark, registry (c2pa alone decodes nothing)"),
) -> VerifyOut:
    """Verify one file (video, image, audio or a bare .c2pa manifest store): C2PA credentials
    and what they disclose, the watermark and registry matches (video), verdict, audit proof."""
    from governance.flows import VerifyOptions, verify
    from governance.flows.verify import STAGES

    stages = frozenset(s.strip() for s in (only or ",".join(STAGES)).split(",") if s.strip()) | {"c2pa"}
    if stages - STAGES:
        raise ApiError(422, "invalid-request", f"'only' takes a comma-separated subset of {', '.join(sorted(STAGES))}")
    settings = svc.settings
    async with receive_upload(
        request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes, allowed=VERIFY_TYPES
    ) as upload:
        report = await run_in_threadpool(verify, svc.ctx, upload.path, actor=principal.actor,
                                         options=VerifyOptions(stages=stages))
        thumbs = await run_in_threadpool(
            segment_thumbnails, upload.path, list(report.matches), max_pixels=settings.max_pixels
        )
    body = report.to_dict()
    proof = None
    if report.audit_leaf_index is not None:
        proof = (await run_in_threadpool(svc.ctx.audit.prove, report.audit_leaf_index)).to_dict()
    return VerifyOut(
        verdict=body["verdict"],
        reasons=body["reasons"],
        flags=body["flags"],
        file_sha256=body["file_sha256"],
        media_type=upload.media_type,
        size=upload.size,
        media_kind=body["media_kind"],
        c2pa=body["c2pa"],
        disclosure=body["disclosure"],
        watermark=body["watermark"],
        registry=body["registry"],
        audit_leaf_index=body["audit_leaf_index"],
        audit_proof=proof,
        thumbnails=thumbs,
    )
