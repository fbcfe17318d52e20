"""Likeness consent: grant, list and revoke licences (governance.records.consent.ConsentRegistry).

Rights-holder keys act as the agent of the people they represent: they grant under their
owner name and list/revoke only the licences they granted. Admins act for anyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from governance.records.apikeys import Role
from governance.service.api.auth import Principal
from governance.service.api.deps import Services, require, services
from governance.service.api.errors import ApiError
from governance.service.api.routes.common import ERRORS
from governance.service.api.schemas import ConsentGrantIn, ConsentOut, ConsentRevokeIn

router = APIRouter(prefix="/api/consent", tags=["consent"])
LicenseId = PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


def _grantor(principal: Principal, requested: str | None) -> str:
    if principal.role is Role.admin:
        return (requested or "").strip() or principal.actor
    return principal.owner or principal.actor


def _consent_error(exc: Exception) -> ApiError:
    text = str(exc)
    if text.startswith("no licence"):
        return ApiError(404, "not-found", text)
    if "already revoked" in text:
        return ApiError(409, "conflict", text)
    return ApiError(422, "invalid-request", text)


def _mine(principal: Principal, licence) -> bool:
    return principal.role is Role.admin or licence.granted_by == _grantor(principal, None)


@router.post("", response_model=ConsentOut, status_code=201, responses={**ERRORS, 422: {"description": "invalid"}})
async def grant(
    body: ConsentGrantIn, principal: Principal = Depends(require(Role.rights_holder)), svc: Services = Depends(services)
) -> ConsentOut:
    """Grant a likeness licence (audited by the consent registry)."""
    from governance.records.consent.registry import ConsentError

    try:
        licence = await run_in_threadpool(
            svc.ctx.consent.grant,
            person_id=body.person_id,
            granted_by=_grantor(principal, body.granted_by),
            scope=body.scope,
            expires_at=body.expires_at,
            person_name=body.person_name,
            note=body.note,
            actor=principal.actor,
        )
    except ConsentError as exc:
        raise _consent_error(exc) from None
    return ConsentOut.model_validate(licence.model_dump())


@router.get("", response_model=list[ConsentOut], responses=ERRORS)
def list_licences(
    person_id: str | None = Query(default=None, max_length=200),
    include_inactive: bool = False,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> list[ConsentOut]:
    """Licences (a rights holder's own grants only), newest first."""
    licences = svc.ctx.consent.list(person_id=person_id, include_inactive=include_inactive)
    return [ConsentOut.model_validate(lic.model_dump()) for lic in licences if _mine(principal, lic)]


@router.post(
    "/{license_id}/revoke",
    response_model=ConsentOut,
    responses={**ERRORS, 404: {"description": "unknown"}, 409: {"description": "already revoked"}},
)
async def revoke(
    body: ConsentRevokeIn | None = None,
    license_id: str = LicenseId,
    principal: Principal = Depends(require(Role.rights_holder)),
    svc: Services = Depends(services),
) -> ConsentOut:
    """Revoke a licence; prompts that relied on it are refused from now on."""
    from governance.records.consent.registry import ConsentError

    registry = svc.ctx.consent
    owned = [lic for lic in registry.list(include_inactive=True) if lic.id == license_id]
    if not owned or not _mine(principal, owned[0]):
        raise ApiError(404, "not-found", f"no licence {license_id} for this key")
    try:
        licence = await run_in_threadpool(
            registry.revoke,
            license_id=license_id,
            revoked_by=principal.actor,
            reason=body.reason if body else None,
            actor=principal.actor,
        )
    except ConsentError as exc:
        raise _consent_error(exc) from None
    return ConsentOut.model_validate(licence.model_dump())
