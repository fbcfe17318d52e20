"""``reelguard doctor``: what crashes and races left in the home, and (``--fix``) repair it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from governance.service.cli.common import console, emit_json, handle_errors, load_settings

__all__ = ["doctor_cmd", "register"]


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_cmd)


@handle_errors
def doctor_cmd(
    fix: bool = typer.Option(
        False, "--fix", help="Repair what can be repaired (remove orphans, finish renames, chmod)."
    ),
    scan: list[Path] | None = typer.Option(
        None, "--scan", help="Also look for hidden generation temps in this folder (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Report (and with --fix repair) interrupted generations, orphan temps and manifests,
    records without manifests or events, half-written key files and loose permissions.
    Exits 1 while problems remain."""
    from governance.flows import FlowContext
    from governance.flows.doctor import doctor

    # No start-up recovery here: doctor does the same recovery itself, so it can report it
    # (and, without --fix, change nothing).
    ctx = FlowContext(load_settings(), recover=False)
    report = doctor(ctx, fix=fix, scan=scan or ())
    if as_json:
        emit_json(report.to_dict())
    else:
        if not report.findings:
            console.print(
                f"[green]ok[/]: nothing to report in {escape(report.home)} "
                f"({', '.join(f'{k} {v}' for k, v in report.checked.items())})"
            )
        else:
            table = Table("kind", "subject", "detail", "action")
            for f in report.findings:
                table.add_row(escape(f.kind), escape(f.subject), escape(f.detail), escape(f.action))
            console.print(table)
            state = "[green]ok[/]" if report.ok else "[bold red]problems remain[/]"
            hint = "" if report.ok or fix else " (run with --fix to repair)"
            console.print(f"{state}: {len(report.findings)} finding(s) in {escape(report.home)}{hint}")
    if not report.ok:
        raise typer.Exit(1)
