"""The report's per-event tables: incoming verifications and their flags, each generation, each
refusal (content id or prompt digest, time, rule), and likeness events.

Totals answer "how many"; an auditor asking "which ones" needs the rows. They come from the same
events as the totals (``report._tally`` walks the entries once for each), and render as HTML
tables and as one CSV file per table (``write_csv_tables``).

Likeness events are read generically: the likeness module records events whose kind starts with
``likeness.`` (enrolment, removal, refusal, scan, ...). Any such kind is counted and listed with
its scalar fields summarised, and a kind that names a refusal (``likeness.refus*``) is also a
row of the refusals table, so new likeness event types appear here without a change to reports.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from governance.core.errors import OutputError

__all__ = [
    "VerificationRow",
    "GenerationRow",
    "RefusalRow",
    "LikenessRow",
    "ReportTables",
    "build_tables",
    "table_csv",
    "write_csv_tables",
    "TABLES",
]

LIKENESS_PREFIX = "likeness."
_SUMMARY_SKIP = {"embedding", "embeddings", "vector", "template", "matches"}  # large or biometric: never printed


@dataclass(frozen=True)
class VerificationRow:
    recorded_at: datetime
    leaf_index: int
    actor: str
    verdict: str
    flags: str  # space-separated, e.g. "protected-match likeness-match"
    file_sha256: str
    record_content_id: str


@dataclass(frozen=True)
class GenerationRow:
    recorded_at: datetime
    leaf_index: int
    actor: str
    content_id: str
    model_id: str
    jurisdiction: str
    watermarked: bool
    signed: bool


@dataclass(frozen=True)
class RefusalRow:
    recorded_at: datetime
    leaf_index: int
    actor: str
    source: str  # "policy" | "protected-material" | "likeness"
    action: str  # deny | review | require-consent | blocked | ...
    rule: str  # the rule id (policy), the matched works (registry) or the event kind (likeness)
    category: str
    jurisdiction: str
    subject: str  # the prompt's SHA-256 (policy) or the content id (outputs)


@dataclass(frozen=True)
class LikenessRow:
    recorded_at: datetime
    leaf_index: int
    actor: str
    kind: str
    summary: str


@dataclass
class ReportTables:
    verifications: list[VerificationRow] = field(default_factory=list)  # only those with flags
    generations: list[GenerationRow] = field(default_factory=list)
    refusals: list[RefusalRow] = field(default_factory=list)
    likeness: list[LikenessRow] = field(default_factory=list)
    verification_flags: dict[str, int] = field(default_factory=dict)
    likeness_kinds: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verification_flags": self.verification_flags, "likeness_kinds": self.likeness_kinds}
        for name in TABLES:
            out[name] = [
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(r).items()}
                for r in getattr(self, name)
            ]
        return out


TABLES = ("verifications", "generations", "refusals", "likeness")
_ROW_TYPES = {
    "verifications": VerificationRow,
    "generations": GenerationRow,
    "refusals": RefusalRow,
    "likeness": LikenessRow,
}


def _summary(event: dict[str, Any]) -> str:
    """``key=value`` for an event's short fields (scalars, lists of ids; never nested data or
    anything biometric)."""
    parts = []
    for key, value in event.items():
        if key == "kind" or key in _SUMMARY_SKIP or isinstance(value, dict) or value in (None, [], ""):
            continue
        if isinstance(value, list):
            if not all(isinstance(v, (str, int, float, bool)) for v in value):
                continue
            value = ",".join(str(v) for v in value)
        text = str(value)
        parts.append(f"{key}={text if len(text) <= 64 else text[:61] + '...'}")
    return "; ".join(parts)


class TableBuilder:
    """Collects rows while ``report._tally`` walks the entries (in leaf order)."""

    def __init__(self) -> None:
        self.tables = ReportTables()
        self._gens: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._marked: set[str] = set()
        self._signed: set[str] = set()
        self._flags: Counter = Counter()
        self._likeness: Counter = Counter()

    def add(self, entry: Any) -> None:
        ev, kind = entry.event, entry.kind
        when, leaf, actor = entry.recorded_at, entry.leaf_index, entry.actor
        t = self.tables
        if kind == "verification":
            flags = [str(f) for f in ev.get("flags") or []]
            self._flags.update(flags)
            if flags:
                t.verifications.append(
                    VerificationRow(
                        when,
                        leaf,
                        actor,
                        str(ev.get("verdict", "")),
                        " ".join(flags),
                        str(ev.get("file_sha256", "")),
                        str(ev.get("record_content_id") or ""),
                    )
                )
        elif kind == "generation.generated":
            self._gens[ev["content_id"]] = (entry, ev)
        elif kind == "generation.watermarked":
            self._marked.add(ev["content_id"])
        elif kind == "generation.signed":
            self._signed.add(ev["content_id"])
        elif kind == "policy.decision" and ev.get("action") not in ("allow", "add-disclosure"):
            t.refusals.append(
                RefusalRow(
                    when,
                    leaf,
                    actor,
                    "policy",
                    str(ev.get("action", "")),
                    str(ev.get("rule_id") or ""),
                    str(ev.get("category") or ""),
                    str(ev.get("jurisdiction") or ""),
                    str(ev.get("prompt_sha256", "")),
                )
            )
        elif kind == "generation.registry_check" and ev.get("outcome") not in (None, "clear"):
            works = ", ".join(sorted({str(m.get("title") or m.get("work_id") or "?") for m in ev.get("matches") or []}))
            t.refusals.append(
                RefusalRow(
                    when,
                    leaf,
                    actor,
                    "protected-material",
                    str(ev["outcome"]),
                    works,
                    "",
                    "",
                    str(ev.get("content_id", "")),
                )
            )
        elif kind.startswith(LIKENESS_PREFIX):
            self._likeness[kind] += 1
            summary = _summary(ev)
            t.likeness.append(LikenessRow(when, leaf, actor, kind, summary))
            if kind.startswith(LIKENESS_PREFIX + "refus"):
                subject = ev.get("prompt_sha256") or ev.get("content_id") or ev.get("media_sha256") or ""
                t.refusals.append(
                    RefusalRow(
                        when,
                        leaf,
                        actor,
                        "likeness",
                        str(ev.get("outcome") or "refused"),
                        kind,
                        str(ev.get("category") or ev.get("stage") or ""),
                        str(ev.get("jurisdiction") or ""),
                        str(subject),
                    )
                )

    def finish(self) -> ReportTables:
        t = self.tables
        t.generations = [
            GenerationRow(
                e.recorded_at,
                e.leaf_index,
                e.actor,
                cid,
                str(ev.get("model_id", "")),
                str(ev.get("jurisdiction", "")),
                cid in self._marked,
                cid in self._signed,
            )
            for cid, (e, ev) in self._gens.items()
        ]
        t.verification_flags = dict(self._flags.most_common())
        t.likeness_kinds = dict(sorted(self._likeness.items()))
        return t


def build_tables(entries: list[Any]) -> ReportTables:
    """The tables of ``entries`` (audit entries with parsed events; pruned ones are skipped)."""
    builder = TableBuilder()
    for entry in entries:
        if entry.event is not None:
            builder.add(entry)
    return builder.finish()


def table_csv(tables: ReportTables, name: str) -> str:
    """One table as CSV, a header row of its column names first."""
    if name not in _ROW_TYPES:
        raise OutputError(f"unknown report table {name!r}: choose one of {', '.join(TABLES)}")
    columns = [f.name for f in fields(_ROW_TYPES[name])]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in getattr(tables, name):
        w.writerow([(v.isoformat() if isinstance(v, datetime) else v) for v in (getattr(row, c) for c in columns)])
    return buf.getvalue()


def write_csv_tables(tables: ReportTables, folder: Path, *, summary: str | None = None) -> list[Path]:
    """``verifications.csv``, ``generations.csv``, ``refusals.csv``, ``likeness.csv`` (and
    ``summary.csv`` when given) in ``folder``; each written to a temp file and renamed."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the CSV folder: {exc.strerror}") from exc
    texts = {f"{name}.csv": table_csv(tables, name) for name in TABLES}
    if summary is not None:
        texts["summary.csv"] = summary
    written = []
    for name, text in texts.items():
        path = folder / name
        tmp = folder / f".{name}.tmp"
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
        written.append(path)
    return written
