"""ReelGuard as a service: the FastAPI app (``create_app``), thin over governance.flows.

``create_app`` is imported lazily so that ``governance.records.storage`` can register the API tables
without importing FastAPI.
"""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from governance.service.api.app import create_app

        return create_app
    raise AttributeError(name)
