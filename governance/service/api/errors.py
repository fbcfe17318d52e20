"""Every failure becomes a JSON body ``{"error": {"code", "message", "request_id"}}`` with a
clear status; a stack trace never reaches the client (it goes to the log with the request id).
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from detectors.errors import DetectorError, MediaError, MediaTooLargeError
from generator.errors import GeneratorError
from governance.core.errors import (
    AuditError,
    AuditIntegrityError,
    ConfigError,
    KeyMaterialError,
    OutputExistsError,
    PolicyDenied,
    ReelGuardError,
    StorageError,
)
from policies.errors import PolicyError, PromptError

__all__ = ["ApiError", "install_error_handlers", "status_for", "error_body"]

log = logging.getLogger("reelguard.api")


class ApiError(Exception):
    """An error a route raises on purpose: status, short code and a message for the client."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class ServiceUnavailable(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(503, "unavailable", message, headers={"Retry-After": "5"})


# Most specific first: the first isinstance match wins.
_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (MediaTooLargeError, 413, "media-too-large"),
    (MediaError, 422, "unreadable-media"),
    (PromptError, 422, "bad-prompt"),
    (PolicyDenied, 403, "policy-denied"),
    (OutputExistsError, 409, "conflict"),
    (StorageError, 503, "storage-unavailable"),
    (DBAPIError, 503, "storage-unavailable"),
    (AuditIntegrityError, 503, "audit-integrity"),
    (AuditError, 404, "audit"),
    (PolicyError, 503, "policy-unavailable"),
    (GeneratorError, 422, "generator"),
    (ConfigError, 503, "misconfigured"),
    (KeyMaterialError, 503, "key-material"),
)


def _domain_errors() -> tuple[tuple[type[BaseException], int, str], ...]:
    """Errors of governance sub-packages, imported when first needed (the jobs module pulls in
    Celery); an import that fails is a broken install and surfaces as such, never as a 500."""
    from governance.records.registry import RegistryError, WorkNotFound
    from governance.service.jobs.tasks import JobBusy

    return ((WorkNotFound, 404, "not-found"), (RegistryError, 422, "registry"), (JobBusy, 409, "busy"))


def status_for(exc: BaseException) -> tuple[int, str]:
    for cls, status, code in (*_domain_errors(), *_STATUS):
        if isinstance(exc, cls):
            return status, code
    if _is_broker_error(exc):
        return 503, "queue-unavailable"
    return 500, "internal"


def _is_broker_error(exc: BaseException) -> bool:
    """Redis / kombu connection failures."""
    return isinstance(exc, _broker_errors())


_PATH = re.compile(r"(?:/[^\s/:'\"]+)+/([^\s/:'\"]+)")


def scrub_paths(message: str) -> str:
    """Server paths (uploads folder, home) out of client-facing messages: keep the base name."""
    return _PATH.sub(r"\1", message)


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "-")


def error_body(request: Request, status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "request_id": _request_id(request), **extra}},
        headers={"Retry-After": "5"} if status == 503 else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = error_body(request, exc.status, exc.code, exc.message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return error_body(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))} for err in exc.errors()
        ]
        return error_body(request, 422, "invalid-request", "the request is not valid", details=details)

    async def _known_error(request: Request, exc: Exception) -> JSONResponse:
        status, code = status_for(exc)
        if status == 500:
            log.error("rid=%s %s: %s", _request_id(request), type(exc).__name__, exc)
            return error_body(request, 500, code, "internal error; quote the request id to the operator")
        if status == 503:
            log.warning("rid=%s service unavailable: %s", _request_id(request), exc)
        return error_body(request, status, code, scrub_paths(str(exc)))

    # Starlette matches handlers along the MRO, which skips ABC virtual subclasses: register the
    # leaf roots and the broker's errors one by one.
    for cls in (ReelGuardError, DetectorError, PolicyError, GeneratorError, DBAPIError, *_broker_errors()):
        app.add_exception_handler(cls, _known_error)

    @app.exception_handler(Exception)
    async def _any_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("rid=%s unhandled error", _request_id(request))
        return error_body(request, 500, "internal", "internal error; quote the request id to the operator")


def _broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    return (KombuOperationalError, RedisConnectionError, RedisTimeout)
