"""One router per noun; ``ROUTERS`` is what the app factory mounts."""

from governance.service.api.routes import audit, consent, generate, keys, policy, registry, sbr, system, verify

ROUTERS = (
    system.router,
    verify.router,
    generate.router,
    policy.router,
    registry.router,
    consent.router,
    audit.router,
    audit.admin_router,
    keys.router,
    sbr.router,
)

__all__ = ["ROUTERS"]
