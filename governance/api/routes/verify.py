"""``POST /api/verify``: the verify flow over an uploaded clip (multipart field ``file``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from governance.api.auth import Principal
from governance.api.deps import Services, require, services
from governance.api.models import Role
from governance.api.routes.common import ERRORS
from governance.api.schemas import VerifyOut
from governance.api.thumbs import segment_thumbnails
from governance.api.uploads import VIDEO_TYPES, multipart_openapi, receive_upload

router = APIRouter(prefix="/api", tags=["verify"])


@router.post(
    "/verify",
    response_model=VerifyOut,
    responses={**ERRORS, 413: {"description": "upload too large"}, 415: {"description": "not a video"},
               422: {"description": "missing field, empty or undecodable clip"}},
    openapi_extra=multipart_openapi(),
)
async def verify_clip(
    request: Request,
    principal: Principal = Depends(require(Role.verifier)),
    svc: Services = Depends(services),
) -> VerifyOut:
    """Verify one clip: C2PA credentials, watermark, registry matches, verdict, audit proof."""
    from governance.flows import verify

    settings = svc.settings
    async with receive_upload(
        request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes, allowed=VIDEO_TYPES
    ) as upload:
        report = await run_in_threadpool(verify, svc.ctx, upload.path, actor=principal.actor)
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
        c2pa=body["c2pa"],
        watermark=body["watermark"],
        registry=body["registry"],
        audit_leaf_index=body["audit_leaf_index"],
        audit_proof=proof,
        thumbnails=thumbs,
    )
