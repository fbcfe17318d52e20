"""The C2PA Soft Binding Resolution API (``/sbr/v1``): find manifests by watermark value or by
content, and fetch a manifest store. Bodies come from governance.provenance.manifest_store."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from governance.records.apikeys import Role
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS
from governance.service.api.uploads import VIDEO_TYPES, multipart_openapi, receive_upload

router = APIRouter(prefix="/sbr/v1", tags=["c2pa-soft-binding"], dependencies=[Depends(require(Role.verifier))])


class BindingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alg: str = Field(min_length=1, max_length=200)
    value: str = Field(min_length=1, max_length=200, description="base64 (or hex) soft binding value")
    maxResults: int = Field(default=10, ge=1, le=100)


class Matches(BaseModel):
    matches: list[dict[str, Any]]


def _store(svc: Services):
    from governance.provenance.manifest_store import ManifestStore

    return ManifestStore(svc.settings)


def _matches(svc: Services, alg: str, value: str, max_results: int) -> Matches:
    from governance.core.errors import StorageError
    from governance.provenance.manifest_store import matches_response

    try:
        return Matches(**matches_response(_store(svc), alg=alg, value=value, max_results=max_results))
    except StorageError as exc:  # here: an undecodable value, i.e. the client's mistake
        raise ApiError(400, "bad-binding", str(exc)) from None


@router.get("/services/supportedAlgorithms", response_model=dict[str, Any], responses=ERRORS)
def supported_algorithms(svc: Services = Depends(services)) -> dict[str, Any]:
    from governance.provenance.manifest_store import supported_algorithms_response

    return supported_algorithms_response((svc.ctx.watermark.name,), store=_store(svc))


@router.get("/matches/byBinding", response_model=Matches, responses={**ERRORS, 400: {"description": "bad value"}})
def by_binding(
    alg: str = Query(min_length=1, max_length=200),
    value: str = Query(min_length=1, max_length=200),
    maxResults: int = Query(default=10, ge=1, le=100),
    svc: Services = Depends(services),
) -> Matches:
    return _matches(svc, alg, value, maxResults)


@router.post("/matches/byBinding", response_model=Matches, responses={**ERRORS, 400: {"description": "bad value"}})
def by_binding_post(body: BindingQuery, svc: Services = Depends(services)) -> Matches:
    return _matches(svc, body.alg, body.value, body.maxResults)


@router.post(
    "/matches/byContent",
    response_model=Matches,
    openapi_extra=multipart_openapi(),
    responses={**ERRORS, 413: {"description": "too large"}, 415: {"description": "not a video"}},
)
async def by_content(
    request: Request, maxResults: int = Query(default=10, ge=1, le=100), svc: Services = Depends(services)
) -> Matches:
    """Detect our watermark in the uploaded clip and resolve its value to manifests."""
    from detectors.video_io import read_coded_frames

    ctx, settings = svc.ctx, svc.settings

    def detect(path):
        frames = read_coded_frames(path, max_frames=240, max_pixels=settings.max_pixels)
        return ctx.watermark.detect(frames, key=ctx.watermark_key, max_frames=240)

    async with receive_upload(
        request, uploads_path=settings.uploads_path, max_bytes=settings.max_upload_bytes, allowed=VIDEO_TYPES
    ) as upload:
        detection = await run_in_threadpool(detect, upload.path)
    if not detection.detected or detection.payload is None:
        return Matches(matches=[])
    return _matches(svc, ctx.watermark.name, detection.payload.hex(), maxResults)


@router.get(
    "/manifests/{manifestId}",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/c2pa": {}}}, 404: {"description": "unknown"}},
)
def manifest(manifestId: str = PathParam(min_length=1, max_length=300), svc: Services = Depends(services)) -> Response:
    """The manifest store (application/c2pa) whose active manifest has this label."""
    from governance.provenance.manifest_store import manifest_response

    body = manifest_response(_store(svc), manifestId)
    if body is None:
        raise ApiError(404, "not-found", f"no manifest {manifestId!r}")
    return Response(body, media_type="application/c2pa")
