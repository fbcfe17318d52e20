"""The nouns of a policy decision: actions, rule hits, decisions, and the consent lookup.

Every decision is a frozen value that explains itself (category, rule, matched span or nearest
exemplar) and cites the digest of the packs that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, runtime_checkable

__all__ = ["Action", "RuleHit", "PolicyDecision", "ConsentLookup", "ACTION_PRECEDENCE"]


class Action(str, Enum):
    """What the pipeline must do with a prompt."""

    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"
    REQUIRE_CONSENT = "require-consent"
    ADD_DISCLOSURE = "add-disclosure"

    def __str__(self) -> str:  # "deny", not "Action.DENY", in messages and JSON
        return self.value


# Strongest first: when several rules hit, the strongest action decides.
ACTION_PRECEDENCE: tuple[Action, ...] = (
    Action.DENY,
    Action.REVIEW,
    Action.REQUIRE_CONSENT,
    Action.ADD_DISCLOSURE,
    Action.ALLOW,
)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched: where, how, and how strongly.

    ``method`` is ``exact``, ``compact``, ``prefix``, ``fuzzy``, ``alias``, ``work`` (a person named
    by their works, ``policies.works``), ``pattern``, ``combination`` or ``semantic``. For lexical
    hits ``span`` is the (start, end) of the match in ``decision.normalized`` and ``matched`` the
    text there; for semantic hits ``matched`` is the nearest exemplar and ``score`` its cosine
    similarity.
    """

    rule_id: str
    category: str
    action: Action
    severity: str
    method: str
    matched: str
    term: str = ""
    score: float = 1.0
    span: tuple[int, int] | None = None
    entity_id: str | None = None
    pack: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "category": self.category,
            "action": self.action.value,
            "severity": self.severity,
            "method": self.method,
            "matched": self.matched,
            "term": self.term,
            "score": round(float(self.score), 4),
            "span": list(self.span) if self.span else None,
            "entity_id": self.entity_id,
            "pack": self.pack,
        }


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The engine's verdict on one prompt; ``allowed`` says whether generation may proceed."""

    action: Action
    allowed: bool
    category: str | None
    rule_id: str | None
    reason: str
    hits: tuple[RuleHit, ...]
    pack_digest: str
    jurisdiction: str
    obligations: tuple[str, ...]
    prompt_sha256: str
    consent_license_id: str | None = None
    normalized: str = ""
    persons: tuple[str, ...] = field(default=())
    latency_ms: float = 0.0

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(hit.rule_id for hit in self.hits))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (what ``reelguard policy check --json`` prints)."""
        return {
            "action": self.action.value,
            "allowed": self.allowed,
            "category": self.category,
            "rule_id": self.rule_id,
            "rule_ids": list(self.rule_ids),
            "reason": self.reason,
            "hits": [hit.to_dict() for hit in self.hits],
            "pack_digest": self.pack_digest,
            "jurisdiction": self.jurisdiction,
            "obligations": list(self.obligations),
            "consent_license_id": self.consent_license_id,
            "persons": list(self.persons),
            "prompt_sha256": self.prompt_sha256,
            "latency_ms": round(self.latency_ms, 3),
        }


@runtime_checkable
class ConsentLookup(Protocol):
    """Anything that can say whether a person licensed their likeness (``governance.records.consent``)."""

    def find_license(self, person_id: str, *, scope: str, at: datetime) -> str | None:
        """The id of a licence valid for ``scope`` at ``at``, or ``None``."""
        ...
