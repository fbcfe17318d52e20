"""Helpers shared by the route modules."""

from __future__ import annotations

from typing import Any

from governance.service.api.schemas import DecisionOut, ErrorBody

__all__ = ["decision_out", "ERRORS"]

# Documented on every route: what the error body looks like.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (401, "missing, unknown or revoked API key"),
        (403, "the key's role may not use this route"),
        (503, "database or queue unavailable; retry later"),
    )
}


def decision_out(decision) -> DecisionOut:
    action = decision.action.value if hasattr(decision.action, "value") else str(decision.action)
    return DecisionOut(
        action=action,
        allowed=bool(decision.allowed),
        category=decision.category,
        rule_id=decision.rule_id,
        reason=decision.reason or "",
        jurisdiction=decision.jurisdiction,
        obligations=list(decision.obligations),
        pack_digest=decision.pack_digest,
        decision=decision.to_dict(),
    )
