"""What routes depend on: the app's services (one FlowContext per process), database
sessions, and the role check behind ``X-API-Key``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlmodel import Session

from governance.core.settings import Settings
from governance.records.apikeys import Role
from governance.service.api.auth import Principal, anonymous_principal, authenticate
from governance.service.api.errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

    from governance.flows import FlowContext

__all__ = [
    "Services",
    "services",
    "db_session",
    "require",
    "require_or_public",
    "api_key_header",
    "ALL_ROLES",
    "client_id",
]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="rg_<id>_<secret>")
ALL_ROLES = tuple(Role)


class Services:
    """Long-lived pieces shared by every request of one app (built lazily)."""

    def __init__(self, settings: Settings, context: FlowContext | None = None) -> None:
        self.settings = settings
        self._context = context

    @cached_property
    def ctx(self) -> FlowContext:
        from governance.flows import FlowContext

        return self._context or FlowContext(self.settings)

    @cached_property
    def rate_limiter(self):
        from governance.service.api.ratelimit import make_rate_limiter

        return make_rate_limiter(self.settings)

    @cached_property
    def public_slots(self):
        """Anonymous verifications running at once in this process: a per-client rate limit
        does not stop many clients together from taking every core from keyed callers."""
        import threading

        return threading.BoundedSemaphore(self.settings.public_verify_concurrency)

    @cached_property
    def local_jobs(self):
        """One thread that runs generation jobs in this process (``generate_in_process``): one
        at a time, so an API process never holds two diffusion models' worth of activations."""
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="reelguard-local-job")

    @property
    def engine(self) -> Engine:
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

    def check(
        request: Request, token: str | None = Security(api_key_header), svc: Services = Depends(services)
    ) -> Principal:
        from governance.records.storage.db import session_scope

        if not token:
            raise ApiError(
                401, "missing-key", "send an API key in the X-API-Key header", headers={"WWW-Authenticate": "ApiKey"}
            )
        with session_scope(svc.engine) as session:
            principal = authenticate(session=session, token=token)
        if principal is None:
            raise ApiError(
                401,
                "invalid-key",
                "the API key is unknown, malformed or revoked",
                headers={"WWW-Authenticate": "ApiKey"},
            )
        request.state.key_id = principal.key_id
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise ApiError(403, "forbidden", f"role {principal.role.value!r} may not do this (needs one of: {names})")
        return principal

    return check


def client_id(request: Request) -> str:
    """The rate-limit key of an anonymous caller: its address (as uvicorn resolved it; behind a
    reverse proxy, run with --forwarded-allow-ips so this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def require_or_public(*roles: Role) -> Callable[..., Principal]:
    """Like ``require`` when a key is sent; without one, in public mode (``public_verify``),
    an anonymous principal after the per-client rate limit (429 + Retry-After when spent)."""
    keyed = require(*roles)

    def check(
        request: Request, token: str | None = Security(api_key_header), svc: Services = Depends(services)
    ) -> Principal:
        if token or not svc.settings.public_verify:
            return keyed(request, token, svc)
        decision = svc.rate_limiter.acquire(client_id(request))
        if not decision.allowed:
            raise ApiError(
                429,
                "rate-limited",
                "too many anonymous verifications from this address; retry after "
                f"{decision.retry_after_s} s or use an API key",
                headers={"Retry-After": str(decision.retry_after_s)},
            )
        request.state.key_id = "public"
        return anonymous_principal()

    return check
