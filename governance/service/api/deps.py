"""What routes depend on: the app's services (one FlowContext per process), database
sessions, and the role check behind ``X-API-Key``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlmodel import Session

from governance.service.api.auth import Principal, authenticate
from governance.service.api.errors import ApiError
from governance.records.apikeys import Role
from governance.core.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from governance.flows import FlowContext

__all__ = ["Services", "services", "db_session", "require", "api_key_header", "ALL_ROLES"]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="rg_<id>_<secret>")
ALL_ROLES = tuple(Role)


class Services:
    """Long-lived pieces shared by every request of one app (built lazily)."""

    def __init__(self, settings: Settings, context: "FlowContext | None" = None) -> None:
        self.settings = settings
        self._context = context

    @cached_property
    def ctx(self) -> "FlowContext":
        from governance.flows import FlowContext

        return self._context or FlowContext(self.settings)

    @property
    def engine(self) -> "Engine":
        # Not cached here: FlowContext.engine retries after an outage (503 until the DB is back).
        return self.ctx.engine


def services(request: Request) -> Services:
    return request.app.state.services


def db_session(svc: Services = Depends(services)) -> Iterator[Session]:
    from governance.records.storage.db import session_scope

    with session_scope(svc.engine) as session:
        yield session


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting ``roles`` (and admin); 401 without a valid key, 403 for others."""
    allowed = frozenset(roles) | {Role.admin}

    def check(request: Request, token: str | None = Security(api_key_header), svc: Services = Depends(services)) -> Principal:
        from governance.records.storage.db import session_scope

        if not token:
            raise ApiError(401, "missing-key", "send an API key in the X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
        with session_scope(svc.engine) as session:
            principal = authenticate(session=session, token=token)
        if principal is None:
            raise ApiError(401, "invalid-key", "the API key is unknown, malformed or revoked", headers={"WWW-Authenticate": "ApiKey"})
        request.state.key_id = principal.key_id
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise ApiError(403, "forbidden", f"role {principal.role.value!r} may not do this (needs one of: {names})")
        return principal

    check.roles = allowed  # type: ignore[attr-defined]  (read by the authorisation-matrix test)
    return check
