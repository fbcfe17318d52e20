"""API key administration (admin only; the CLI ``reelguard apikeys`` does the same)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from sqlmodel import Session

from governance.records.apikeys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Role
from governance.service.api.auth import create_api_key, list_api_keys, revoke_api_key
from governance.service.api.deps import db_session, require
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import ApiKeyIn

router = APIRouter(prefix="/api/keys", tags=["admin"], dependencies=[Depends(require(Role.admin))])


@router.get("", response_model=list[ApiKeyPublic], responses=ERRORS)
def list_keys(session: Session = Depends(db_session)) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.model_validate(k) for k in list_api_keys(session=session)]


@router.post("", response_model=ApiKeyCreated, status_code=201, responses=ERRORS)
def create_key(body: ApiKeyIn, session: Session = Depends(db_session)) -> ApiKeyCreated:
    """A new key; the token is in this response only."""
    try:
        key, token = create_api_key(session=session, key_in=ApiKeyCreate(**body.model_dump()))
    except ValueError as exc:
        raise ApiError(422, "invalid-request", str(exc)) from None
    return ApiKeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), token=token)


@router.delete("/{key_id}", response_model=ApiKeyPublic, responses={**ERRORS, 404: {"description": "unknown"}})
def revoke_key(
    key_id: str = PathParam(pattern=r"^[0-9a-f]{12}$"), session: Session = Depends(db_session)
) -> ApiKeyPublic:
    key = revoke_api_key(session=session, key_id=key_id)
    if key is None:
        raise ApiError(404, "not-found", f"no API key {key_id}")
    return ApiKeyPublic.model_validate(key)
