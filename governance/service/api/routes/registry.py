"""Protected works: rights holders register, list, remove and match their own works.

A rights-holder key is bound to one owner name: it registers under that owner and sees only
that owner's works and matches. Admin keys act for any owner (``owner`` form field).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from governance.records.apikeys import Role
from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import MatchOut, RegisteredOut, WorkOut
from governance.service.api.thumbs import segment_thumbnails
from governance.service.api.uploads import MEDIA_TYPES, multipart_openapi, receive_upload

router = APIRouter(prefix="/api/registry", tags=["registry"])
WorkId = PathParam(pattern=r"^[0-9a-f]{32}$")


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@contextmanager
def _as_client_named(path: Path, filename: str | None) -> Iterator[Path]:
    """The upload under the name the client gave it (the registry records a work's file names,
    and matches name the file), hard-linked into a private folder beside the upload. The name is
    reduced to a safe base name with the sniffed extension; the stored upload name is used when
    there is none or the link fails."""
    stem = _UNSAFE.sub("_", Path(filename or "").stem).strip(" ._")[:100]
    if not stem:
        yield path
        return
    folder = path.parent / f".named-{uuid.uuid4().hex}"
    try:
        folder.mkdir(mode=0o700)
        named = folder / f"{stem}{path.suffix}"
        os.link(path, named)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        yield path
        return
    try:
        yield named
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _visible(principal: Principal, owner: str) -> bool:
    return principal.role is Role.admin or owner == principal.owner


@router.post(
    "/works",
    response_model=RegisteredOut,
    status_code=201,
    responses={**ERRORS, 413: {"description": "too large"}, 415: {"description": "not media"}},
    openapi_extra=multipart_openapi(required=("file", "title"), text_fields=("title", "license", "owner")),
)
async def register_work(
    request: Request,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> RegisteredOut:
    """Register one clip or image as a protected work of the caller's owner."""
    settings = svc.settings
    async with receive_upload(
        request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes, allowed=MEDIA_TYPES
    ) as upload:
        title = upload.fields.get("title", "").strip()
        owner = (upload.fields.get("owner", "").strip() if principal.role is Role.admin else principal.owner) or ""
        if not title or not owner:
            raise ApiError(422, "invalid-request", "a work needs a title (and admins must name the owner)")
        license_ = upload.fields.get("license", "").strip() or None
        with _as_client_named(upload.path, upload.filename) as named:
            work = await run_in_threadpool(svc.ctx.registry.add_path, named, owner=owner, title=title, license=license_)
    if work.duplicate and work.owner != owner and principal.role is not Role.admin:
        raise ApiError(409, "conflict", "this content is already registered by another owner")
    return RegisteredOut(
        work_id=work.work_id,
        title=work.title,
        owner=work.owner,
        license=work.license,
        assets=work.assets,
        frames=work.frames,
        duplicate=work.duplicate,
    )


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


@router.post(
    "/match",
    response_model=MatchOut,
    responses={**ERRORS, 413: {"description": "too large"}, 415: {"description": "not media"}},
    openapi_extra=multipart_openapi(),
)
async def match_clip(
    request: Request,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> MatchOut:
    """Does this clip reuse the caller's works? (Matches of other owners are not shown.)"""
    settings = svc.settings
    async with receive_upload(
        request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes, allowed=MEDIA_TYPES
    ) as upload:
        matches = await run_in_threadpool(svc.ctx.registry.match_path, upload.path)
        mine = [m for m in matches if _visible(principal, m.owner)]
        thumbs = await run_in_threadpool(segment_thumbnails, upload.path, mine, max_pixels=settings.max_pixels)
    from governance.flows.register import describe_matches

    # Each match names the registered file it aligned to (a file name, never a server path).
    named = await run_in_threadpool(describe_matches, svc.ctx.registry, mine)
    return MatchOut(matches=[m.to_dict() for m in named], thumbnails=thumbs)
