"""The app factory: routes per noun under ``/api``, the C2PA Soft Binding Resolution API under
``/sbr/v1``, the web page at ``/``, request ids on every log line, JSON errors everywhere."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from governance.core.settings import Settings, get_settings
from governance.service.api.deps import Services
from governance.service.api.errors import install_error_handlers

if TYPE_CHECKING:  # pragma: no cover
    from governance.flows import FlowContext

__all__ = ["create_app"]

log = logging.getLogger("reelguard.api")
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
VERSION = "1"


def create_app(settings: Settings | None = None, *, context: FlowContext | None = None) -> FastAPI:
    """A new app over ``settings`` (``context`` lets tests share a prepared FlowContext)."""
    from governance.service.api.routes import ROUTERS

    settings = settings or get_settings()
    settings.ensure_dirs()
    if settings.environment == "production":
        # Refuse to start (ConfigError) rather than sign with the development CA later.
        from governance.flows import FlowContext

        (context or FlowContext(settings, recover=False)).check_environment()
    app = FastAPI(
        lifespan=_warm_policy if settings.warm_policy else None,
        title="ReelGuard API",
        version=VERSION,
        description="Provenance, watermarking and content governance around AI video generation. "
        "Authenticate with the `X-API-Key` header.",
    )
    app.state.services = Services(settings, context)
    install_error_handlers(app)

    @app.middleware("http")
    async def request_id(request: Request, call_next):
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if _RID.match(incoming) else uuid.uuid4().hex[:16]
        request.state.request_id = rid
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
        finally:
            # Path only (no query, no headers): keys and file names stay out of the log.
            log.info(
                "rid=%s %s %s -> %s %.1fms key=%s",
                rid,
                request.method,
                request.url.path,
                status,
                (time.perf_counter() - started) * 1000,
                getattr(request.state, "key_id", "-"),
            )
        response.headers["X-Request-ID"] = rid
        return response

    for router in ROUTERS:
        app.include_router(router)

    web = resources.files("governance.service.api") / "web"
    app.mount("/static", StaticFiles(directory=str(web / "static")), name="static")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def index() -> HTMLResponse:
        page = (web / "templates" / "index.html").read_text(encoding="utf-8")
        # The page asks for a key only when anonymous verification is off.
        mode = "public" if settings.public_verify else "keyed"
        return HTMLResponse(page.replace('data-verify-mode="keyed"', f'data-verify-mode="{mode}"', 1))

    return app


@asynccontextmanager
async def _warm_policy(app: FastAPI) -> AsyncIterator[None]:
    """Load the policy engine before the port takes requests: its packs, indexes and model take
    seconds, which the first prompt check would otherwise wait for. A pack that does not load
    stops the start-up (fail closed, as a generation would); an unreachable database only
    defers the load to the first request, which answers 503 until the database is back."""
    from anyio import to_thread
    from sqlalchemy.exc import DBAPIError

    from governance.core.errors import StorageError

    services: Services = app.state.services
    try:
        await to_thread.run_sync(lambda: services.ctx.policy)
    except (StorageError, DBAPIError) as exc:
        log.warning("policy engine not loaded at start-up (database unavailable: %s); it loads on first use", exc)
    yield
