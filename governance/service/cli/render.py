"""Rich output shared by the flow commands (generate, verify, demo): the progress bar and the
verdict block printed for each verified file."""

from __future__ import annotations

from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from governance.service.cli.common import console, err_console

__all__ = ["VERDICT_STYLE", "print_report", "progress_bar"]

VERDICT_STYLE = {
    "authentic": "bold green",
    "recovered": "bold cyan",
    "tampered": "bold red",
    "untrusted": "bold yellow",
    "unverifiable": "bold magenta",
    "unknown": "bold white",
}


def progress_bar() -> Progress:
    """A transient bar on stderr (stdout stays clean for --json)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def print_report(report: dict) -> None:
    """One verdict block from a ``VerifyReport.to_dict()`` (the form batch results come in)."""
    verdict = report["verdict"]
    style = VERDICT_STYLE.get(verdict, "bold")
    c2pa = report["c2pa"]
    disclosure = report.get("disclosure") or {}
    lines = [f"[{style}]{verdict.upper()}[/]  {escape(report['path'])}"]
    if disclosure.get("label"):
        lines.append(f"  [bold]{escape(disclosure['label'])}[/]")
    lines += [f"  • {escape(reason)}" for reason in report["reasons"]]
    if report["flags"]:
        lines.append(f"  flags: {', '.join(report['flags'])}")
    if c2pa["state"] != "absent":
        who = ", ".join(x for x in (c2pa.get("issuer"), c2pa.get("signer")) if x) or "-"
        stamp = (
            "time-stamped" + (" (trusted TSA)" if c2pa.get("timestamp_trusted") else "")
            if c2pa.get("time_stamped")
            else "no time-stamp"
        )
        lines.append(f"  c2pa={c2pa['state']}  signer: {escape(who)}  signed {c2pa.get('signed_at') or '-'} ({stamp})")
        if c2pa.get("claim_generator"):
            lines.append(f"  claim generator: {escape(c2pa['claim_generator'])}")
        actions = [
            a["action"] + (f" ({a['digital_source_type'].rsplit('/', 1)[-1]})" if a.get("digital_source_type") else "")
            for a in c2pa.get("actions") or ()
        ]
        if actions:
            lines.append(f"  actions: {escape(', '.join(actions))}")
        for ing in c2pa.get("ingredients") or ():
            codes = f" {', '.join(ing['codes'])}" if ing.get("codes") else ""
            role = f" ({ing['relationship']})" if ing.get("relationship") else ""
            digest = f" sha256 {ing['sha256'][:16]}…" if ing.get("sha256") else ""
            state = escape("[" + str(ing["state"]) + "]")  # rich would read "[unsigned]" as markup
            lines.append(f"  ingredient: {escape(str(ing.get('title')))}{escape(role)} {state}{digest}{escape(codes)}")
        for ident in c2pa.get("cawg_identities") or ():
            lines.append(f"  identity: {escape(ident)}")
        if c2pa.get("codes"):
            lines.append(f"  codes: {', '.join(c2pa['codes'])}")
    wm = report.get("watermark")
    record = report["registry"]["record"]
    if wm is not None:
        lines.append(
            f"  watermark={'yes' if wm['detected'] else 'no'} (p={wm['p_value']:.2e}, frames={wm['frames_used']})"
            + (f"  record={record['content_id']}" if record else "")
        )
    console.print("\n".join(lines), markup=True, highlight=False)
