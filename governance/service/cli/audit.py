"""``reelguard audit``: signed checkpoints, inclusion proofs, full verification, reports, listings."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(
    help="The tamper-evident audit log: checkpoints, proofs, verification, reports.", no_args_is_help=True
)


def _log(settings, *, verifier: bool = True):
    from governance.records.audit import AuditLog, load_verifier
    from governance.records.storage.db import get_engine

    key = None
    if verifier and (settings.keys_path / "audit-log.vkey").exists():
        key = load_verifier(settings)
    # The install's log: its key authenticates appends and signs the automatic checkpoints,
    # published to its witness (settings.audit_witness, default $REELGUARD_HOME/witness).
    return AuditLog(get_engine(settings.resolved_database_url), verifier=key, settings=settings)


def _date(value: str, option: str) -> date:
    from governance.core.errors import AuditError

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditError(f"{option} {value!r} is not a date like 2026-10-31") from None


def _write_text(path: Path, text: str, *, force: bool) -> None:
    from governance.core.errors import OutputError, OutputExistsError

    if path.exists() and not force:
        raise OutputExistsError(f"{path}: already exists (pass --force to overwrite)")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc


@app.command("checkpoint")
@handle_errors
def checkpoint_cmd(
    output: Path | None = typer.Option(None, "-o", "--output", help="Also write the signed note to this file."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
    as_json: bool = typer.Option(False, "--json", help="Print the checkpoint as JSON."),
) -> None:
    """Sign the log's current size and root with the organisation's key (C2SP signed note)."""
    from governance.records.audit import load_or_create_signer, sign_checkpoint

    settings = load_settings()
    signer = load_or_create_signer(settings)
    checkpoint = sign_checkpoint(_log(settings), signer)
    if output is not None:
        _write_text(output, checkpoint.note(), force=force)
    if as_json:
        emit_json({**checkpoint.to_dict(), "verifier_key": signer.verifier.vkey()})
        return
    sys.stdout.write(checkpoint.note())  # verbatim: rich would wrap the signature line
    sys.stdout.flush()
    err_console.print(f"verifier key: {signer.verifier.vkey()}", markup=False, soft_wrap=True)


@app.command("prove")
@handle_errors
def prove_cmd(
    event_id: str = typer.Argument(..., help="Event id (32 hex characters) or a leaf index."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Prove against this signed checkpoint."),
    size: int | None = typer.Option(None, "--size", min=1, help="Prove in the tree of this size (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="Print the proof as JSON."),
) -> None:
    """Print the RFC 9162 inclusion proof of one event and check it."""
    from governance.core.errors import AuditIntegrityError
    from governance.records.audit import load_checkpoint

    settings = load_settings()
    log = _log(settings)
    root = None
    if checkpoint is not None:
        cp = load_checkpoint(checkpoint)
        if log.verifier is None or not log.verifier.verify(cp):
            raise AuditIntegrityError(f"{checkpoint}: checkpoint signature does not verify with the organisation's key")
        size, root = cp.size, cp.root.hex()
    key = int(event_id) if event_id.isdigit() and len(event_id) < 20 else event_id
    proof = log.prove(key, size=size)
    ok = proof.verify(root)
    if as_json:
        emit_json({**proof.to_dict(), "verified": ok, "checkpoint_root": root})
    else:
        console.print(f"event {proof.event_id} is leaf {proof.leaf_index} of {proof.tree_size}")
        console.print(f"leaf hash {proof.leaf_hash}", markup=False)
        for i, h in enumerate(proof.path, 1):
            console.print(f"  {i:2d}  {h}", markup=False)
        console.print(f"root      {proof.root}", markup=False)
        console.print("[green]proof verifies[/]" if ok else "[red]proof does NOT verify[/]")
    if not ok:
        raise typer.Exit(18)


@app.command("verify")
@handle_errors
def verify_cmd(
    from_checkpoint: Path | None = typer.Option(None, "--from-checkpoint", help="A checkpoint an auditor kept."),
    key: Path | None = typer.Option(None, "--key", help="Verifier key file (default: the organisation's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recompute every leaf, subtree and root; name the first event that does not match."""
    from governance.core.errors import AuditIntegrityError
    from governance.records.audit import load_verifier

    settings = load_settings()
    log = _log(settings)
    verifier = load_verifier(settings, key) if key is not None else log.verifier
    result = log.verify(from_checkpoint, verifier=verifier)
    if as_json:
        emit_json(result)
        if not result.ok:
            raise typer.Exit(AuditIntegrityError.exit_code)
        return
    witness = result.witness
    if witness is not None and witness.status == "consistent":
        against = f"consistent with the witness checkpoint of size {witness.size} ({witness.source})"
    elif witness is not None and witness.status == "none":
        against = (
            f"NO external checkpoint found in {witness.location}: verified against the database alone, "
            "which cannot show that events were deleted or rewritten"
        )
    else:
        against = "no witness configured"
    if result.ok:
        extra = f", consistent with {from_checkpoint}" if from_checkpoint else ""
        console.print(
            f"[green]audit log verified[/]: {result.size} events, root {result.root}, "
            f"{result.checkpoints_checked} checkpoints checked{extra}; "
            f"{result.records_checked} generation records and {result.registry_works_checked} registry "
            f"works cross-checked",
            soft_wrap=True,
        )
        style = "yellow" if witness is not None and witness.status == "none" else "green"
        console.print(f"[{style}]{escape(against)}[/]", soft_wrap=True)
        return
    for failure in result.failures:
        where = f" leaf {failure.leaf}" if failure.leaf is not None else ""
        err_console.print(f"[red]{failure.case}[/]{where}: {escape(failure.detail)}", soft_wrap=True)
    raise AuditIntegrityError(
        f"audit log does NOT verify ({len(result.failures)} failures, first: {result.case}): {result.reason}"
    )


