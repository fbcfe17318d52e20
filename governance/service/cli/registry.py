"""``reelguard registry``: register protected works and match clips against them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table

from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(help="Protected-material registry: register works, match clips.", no_args_is_help=True)


def _registry():
    from governance.records.registry import ProtectedRegistry
    from governance.records.storage.db import get_engine

    settings = load_settings()
    return ProtectedRegistry(get_engine(settings.resolved_database_url), settings)


@app.command("add")
@handle_errors
def add_cmd(
    paths: list[Path] = typer.Argument(..., help="Video or image files, or folders (searched recursively)."),
    owner: str = typer.Option(..., "--owner", help="Rights holder."),
    title: str = typer.Option(..., "--title", help="Title of the work."),
    license: str = typer.Option(None, "--license", help="Licence terms or reference."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register the given media as ONE protected work (duplicates are reported, not re-added)."""
    registry = _registry()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json) as bar:
        task = bar.add_task("fingerprinting", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"fingerprinting {name}"[:60])

        result = registry.add_paths(paths, owner=owner, title=title, license=license, progress=progress)
    if as_json:
        emit_json(result)
        return
    if result.duplicate:
        console.print(f"already registered as work [bold]{result.work_id}[/] ({result.title}); nothing added")
    else:
        console.print(f"registered work [bold]{result.work_id}[/]: {result.title} ({result.owner}), "
                      f"{result.assets} asset(s), {result.frames} keyframes")
    for dup in result.duplicates:
        console.print(f"  duplicate: {dup.path} (already in work {dup.reason})")
    for skip in result.skipped:
        err_console.print(f"  [yellow]skipped:[/] {skip.path}: {skip.reason}")


@app.command("match")
@handle_errors
def match_cmd(
    clip: Path = typer.Argument(..., help="Video or image to check."),
    as_json: bool = typer.Option(False, "--json", help='Print {"matches": [...]} as JSON.'),
) -> None:
    """Find protected works in a clip: which work, which segment, how sure."""
    matches = _registry().match_path(clip)
    if as_json:
        emit_json({"matches": [m.to_dict() for m in matches]})
        return
    if not matches:
        console.print("no protected material found")
        return
    # One short block per match: readable at 80 columns, where an 8-column table is not.
    for m in matches:
        console.print(f"[bold]{escape(m.title)}[/bold] ({escape(m.owner)})  score {m.score:.2f}, "
                      f"{m.query_coverage:.0%} of the query, by {m.fingerprint}")
        console.print(f"  query {m.query_start:.1f}-{m.query_end:.1f} s = reference {m.ref_start:.1f}-"
                      f"{m.ref_end:.1f} s   work {m.work_id}")


@app.command("list")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print the works as JSON.")) -> None:
    """List registered works."""
    works = _registry().list_works()
    if as_json:
        emit_json({"works": works})
        return
    table = Table("title", "owner", "licence", "assets", "duration s", "registered")
    table.add_column("work", overflow="fold")
    for w in works:
        table.add_row(w.title, w.owner, w.license or "", str(w.assets), f"{w.duration_s:.1f}",
                      w.created_at.strftime("%Y-%m-%d %H:%M"), w.id)
    console.print(table)


@app.command("remove")
@handle_errors
def remove_cmd(
    work_id: str = typer.Argument(..., help="Work id (see `registry list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the removed work as JSON."),
) -> None:
    """Remove a work, its assets and fingerprints (audited)."""
    work = _registry().remove(work_id)
    if as_json:
        emit_json(work)
    else:
        console.print(f"removed work {work.id}: {work.title} ({work.owner}), {work.assets} asset(s)")


@app.command("export")
@handle_errors
def export_cmd(output: Path = typer.Argument(..., help="JSON file to write.")) -> None:
    """Export works and fingerprints (no media) to a JSON file."""
    n = _registry().export(output)
    console.print(f"exported {n} work(s) to {output}")


@app.command("import")
@handle_errors
def import_cmd(
    source: Path = typer.Argument(..., help="A file written by `registry export`."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Import an export; content already registered is skipped."""
    result = _registry().import_(source)
    if as_json:
        emit_json(result)
    else:
        console.print(f"imported {result.works} work(s), {result.assets} asset(s); "
                      f"{result.skipped_assets} already registered")
