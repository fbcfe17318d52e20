"""Regenerate the committed sample report from a synthetic month (about a minute).

    .venv/bin/python docs/audit/make_sample_report.py

Builds a throw-away ReelGuard home, appends a realistic synthetic October 2026 (see
tests/support/audit_month.py), signs a checkpoint with a fresh organisation key, and writes
sample-report.{html,pdf,json,csv}, the checkpoint and its verifier key, and PNG renders of the
PDF's first pages (needs ``pdftoppm`` from poppler-utils) into this folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="reelguard_sample_"))
    os.environ["REELGUARD_HOME"] = str(home)
    from governance.records.audit import AuditLog, load_or_create_signer, sign_checkpoint
    from governance.records.audit.report import build_report, write_report
    from tests.support.audit_month import write_synthetic_month
    from governance.core.settings import get_settings
    from governance.records.storage.db import get_engine

    settings = get_settings(organisation="Northlight Pictures (synthetic)")
    settings.ensure_dirs()
    engine = get_engine(settings.resolved_database_url)
    month = write_synthetic_month(engine, datetime(2026, 10, 1, tzinfo=timezone.utc), days=31, per_day=60, seed=7)
    print(f"synthetic month: {month.events} events, {month.generations} generations")
    signer = load_or_create_signer(settings)
    log = AuditLog(engine, verifier=signer.verifier)
    checkpoint = sign_checkpoint(log, signer)
    report = build_report(log, start=date(2026, 10, 1), end=date(2026, 10, 31), organisation=settings.organisation,
                          checkpoint=checkpoint, now=datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc))
    for fmt in ("html", "pdf", "json", "csv"):
        write_report(report, HERE / f"sample-report.{fmt}", fmt)
    (HERE / "sample-checkpoint.txt").write_text(checkpoint.note(), encoding="utf-8")
    (HERE / "sample-verifier-key.txt").write_text(signer.verifier.vkey() + "\n", encoding="utf-8")
    if shutil.which("pdftoppm"):
        for old in HERE.glob("sample-report-page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "3", str(HERE / "sample-report.pdf"),
                        str(HERE / "sample-report-page")], check=True)
    shutil.rmtree(home)
    print(f"wrote the sample report to {HERE}")


if __name__ == "__main__":
    main()