@app.command("report")
@handle_errors
def report_cmd(
    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, UTC)."),
    end: str = typer.Option(..., "--to", help="Last day, inclusive (YYYY-MM-DD, UTC)."),
    output: Path = typer.Option(..., "-o", "--output", help="Report file."),
    fmt: str | None = typer.Option(None, "--format", help="html | pdf | json | csv (default: from the suffix)."),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", help="eu | cn | us-ca (default: all)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
    csv_dir: Path | None = typer.Option(
        None,
        "--csv",
        metavar="DIR",
        help="Also write the tables as CSV files in DIR: verifications (flagged incoming clips), generations, "
        "refusals, likeness, summary.",
    ),
) -> None:
    """Compliance report for a date range, built from a signed checkpoint."""
    from governance.core.errors import AuditError, OutputExistsError
    from governance.records.audit import load_or_create_signer
    from governance.records.audit.report import FORMATS, build_report, write_report

    fmt = (fmt or output.suffix.lstrip(".") or "html").lower()
    if fmt not in FORMATS:
        raise AuditError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if output.exists() and not force:
        raise OutputExistsError(f"{output}: already exists (pass --force to overwrite)")
    settings = load_settings()
    report = build_report(
        _log(settings),
        start=_date(start, "--from"),
        end=_date(end, "--to"),
        jurisdiction=jurisdiction,
        organisation=settings.organisation,
        signer=load_or_create_signer(settings),
    )
    write_report(report, output, fmt)  # type: ignore[arg-type]
    failing = [o for o in report.obligations if o.status == "not met"]
    t = report.tables
    console.print(
        f"wrote {fmt} report to {output}: {report.events} events, "
        f"{report.generations.get('total', 0)} generations, {len(t.refusals)} refusals, "
        f"{len(t.verifications)} flagged incoming clips, {len(failing)} obligations not met"
    )
    if csv_dir is not None:
        from governance.records.audit.report import render_csv
        from governance.records.audit.report_tables import write_csv_tables

        written = write_csv_tables(t, csv_dir, summary=render_csv(report))
        console.print(f"wrote {len(written)} CSV tables to {csv_dir}: " + ", ".join(p.name for p in written))


@app.command("events")
@handle_errors
def events_cmd(
    start: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD, UTC)."),
    end: str | None = typer.Option(None, "--to", help="Last day, inclusive."),
    kind: list[str] = typer.Option([], "--kind", help="Only these kinds (repeatable), e.g. policy.decision."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many events."),
    as_json: bool = typer.Option(False, "--json", help="Print the events as JSON."),
) -> None:
    """List recorded events in leaf order."""
    from datetime import time, timedelta

    lo = datetime.combine(_date(start, "--from"), time.min, UTC) if start else None
    hi = datetime.combine(_date(end, "--to") + timedelta(days=1), time.min, UTC) if end else None
    entries = list(_log(load_settings(), verifier=False).events(start=lo, end=hi, kinds=kind, limit=limit))
    if as_json:
        emit_json(entries)
        return
    table = Table("leaf", "time (UTC)", "kind", "actor", "event id", "summary")
    for e in entries:
        summary = (
            "(pruned)"
            if e.event is None
            else ", ".join(
                f"{k}={v}" for k, v in e.event.items() if k != "kind" and isinstance(v, (str, int, float)) and v != ""
            )[:70]
        )
        table.add_row(
            str(e.leaf_index), e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.actor, e.event_id, summary
        )
    console.print(table)


@app.command("retention")
@handle_errors
def retention_cmd(
    days: int | None = typer.Option(None, "--days", min=1, help="Keep payloads this many days (default: settings)."),
    yes: bool = typer.Option(False, "--yes", help="Do it (without this, only say what would be pruned)."),
) -> None:
    """Prune event payloads older than the retention period; leaf hashes stay, so verify still passes."""
    from governance.records.audit.retention import prune
    from governance.records.storage.db import session_scope

    settings = load_settings()
    log = _log(settings, verifier=False)
    days = days or settings.retention_days
    if days < settings.retention_days:
        from governance.core.errors import AuditError

        raise AuditError(
            f"--days {days} would prune inside the retention period ({settings.retention_days} days, "
            "settings.retention_days)"
        )
    if not yes:
        from datetime import timedelta

        cutoff = datetime.now(UTC) - timedelta(days=days)
        n = sum(1 for e in log.events(end=cutoff) if e.event is not None)
        console.print(f"would prune {n} event payloads recorded before {cutoff:%Y-%m-%d} (pass --yes to do it)")
        return
    with session_scope(log.engine) as session:
        result = prune(log, session, retention_days=days, minimum_days=settings.retention_days)
    console.print(
        f"pruned {result.pruned} payloads recorded before {result.cutoff:%Y-%m-%d}; "
        f"recorded as leaf {result.leaf_index}"
    )
