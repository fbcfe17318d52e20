"""Reports: figures and obligations come from the recorded events; every format renders."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.records.audit import AuditLog, NoteSigner
from governance.records.audit.events import GenerationEvent, ManifestSignedEvent, RetentionEvent
from governance.records.audit.report import build_report, render_csv, render_html, render_json, write_report
from governance.records.audit.retention import prune
from tests.support.audit_month import synthetic_events, write_synthetic_month
from governance.core.errors import AuditError, OutputError
from governance.records.storage.db import get_engine, session_scope

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
SIGNER = NoteSigner("reelguard.audit/test", Ed25519PrivateKey.generate())


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> AuditLog:
    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('report')}/audit.db")
    write_synthetic_month(engine, START, days=24, per_day=12, seed=3)
    return AuditLog(engine, verifier=SIGNER.verifier)


def _gen(content: str, juris: str, labels: list[str]) -> GenerationEvent:
    return GenerationEvent(content_id=content, prompt_sha256="p" * 64, model_id="m", pipeline_class="P",
                           weights_digest="w" * 64, seed=0, steps=1, width=8, height=8, num_frames=1, fps=1.0,
                           jurisdiction=juris, labels_applied=labels)


def test_figures_match_the_events(log: AuditLog) -> None:
    report = build_report(log, start=date(2026, 10, 1), end=date(2026, 10, 24), signer=SIGNER)
    expected = [e for _, batch in synthetic_events(START, days=24, per_day=12, seed=3) for e in batch]
    gens = [e for e in expected if isinstance(e, GenerationEvent)]
    assert report.generations["total"] == len(gens) and report.generations["share_marked"] == 1.0
    assert report.events == len(expected) and report.integrity["ok"]
    assert sum(report.denials_by_category.values()) == report.decisions["deny"]
    assert sum(d["generations"] for d in report.daily) == len(gens)
    status = {o.code: o for o in report.obligations}
    unlabelled = [g.content_id for g in gens if g.jurisdiction == "cn" and "visible-label" not in g.labels_applied]
    assert status["cn.explicit-label"].status == "not met" and status["cn.explicit-label"].failures == tuple(unlabelled)
    assert status["eu.art50.2.marking"].status == status["us-ca.detection-tool"].status == "met"
    root = report.checkpoint["root"]
    assert report.proofs and all(p.verify(root) and p.tree_size == report.checkpoint["size"] for p in report.proofs)


def test_jurisdiction_filter(log: AuditLog) -> None:
    report = build_report(log, start=date(2026, 10, 1), end=date(2026, 10, 24), jurisdiction="cn", signer=SIGNER,
                          verify=False)
    assert set(report.generations["by_jurisdiction"]) == {"cn"}
    assert {o.jurisdiction for o in report.obligations} == {"cn"}
    with pytest.raises(AuditError, match="unknown jurisdiction"):
        build_report(log, start=date(2026, 10, 1), end=date(2026, 10, 2), jurisdiction="mars", signer=SIGNER)


def test_empty_range_is_a_valid_report(log: AuditLog, tmp_path: Path) -> None:
    report = build_report(log, start=date(2025, 1, 1), end=date(2025, 1, 31), signer=SIGNER, verify=False)
    assert report.events == 0 and report.proofs == [] and report.generations["share_marked"] is None
    assert {o.status for o in report.obligations} == {"not applicable"}
    assert json.loads(render_json(report))["events"] == 0
    assert "no events in the period" not in render_csv(report)
    pdf = write_report(report, tmp_path / "empty.pdf", "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    with pytest.raises(AuditError, match="ends"):
        build_report(log, start=date(2025, 2, 1), end=date(2025, 1, 1), signer=SIGNER)
    with pytest.raises(OutputError):
        write_report(report, tmp_path / "missing" / "r.html", "html")


def test_renderers(log: AuditLog) -> None:
    report = build_report(log, start=date(2026, 10, 1), end=date(2026, 10, 7), signer=SIGNER, verify=False)
    html = render_html(report)
    assert html.count("data:image/png;base64,") == 4 and "Obligations checklist" in html
    assert report.checkpoint["note"].splitlines()[0] in html
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert rows[0] == ["section", "item", "value"] and ["generations", "total", str(report.generations["total"])] in rows


def test_obligations_come_from_events_not_configuration(tmp_path: Path) -> None:
    """A generation with a signature but no watermark event fails marking, whatever is configured."""
    log = AuditLog(get_engine(f"sqlite:///{tmp_path}/a.db"))
    with session_scope(log.engine) as s:
        log.append(s, _gen("c1", "eu", []), at=START)
        log.append(s, ManifestSignedEvent(content_id="c1", manifest_digest="d", manifest_label="l", file_sha256="f",
                                          signer="s", generation_leaf_index=0), at=START)
        log.append(s, _gen("c2", "cn", ["visible-label", "gb45438-implicit"]), at=START)
        log.append(s, RetentionEvent(retention_days=90, cutoff="2026-07-01T00:00:00Z", pruned=12), at=START)
    report = build_report(log, start=START.date(), end=START.date(), signer=SIGNER)
    status = {o.code: o.status for o in report.obligations}
    assert status["eu.art50.2.marking"] == "not met" and report.generations["unmarked"] == ["c1", "c2"]
    assert status["eu.art50.2.detectable"] == "not met"  # no verification shows detection
    assert status["cn.log-retention"] == "not met"
    assert status["us-ca.latent-disclosure"] == "not applicable"


def test_retention_prunes_payloads_and_keeps_verification(tmp_path: Path) -> None:
    log = AuditLog(get_engine(f"sqlite:///{tmp_path}/r.db"), verifier=SIGNER.verifier)
    with session_scope(log.engine) as s:
        for day in range(10):
            log.append(s, _gen(f"c{day}", "eu", []), at=START + timedelta(days=day))
    from governance.records.audit import sign_checkpoint

    before = sign_checkpoint(log, SIGNER)
    with session_scope(log.engine) as s:
        result = prune(log, s, retention_days=200, now=START + timedelta(days=205))
    assert (result.pruned, result.first_leaf, result.last_leaf) == (5, 0, 4)
    assert [e.event is None for e in log.events()] == [True] * 5 + [False] * 6
    verdict = log.verify(before)
    assert verdict.ok and verdict.pruned == 5
    assert log.prove(log.get_at(2).event_id).verify()
    with pytest.raises(AuditError, match="at least 1 day"):
        with session_scope(log.engine) as s:
            prune(log, s, retention_days=0)
