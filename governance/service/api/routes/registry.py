"""Protected works: rights holders register, list, remove and match their own works.

A rights-holder key is bound to one owner name: it registers under that owner and sees only
that owner's works and matches. Admin keys act for any owner (``owner`` form field).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path as PathParam, Request
from starlette.concurrency import run_in_threadpool

from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.records.apikeys import Role
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import MatchOut, RegisteredOut, WorkOut
from governance.service.api.thumbs import segment_thumbnails
from governance.service.api.uploads import MEDIA_TYPES, multipart_openapi, receive_upload

router = APIRouter(prefix="/api/registry", tags=["registry"])
WorkId = PathParam(pattern=r"^[0-9a-f]{32}$")


def _visible(principal: Principal, owner: str) -> bool:
    return principal.role is Role.admin or owner == principal.owner


@router.post("/works", response_model=RegisteredOut, status_code=201,
             responses={**ERRORS, 413: {"description": "too large"}, 415: {"description": "not media"}},
             openapi_extra=multipart_openapi(required=("file", "title"), text_fields=("title", "license", "owner")))
async def register_work(
    request: Request,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> RegisteredOut:
    """Register one clip or image as a protected work of the caller's owner."""
    settings = svc.settings
    async with receive_upload(request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes,
                              allowed=MEDIA_TYPES) as upload:
        title = upload.fields.get("title", "").strip()
        owner = (upload.fields.get("owner", "").strip() if principal.role is Role.admin else principal.owner) or ""
        if not title or not owner:
            raise ApiError(422, "invalid-request", "a work needs a title (and admins must name the owner)")
        license_ = upload.fields.get("license", "").strip() or None
        work = await run_in_threadpool(svc.ctx.registry.add_path, upload.path, owner=owner, title=title,
                                       license=license_)
    if work.duplicate and work.owner != owner and principal.role is not Role.admin:
        raise ApiError(409, "conflict", "this content is already registered by another owner")
    return RegisteredOut(work_id=work.work_id, title=work.title, owner=work.owner, license=work.license,
                         assets=work.assets, frames=work.frames, duplicate=work.duplicate)


@router.get("/works", response_model=list[WorkOut], responses=ERRORS)
def list_works(
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> list[WorkOut]:
    """Registered works (a rights holder's own only)."""
    works = svc.ctx.registry.list_works()
    return [WorkOut.model_validate(w.model_dump()) for w in works if _visible(principal, w.owner)]


@router.delete("/works/{work_id}", response_model=WorkOut, responses={**ERRORS, 404: {"description": "unknown"}})
def remove_work(
    work_id: str = WorkId,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> WorkOut:
    """Remove a work with its fingerprints (audited)."""
    from governance.records.registry import WorkNotFound

    registry = svc.ctx.registry
    try:
        work = registry.get_work(work_id)
    except WorkNotFound:
        work = None
    if work is None or not _visible(principal, work.owner):
        raise ApiError(404, "not-found", f"no registered work {work_id} for this key")
    return WorkOut.model_validate(registry.remove(work_id).model_dump())


@router.post("/match", response_model=MatchOut,
             responses={**ERRORS, 413: {"description": "too large"}, 415: {"description": "not media"}},
             openapi_extra=multipart_openapi())
async def match_clip(
    request: Request,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> MatchOut:
    """Does this clip reuse the caller's works? (Matches of other owners are not shown.)"""
    settings = svc.settings
    async with receive_upload(request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes,
                              allowed=MEDIA_TYPES) as upload:
        matches = await run_in_threadpool(svc.ctx.registry.match_path, upload.path)
        mine = [m for m in matches if _visible(principal, m.owner)]
        thumbs = await run_in_threadpool(segment_thumbnails, upload.path, mine, max_pixels=settings.max_pixels)
    return MatchOut(matches=[m.to_dict() for m in mine], thumbnails=thumbs)
