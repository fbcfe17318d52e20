"""Which hit decides: hits ranked by action, severity, kind of evidence and score; one hit per
(rule, entity); and the reason line a decision carries."""

from __future__ import annotations

from policies.base import ACTION_PRECEDENCE, Action, RuleHit

__all__ = ["strength", "dedupe", "reason_for", "SEVERITY", "METHOD"]

SEVERITY = {"low": 0, "medium": 1, "high": 2, "critical": 3}
METHOD = {
    "exact": 0,
    "pattern": 0,
    "combination": 0,
    "alias": 0,
    "work": 1,
    "compact": 1,
    "prefix": 1,
    "fuzzy": 2,
    "semantic": 3,
}


def strength(hit: RuleHit) -> tuple:
    return (ACTION_PRECEDENCE.index(hit.action), -SEVERITY[hit.severity], METHOD.get(hit.method, 9), -hit.score)


def dedupe(hits: list[RuleHit]) -> list[RuleHit]:
    """One hit per (rule, entity), keeping the strongest evidence."""
    best: dict[tuple, RuleHit] = {}
    for hit in sorted(hits, key=strength):
        best.setdefault((hit.rule_id, hit.entity_id), hit)
    return list(best.values())


def reason_for(action, primary, description, allowed, licences, missing) -> str:
    """The decision's one-line reason: the primary hit's rule and evidence, and the licence
    outcome for a real person."""
    if primary is None:
        return "no rule matched"
    how = (
        f"near exemplar {primary.matched!r} (similarity {primary.score:.2f})"
        if primary.method == "semantic"
        else f"alias {primary.matched!r} refers to {primary.entity_id}"
        if primary.method == "alias"
        else f"known for {primary.matched!r}: {primary.entity_id}"
        if primary.method == "work"
        else f"matched {primary.matched!r} ({primary.method})"
    )
    base = f"{description} [{primary.rule_id}]: {how}"
    if action is Action.REQUIRE_CONSENT:
        if allowed:
            return f"{base}; licensed ({', '.join(licences)})"
        who = ", ".join(missing) if missing else "an unidentified real person"
        return f"{base}; no likeness licence for {who}"
    return base
