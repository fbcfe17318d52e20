"""Compliance reports built from the audit log: totals, trends, plots, proofs, obligations.

``build_report`` reads the events of a date range *as committed to a signed checkpoint* (events
after the checkpoint are left for the next report), computes every figure from the recorded
events, attaches inclusion proofs of the range's first and last events (and a sample of
generations) against that checkpoint, and evaluates the per-jurisdiction obligations from the
same events (``obligations.py``). ``write_report`` renders HTML (plots embedded), PDF
(WeasyPrint, same HTML), JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from governance.core.errors import AuditError, OutputError
from governance.records.audit.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from governance.records.audit.log import AuditLog, InclusionProof, VerifyResult
from governance.records.audit.models import AuditEntryPublic
from governance.records.audit.obligations import ObligationCheck, evaluate_obligations
from governance.records.audit.report_tables import ReportTables, TableBuilder

__all__ = ["AuditReport", "build_report", "write_report", "render_html", "render_csv", "render_json", "FORMATS"]

FORMATS = ("html", "pdf", "json", "csv")
Format = Literal["html", "pdf", "json", "csv"]
JURISDICTIONS = ("eu", "cn", "us-ca")
_SAMPLE_PROOFS = 6


@dataclass
class AuditReport:
    """Every figure in a report; renderers only format it."""

    organisation: str
    start: date
    end: date  # inclusive
    jurisdiction: str | None
    generated_at: datetime
    checkpoint: dict[str, Any]
    integrity: dict[str, Any]
    events: int = 0
    first_leaf: int | None = None
    last_leaf: int | None = None
    by_kind: dict[str, int] = field(default_factory=dict)
    daily: list[dict[str, Any]] = field(default_factory=list)
    generations: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    denials_by_category: dict[str, int] = field(default_factory=dict)
    denials_by_rule: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, int] = field(default_factory=dict)
    verifications: dict[str, int] = field(default_factory=dict)
    protected_matches: dict[str, int] = field(default_factory=dict)
    consent: dict[str, int] = field(default_factory=dict)
    registry_changes: dict[str, int] = field(default_factory=dict)
    key_rotations: int = 0
    pruned_events: int = 0
    proofs: list[InclusionProof] = field(default_factory=list)
    obligations: list[ObligationCheck] = field(default_factory=list)
    # The rows behind the totals: flagged incoming verifications, each generation, each refusal,
    # likeness events (``report_tables.py``).
    tables: ReportTables = field(default_factory=ReportTables)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("proofs", "obligations", "tables")}
        out.update(
            start=self.start.isoformat(),
            end=self.end.isoformat(),
            generated_at=self.generated_at.isoformat(),
            tables=self.tables.to_dict(),
            proofs=[p.to_dict() for p in self.proofs],
            obligations=[o.to_dict() for o in self.obligations],
        )
        return out


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise AuditError(f"report range ends ({end}) before it starts ({start})")
    return (datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC))


def _pick_checkpoint(log: AuditLog, signer: NoteSigner | None, checkpoint: Checkpoint | None) -> Checkpoint:
    if checkpoint is not None:
        if checkpoint.size > log.size():
            raise AuditError(f"checkpoint covers {checkpoint.size} events but the log has {log.size()}")
        return checkpoint
    size = log.size()
    stored = log.checkpoints()
    if stored and stored[-1].size == size:
        return Checkpoint.parse(stored[-1].note)
    if signer is None:
        raise AuditError("no checkpoint covers the whole log: run `reelguard audit checkpoint` first")
    return sign_checkpoint(log, signer)


def build_report(
    log: AuditLog,
    *,
    start: date,
    end: date,
    jurisdiction: str | None = None,
    organisation: str = "ReelGuard",
    signer: NoteSigner | None = None,
    checkpoint: Checkpoint | None = None,
    verify: bool = True,
    now: datetime | None = None,
) -> AuditReport:
    """Builds the report for days ``start``..``end`` (inclusive, UTC) from a signed checkpoint."""
    if jurisdiction is not None and jurisdiction not in JURISDICTIONS:
        raise AuditError(f"unknown jurisdiction {jurisdiction!r}: choose one of {', '.join(JURISDICTIONS)}")
    lo, hi = _day_bounds(start, end)
    cp = _pick_checkpoint(log, signer, checkpoint)
    integrity: dict[str, Any] = {"verified": False}
    if verify:
        result: VerifyResult = log.verify()
        integrity = {
            "verified": True,
            "ok": result.ok,
            "size": result.size,
            "root": result.root,
            "reason": result.reason,
            "first_bad_index": result.first_bad_index,
        }
    entries = [e for e in log.events(start=lo, end=hi) if e.leaf_index < cp.size]
    report = AuditReport(
        organisation=organisation,
        start=start,
        end=end,
        jurisdiction=jurisdiction,
        generated_at=now or datetime.now(UTC),
        integrity=integrity,
        checkpoint={"origin": cp.origin, "size": cp.size, "root": cp.root.hex(), "note": cp.note()},
    )
    _tally(report, entries, lo, hi)
    # Retention evidence reaches back beyond the range: it is about the whole record.
    retention = [e.event for e in log.events(kinds=["audit.retention"]) if e.event and e.leaf_index < cp.size]
    report.obligations = evaluate_obligations(
        entries, jurisdiction=jurisdiction, retention=retention, first_event=_first_time(log), end=hi
    )
    report.proofs = _proofs(log, entries, cp.size)
    return report


def _first_time(log: AuditLog) -> datetime | None:
    first = next(iter(log.events(limit=1)), None)
    return first.recorded_at if first else None


def _in_scope(event: dict[str, Any], jurisdiction: str | None, juris_of: dict[str, str]) -> bool:
    if jurisdiction is None:
        return True
    j = event.get("jurisdiction") or juris_of.get(event.get("content_id", ""))
    return j is None or j == jurisdiction


def _tally(report: AuditReport, entries: list[AuditEntryPublic], lo: datetime, hi: datetime) -> None:
    days = [(lo + timedelta(days=i)).date() for i in range((hi - lo).days)]
    daily: dict[date, Counter[str]] = {d: Counter() for d in days}
    juris_of = {
        e.event["content_id"]: e.event["jurisdiction"] for e in entries if e.kind == "generation.generated" and e.event
    }
    by_kind: Counter[str] = Counter()
    gens: dict[str, dict[str, Any]] = {}
    marked: set[str] = set()
    signed: set[str] = set()
    decisions, cats, rules, reviews, verdicts, holders, consent, registry = (Counter[str]() for _ in range(8))
    rows = TableBuilder()
    for e in entries:
        if e.event is None:
            report.pruned_events += 1
            continue
        ev = e.event
        if not _in_scope(ev, report.jurisdiction, juris_of):
            continue
        by_kind[e.kind] += 1
        rows.add(e)
        day = daily[e.recorded_at.date()]
        if e.kind == "policy.decision":
            decisions[ev["action"]] += 1
            if ev["action"] == "deny":
                cats[ev.get("category") or "uncategorised"] += 1
                rules[ev.get("rule_id") or "unknown"] += 1
                day["denials"] += 1
            elif ev["action"] == "review":
                day["held for review"] += 1
        elif e.kind == "generation.generated":
            gens[ev["content_id"]] = ev
            day["generations"] += 1
        elif e.kind == "generation.watermarked":
            marked.add(ev["content_id"])
        elif e.kind == "generation.signed":
            signed.add(ev["content_id"])
        elif e.kind == "generation.registry_check":
            for match in ev.get("matches") or []:
                holders[str(match.get("owner", "unknown"))] += 1
        elif e.kind == "policy.review":
            reviews[ev["outcome"]] += 1
        elif e.kind == "verification":
            verdicts[ev["verdict"]] += 1
            day["verifications"] += 1
        elif e.kind == "consent":
            consent[ev["action"]] += 1
        elif e.kind == "registry.change":
            registry[ev["action"]] += 1
        elif e.kind == "keys.rotation":
            report.key_rotations += 1
    n = len(gens)
    both = [c for c in gens if c in marked and c in signed]
    report.events = sum(by_kind.values()) + report.pruned_events
    report.first_leaf = entries[0].leaf_index if entries else None
    report.last_leaf = entries[-1].leaf_index if entries else None
    report.by_kind = dict(sorted(by_kind.items()))
    report.daily = [
        {
            "date": d.isoformat(),
            **{k: daily[d][k] for k in ("generations", "denials", "held for review", "verifications")},
        }
        for d in days
    ]
    report.generations = {
        "total": n,
        "watermarked": sum(c in marked for c in gens),
        "signed": sum(c in signed for c in gens),
        "watermarked_and_signed": len(both),
        "share_marked": (len(both) / n) if n else None,
        "unmarked": sorted(c for c in gens if c not in both),
        "by_jurisdiction": dict(Counter(g["jurisdiction"] for g in gens.values())),
        "by_model": dict(Counter(g["model_id"] for g in gens.values())),
    }
    report.decisions = dict(decisions.most_common())
    report.denials_by_category = dict(cats.most_common())
    report.denials_by_rule = dict(rules.most_common())
    report.reviews = {"held": decisions.get("review", 0), **dict(reviews.most_common())}
    report.verifications = dict(verdicts.most_common())
    report.protected_matches = dict(holders.most_common())
    report.consent = {k: consent.get(k, 0) for k in ("grant", "use", "revoke")}
    report.registry_changes = dict(registry.most_common())
    report.tables = rows.finish()


def _proofs(log: AuditLog, entries: list[AuditEntryPublic], size: int) -> list[InclusionProof]:
    """Proofs of the first and last event in range and of a spread of generations."""
    if not entries:
        return []
    picks = [entries[0], entries[-1]]
    gens = [e for e in entries if e.kind == "generation.generated"]
    step = max(1, len(gens) // _SAMPLE_PROOFS)
    picks += gens[::step][:_SAMPLE_PROOFS]
    seen, out = set(), []
    for e in sorted(picks, key=lambda e: e.leaf_index):
        if e.leaf_index not in seen:
            seen.add(e.leaf_index)
            out.append(log.prove(e.event_id, size=size))
    return out


# ---------------------------------------------------------------------- rendering
def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def render_csv(report: AuditReport) -> str:
    """Long format (section, item, value): one table a spreadsheet can pivot."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "item", "value"])
    w.writerow(["report", "range", f"{report.start}..{report.end}"])
    w.writerow(["report", "jurisdiction", report.jurisdiction or "all"])
    w.writerow(["checkpoint", "size", report.checkpoint["size"]])
    w.writerow(["checkpoint", "root", report.checkpoint["root"]])
    w.writerow(["integrity", "ok", report.integrity.get("ok", "not checked")])
    w.writerow(["totals", "events", report.events])
    for key, value in report.generations.items():
        if not isinstance(value, (dict, list)):
            w.writerow(["generations", key, "" if value is None else value])
    for section in (
        "by_kind",
        "decisions",
        "denials_by_category",
        "denials_by_rule",
        "reviews",
        "verifications",
        "protected_matches",
        "consent",
        "registry_changes",
    ):
        for key, value in getattr(report, section).items():
            w.writerow([section, key, value])
    for flag, count in report.tables.verification_flags.items():
        w.writerow(["verification_flags", flag, count])
    for kind, count in report.tables.likeness_kinds.items():
        w.writerow(["likeness", kind, count])
    w.writerow(["totals", "refusals", len(report.tables.refusals)])
    for row in report.daily:
        for key, value in row.items():
            if key != "date":
                w.writerow([f"daily:{row['date']}", key, value])
    for o in report.obligations:
        w.writerow([f"obligation:{o.jurisdiction}", o.title, o.status])
    for p in report.proofs:
        w.writerow(["proof", f"leaf {p.leaf_index} ({p.event_id})", "verified" if p.verify() else "FAILED"])
    return buf.getvalue()


def render_html(report: AuditReport) -> str:
    from governance.records.audit.render import render_html as _render

    return _render(report)


def write_report(report: AuditReport, path: Path, fmt: Format) -> Path:
    """Writes ``report`` as ``fmt`` to ``path`` (temp file + rename, so no half-written file)."""
    if fmt not in FORMATS:
        raise AuditError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise OutputError(f"{path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if fmt == "pdf":
            from governance.records.audit.render import render_pdf

            tmp.write_bytes(render_pdf(report))
        else:
            text = {"html": render_html, "json": render_json, "csv": render_csv}[fmt](report)
            tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write report: {exc.strerror}") from exc
    return path
