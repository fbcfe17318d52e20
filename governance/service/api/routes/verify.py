"""``POST /api/verify``: the verify flow over an uploaded clip (multipart field ``file``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from governance.records.apikeys import Role
from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require_or_public, services
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import VerifyOut
from governance.service.api.thumbs import segment_thumbnails
from governance.service.api.uploads import VERIFY_TYPES, multipart_openapi, receive_upload

router = APIRouter(prefix="/api", tags=["verify"])


@router.post(
    "/verify",
    response_model=VerifyOut,
    responses={
        **ERRORS,
        413: {"description": "upload too large"},
        415: {"description": "not media ReelGuard reads"},
        429: {"description": "public mode: this address's anonymous verifications are spent (see Retry-After)"},
        503: {"description": "database down, or (public mode) anonymous verification at capacity"},
        422: {"description": "missing field, empty or undecodable clip"},
    },
    openapi_extra=multipart_openapi(),
)
async def verify_clip(
    request: Request,
    principal: Principal = Depends(require_or_public(Role.verifier)),
    svc: Services = Depends(services),
    only: str | None = Query(None, description="stages to run: c2pa, watermark, registry (c2pa alone decodes nothing)"),
) -> VerifyOut:
    """Verify one file (video, image, audio or a bare .c2pa manifest store): C2PA credentials
    and what they disclose, the watermark and registry matches (video), verdict, audit proof.

    In public mode (``serve --public-verify``) this route also answers without a key, rate
    limited per client and with a smaller upload limit; the answer then leaves out what only
    the install's own users should see (the generation record behind a watermark)."""
    from governance.flows.verify import STAGES

    stages = frozenset(s.strip() for s in (only or ",".join(STAGES)).split(",") if s.strip()) | {"c2pa"}
    if stages - STAGES:
        raise ApiError(422, "invalid-request", f"'only' takes a comma-separated subset of {', '.join(sorted(STAGES))}")
    if not principal.anonymous:
        return await _verify(request, svc, stages, principal, svc.settings.max_upload_bytes)
    if not svc.public_slots.acquire(blocking=False):
        raise ApiError(
            503,
            "busy",
            "anonymous verification is at capacity; retry shortly or use an API key",
            headers={"Retry-After": "5"},
        )
    try:
        return await _verify(
            request, svc, stages, principal, min(svc.settings.max_upload_bytes, svc.settings.public_verify_max_bytes)
        )
    finally:
        svc.public_slots.release()


async def _verify(
    request: Request, svc: Services, stages: frozenset[str], principal: Principal, max_bytes: int
) -> VerifyOut:
    from governance.flows import VerifyOptions, verify

    settings = svc.settings
    async with receive_upload(
        request, uploads_path=settings.uploads_path, max_bytes=max_bytes, allowed=VERIFY_TYPES
    ) as upload:
        report = await run_in_threadpool(
            verify, svc.ctx, upload.path, actor=principal.actor, options=VerifyOptions(stages=stages)
        )
        thumbs = await run_in_threadpool(
            segment_thumbnails, upload.path, list(report.matches), max_pixels=settings.max_pixels
        )
    body = report.to_dict()
    if report.matches:
        from governance.flows.register import describe_matches

        # Each match names the registered file it aligned to and the seconds on both sides.
        named = await run_in_threadpool(describe_matches, svc.ctx.registry, list(report.matches))
        body["registry"] = {**body["registry"], "matches": [m.to_dict() for m in named]}
    if principal.anonymous:
        body["registry"] = _public_registry(body["registry"])
        # Who is enrolled is the operator's business: anonymous callers learn only that a face matched.
        body["likeness"] = {
            **body.get("likeness", {}),
            "matches": [],
            "match_count": len(body.get("likeness", {}).get("matches", [])),
        }
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
        likeness=body.get("likeness") or {"matches": [], "scanned": False},
        audit_leaf_index=body["audit_leaf_index"],
        audit_proof=proof,
        thumbnails=thumbs,
    )


def _public_registry(registry: dict) -> dict:
    """The registry part an anonymous caller sees: that the clip was made here (content id,
    time) and which protected works it matches, not the stored generation record (model,
    policy decision, prompt digest)."""
    record = registry.get("record")
    public = {k: record[k] for k in ("content_id", "created_at") if isinstance(record, dict) and k in record}
    return {**registry, "record": public or None}
