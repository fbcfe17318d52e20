"""Per-jurisdiction obligations, marked met or not met from the *recorded events* only.

Configuration says what should happen; these checks look at what the log shows did happen:
each generation's own watermark and signature events, the labels it recorded, the
verifications that detected ReelGuard outputs, and the retention runs. A duty with nothing to
judge in the period (no generation for that jurisdiction) is "not applicable", never "met".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ObligationCheck", "evaluate_obligations", "MET", "NOT_MET", "NOT_APPLICABLE", "CN_LOG_DAYS"]

MET, NOT_MET, NOT_APPLICABLE = "met", "not met", "not applicable"
CN_LOG_DAYS = 183  # six months
_SHOW = 5  # failing content ids listed in evidence


@dataclass(frozen=True)
class ObligationCheck:
    jurisdiction: str
    code: str
    title: str
    law: str
    status: str
    evidence: str
    failures: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "failures": list(self.failures)}


def _every(gens: dict[str, dict], ok, what: str) -> tuple[str, str, tuple[str, ...]]:
    """(status, evidence, failures) for "every generation satisfies ``ok``"."""
    if not gens:
        return NOT_APPLICABLE, "no generation for this jurisdiction in the period", ()
    bad = tuple(sorted(c for c, g in gens.items() if not ok(c, g)))
    if not bad:
        return MET, f"{len(gens)} of {len(gens)} generations {what}", ()
    shown = ", ".join(bad[:_SHOW]) + (" …" if len(bad) > _SHOW else "")
    return NOT_MET, f"{len(gens) - len(bad)} of {len(gens)} generations {what}; missing: {shown}", bad


def evaluate_obligations(
    entries: Iterable[Any],
    *,
    jurisdiction: str | None,
    retention: list[dict[str, Any]],
    first_event: datetime | None,
    end: datetime,
) -> list[ObligationCheck]:
    """The checklist for ``jurisdiction`` (all three when None) from the period's entries."""
    gens: dict[str, dict[str, dict]] = defaultdict(dict)
    marked, signed, disclosure_prompts = set(), set(), set()
    labels_by_prompt: dict[str, set[str]] = defaultdict(set)
    own_detected = verifications = 0
    for e in entries:
        ev = e.event
        if ev is None:
            continue
        if e.kind == "generation.generated":
            gens[ev["jurisdiction"]][ev["content_id"]] = ev
            labels_by_prompt[ev["prompt_sha256"]].update(ev.get("labels_applied") or [])
        elif e.kind == "generation.watermarked":
            marked.add(ev["content_id"])
        elif e.kind == "generation.signed":
            signed.add(ev["content_id"])
        elif e.kind == "policy.decision":
            if "deepfake-disclosure" in (ev.get("obligations") or []) or ev["action"] == "add-disclosure":
                disclosure_prompts.add(ev["prompt_sha256"])
        elif e.kind == "verification":
            verifications += 1
            own_detected += bool(ev.get("record_content_id")) and ev["verdict"] in ("authentic", "recovered")
    out: list[ObligationCheck] = []
    wanted = (jurisdiction,) if jurisdiction else ("eu", "cn", "us-ca")

    def add(j: str, code: str, title: str, law: str, result: tuple[str, str, tuple[str, ...]]) -> None:
        out.append(ObligationCheck(j, code, title, law, *result))

    def detection(j: str, need: int, what: str) -> tuple[str, str, tuple[str, ...]]:
        if not gens[j]:
            return NOT_APPLICABLE, "no generation for this jurisdiction in the period", ()
        if need:
            return MET, what, ()
        return NOT_MET, "no verification in the period demonstrated that outputs can be detected", ()

    marked_and_signed = lambda c, g: c in marked and c in signed  # noqa: E731
    if "eu" in wanted:
        add(
            "eu",
            "eu.art50.2.marking",
            "Outputs marked in a machine-readable format",
            "EU AI Act Art. 50(2)",
            _every(gens["eu"], marked_and_signed, "carry a watermark and a signed C2PA manifest"),
        )
        add(
            "eu",
            "eu.art50.2.detectable",
            "Marking is detectable",
            "EU AI Act Art. 50(2)",
            detection(
                "eu",
                own_detected,
                f"{own_detected} verifications identified ReelGuard outputs from their C2PA manifest or watermark",
            ),
        )
        needs = {c: g for c, g in gens["eu"].items() if g["prompt_sha256"] in disclosure_prompts}
        add(
            "eu",
            "eu.art50.4.disclosure",
            "Deep fakes disclosed as artificially generated",
            "EU AI Act Art. 50(4)",
            _every(
                needs,
                lambda c, g: {"deepfake-disclosure", "visible-label"} & set(g.get("labels_applied") or []),
                "that required disclosure carry a disclosure label",
            ),
        )
    if "cn" in wanted:
        add(
            "cn",
            "cn.explicit-label",
            "Explicit (visible) AI label on every output",
            "CAC Labelling Measures Art. 4; GB 45438-2025",
            _every(
                gens["cn"], lambda c, g: "visible-label" in (g.get("labels_applied") or []), "carry the visible label"
            ),
        )
        add(
            "cn",
            "cn.implicit-label",
            "Implicit label in metadata (and watermark)",
            "CAC Labelling Measures Art. 5; GB 45438-2025",
            _every(
                gens["cn"],
                lambda c, g: marked_and_signed(c, g) and "gb45438-implicit" in (g.get("labels_applied") or []),
                "carry GB 45438 metadata in a signed manifest and a watermark",
            ),
        )
        add(
            "cn",
            "cn.log-retention",
            "Generation logs kept at least 6 months",
            "CAC Labelling Measures Art. 9",
            _retention(gens["cn"], retention, first_event, end),
        )
    if "us-ca" in wanted:
        add(
            "us-ca",
            "us-ca.latent-disclosure",
            "Latent disclosure in every output",
            "California SB 942 §22757.3(b)",
            _every(
                gens["us-ca"],
                lambda c, g: marked_and_signed(c, g) and "sb942-latent" in (g.get("labels_applied") or []),
                "carry a latent disclosure (watermark + signed provenance manifest)",
            ),
        )
        add(
            "us-ca",
            "us-ca.detection-tool",
            "AI detection tool available and used",
            "California SB 942 §22757.2",
            detection("us-ca", verifications, f"the detection tool answered {verifications} verification requests"),
        )
    return out


def _retention(gens: dict, retention: list[dict[str, Any]], first: datetime | None, end: datetime):
    if not gens:
        return NOT_APPLICABLE, "no generation for this jurisdiction in the period", ()
    short = [r for r in retention if r["retention_days"] < CN_LOG_DAYS and r["pruned"] > 0]
    if short:
        worst = min(r["retention_days"] for r in short)
        return (
            NOT_MET,
            f"{len(short)} retention runs pruned events after only {worst} days (at least {CN_LOG_DAYS} required)",
            tuple(r["cutoff"] for r in short),
        )
    runs = len(retention)
    since = f"; the record reaches back to {first:%Y-%m-%d}" if first else ""
    if runs:
        longest = min(r["retention_days"] for r in retention)
        return MET, f"{runs} retention runs, each keeping at least {longest} days{since}", ()
    return MET, f"no payload was ever pruned{since}", ()
