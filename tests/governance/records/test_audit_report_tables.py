"""Report tables against recorded events: flagged incoming clips, each generation, each refusal
(policy, protected material, likeness), likeness events of any ``likeness.*`` kind, and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.records.audit import AuditLog, NoteSigner
from governance.records.audit.events import (
    AuditEvent,
    GenerationEvent,
    ManifestSignedEvent,
    OutputRegistryCheckEvent,
    PolicyDecisionEvent,
    VerificationEvent,
    WatermarkEmbeddedEvent,
)
from governance.records.audit.report import build_report, render_csv, render_html
from governance.records.audit.report_tables import table_csv, write_csv_tables
from governance.records.storage.db import get_engine, session_scope

SIGNER = NoteSigner("reelguard.audit/test", Ed25519PrivateKey.generate())
DAY = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


class _Refusal(AuditEvent):  # shaped like the likeness module's events; the report knows none by name
    kind: ClassVar[str] = "likeness.refusal"
    stage: str
    person_ids: list[str]
    prompt_sha256: str | None = None
    matches: list[dict[str, Any]] = []


class _Enrol(AuditEvent):
    kind: ClassVar[str] = "likeness.enroll"
    person_id: str
    photos: int


class _Future(AuditEvent):  # a likeness event type added later
    kind: ClassVar[str] = "likeness.appeal"
    person_id: str
    outcome: str


def _gen(cid: str) -> GenerationEvent:
    return GenerationEvent(content_id=cid, prompt_sha256="p" * 64, model_id="tiny-t2v", pipeline_class="P",
                           weights_digest="w" * 64, seed=0, steps=1, width=8, height=8, num_frames=1, fps=1.0,
                           jurisdiction="eu")


def _decision(action: str, rule: str | None, category: str | None, prompt: str) -> PolicyDecisionEvent:
    return PolicyDecisionEvent(prompt_sha256=prompt * 64, action=action, rule_id=rule, category=category,
                               pack_digest="d" * 64, jurisdiction="eu")


def _verification(verdict: str, flags: list[str], sha: str) -> VerificationEvent:
    return VerificationEvent(file_sha256=sha * 64, verdict=verdict, flags=flags, c2pa_state="absent",
                             watermark_detected=False)


@pytest.fixture
def report(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path}/audit.db")
    log = AuditLog(engine, verifier=SIGNER.verifier)
    script = [
        ("alice", _decision("allow", None, None, "a")), ("alice", _gen("c1")),
        ("alice", WatermarkEmbeddedEvent(content_id="c1", scheme="ss", payload_hex="00" * 8)),
        ("alice", ManifestSignedEvent(content_id="c1", manifest_digest="m", manifest_label="l", file_sha256="f" * 64,
                                      signer="s", generation_leaf_index=1)),
        ("bob", _decision("allow", None, None, "b")), ("bob", _gen("c2")),  # marked, never signed
        ("bob", WatermarkEmbeddedEvent(content_id="c2", scheme="ss", payload_hex="01" * 8)),
        ("carol", _decision("deny", "ip.disney", "copyright", "c")),
        ("carol", _decision("review", "people.public-figure", "likeness", "d")),
        ("dave", OutputRegistryCheckEvent(content_id="c3", outcome="blocked",
                                          matches=[{"title": "Moon Walk", "owner": "Studio A"}])),
        ("public", _verification("unknown", ["protected-match"], "1")),
        ("public", _verification("authentic", [], "2")),
        ("Studio A (apikey:0123456789ab)", _verification("unknown", ["protected-match", "likeness-match"], "3")),
        ("erin", _Enrol(person_id="p-1", photos=3)),
        ("erin", _Refusal(stage="prompt", person_ids=["p-1"], prompt_sha256="e" * 64,
                          matches=[{"person_id": "p-1", "distance": 0.3}])),
        ("erin", _Future(person_id="p-1", outcome="upheld")),
    ]
    with session_scope(engine) as session:
        for i, (actor, event) in enumerate(script):
            log.append(session, event, actor=actor, at=DAY.replace(minute=i))
    return build_report(log, start=date(2026, 11, 1), end=date(2026, 11, 30), signer=SIGNER, verify=False)


def test_flagged_incoming_clips_are_counted_and_listed(report):
    t = report.tables
    assert t.verification_flags == {"protected-match": 2, "likeness-match": 1}
    assert [(v.verdict, v.flags, v.actor) for v in t.verifications] == [
        ("unknown", "protected-match", "public"),
        ("unknown", "protected-match likeness-match", "Studio A (apikey:0123456789ab)")]
    html = render_html(report)
    assert "flagged protected-match</td><td class=\"n\">2" in html
    assert "no incoming clip was flagged" not in html


def test_each_generation_is_listed_with_marking_and_signing(report):
    rows = [(g.content_id, g.actor, g.watermarked, g.signed, g.recorded_at.minute) for g in report.tables.generations]
    assert rows == [("c1", "alice", True, True, 1), ("c2", "bob", True, False, 5)]


def test_each_refusal_is_listed_with_its_rule(report):
    rows = [(r.source, r.action, r.rule, r.category, r.actor) for r in report.tables.refusals]
    assert rows == [
        ("policy", "deny", "ip.disney", "copyright", "carol"),
        ("policy", "review", "people.public-figure", "likeness", "carol"),
        ("protected-material", "blocked", "Moon Walk", "", "dave"),
        ("likeness", "refused", "likeness.refusal", "prompt", "erin"),
    ]
    assert report.tables.refusals[0].subject == "c" * 64
    assert report.tables.refusals[2].subject == "c3"


def test_likeness_events_of_any_kind_are_reported(report):
    t = report.tables
    assert t.likeness_kinds == {"likeness.appeal": 1, "likeness.enroll": 1, "likeness.refusal": 1}
    summaries = {x.kind: x.summary for x in t.likeness}
    assert summaries["likeness.enroll"] == "person_id=p-1; photos=3"
    assert summaries["likeness.appeal"] == "outcome=upheld; person_id=p-1"  # canonical (sorted) field order
    assert "distance" not in summaries["likeness.refusal"]  # nested match data stays out of the summary
    assert "likeness.appeal" in render_html(report)


def test_tables_as_csv_files(report, tmp_path):
    written = write_csv_tables(report.tables, tmp_path / "csv", summary=render_csv(report))
    assert sorted(p.name for p in written) == ["generations.csv", "likeness.csv", "refusals.csv", "summary.csv",
                                               "verifications.csv"]
    refusals = list(csv.DictReader(io.StringIO((tmp_path / "csv" / "refusals.csv").read_text())))
    assert [r["rule"] for r in refusals] == ["ip.disney", "people.public-figure", "Moon Walk", "likeness.refusal"]
    assert refusals[0]["recorded_at"].startswith("2026-11-03T09:07")
    gens = list(csv.DictReader(io.StringIO(table_csv(report.tables, "generations"))))
    assert [(g["content_id"], g["signed"]) for g in gens] == [("c1", "True"), ("c2", "False")]
    summary = (tmp_path / "csv" / "summary.csv").read_text()
    assert "verification_flags,protected-match,2" in summary and "totals,refusals,4" in summary
    assert not list((tmp_path / "csv").glob(".*.tmp"))  # nothing half-written left behind
