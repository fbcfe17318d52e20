"""``reelguard registry``: register protected works and match clips against them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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
    title: str = typer.Option(
        None, "--title", help="Title of the work (--group), or a prefix for each file's work (default: the file name)."
    ),
    license: str = typer.Option(None, "--license", help="Licence terms or reference."),
    group: bool = typer.Option(False, "--group", help="Register all the files as ONE work (needs --title)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register protected works: each file its own work, or with --group all of them as one
    (content already registered is reported, not re-added)."""
    from governance.flows.register import register_paths

    registry = _registry()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("registering", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"registering {name}"[:60])

        outcome = register_paths(
            registry, paths, owner=owner, title=title, license=license, group=group, progress=progress
        )
    if as_json:
        emit_json(outcome)
    else:
        for work in outcome.works:
            if work.duplicate:
                console.print(
                    f"already registered as work [bold]{work.work_id}[/] ({escape(work.title)}); nothing added"
                )
            else:
                console.print(
                    f"registered work [bold]{work.work_id}[/]: {escape(work.title)} ({escape(work.owner)}), "
                    f"{work.assets} asset(s), {work.frames} keyframes"
                )
            for dup in work.duplicates:
                console.print(f"  duplicate: {escape(dup.path)} (already in work {dup.reason})")
            for skip in work.skipped:
                err_console.print(f"  [yellow]skipped:[/] {escape(skip.path)}: {escape(skip.reason)}")
        for skip in outcome.missing:
            err_console.print(f"  [yellow]skipped:[/] {escape(skip.path)}: {escape(skip.reason)}")
        for fail in outcome.failed:
            err_console.print(f"  [red]not registered:[/] {escape(fail.path)}: {escape(fail.error)}")
        if len(outcome.works) > 1 or outcome.failed:
            console.print(
                f"{outcome.added} work(s) added, {len(outcome.works) - outcome.added} already registered, "
                f"{len(outcome.failed)} failed"
            )
    if outcome.failed and not outcome.works:
        raise typer.Exit(outcome.failed[0].exit_code)


@app.command("match")
@handle_errors
def match_cmd(
    clip: Path = typer.Argument(..., help="Video or image to check."),
    as_json: bool = typer.Option(False, "--json", help='Print {"matches": [...]} as JSON.'),
) -> None:
    """Find protected works in a clip: which work and file, which seconds, how sure."""
    from governance.flows.register import describe_matches

    registry = _registry()
    matches = describe_matches(registry, registry.match_path(clip))
    if as_json:
        emit_json({"matches": [m.to_dict() for m in matches]})
        return
    if not matches:
        console.print("no protected material found")
        return
    # One short block per match: readable at 80 columns, where an 8-column table is not.
    for m in matches:
        console.print(
            f"[bold]{escape(m.title)}[/bold] ({escape(m.owner)})  score {m.score:.2f}, "
            f"{m.query_coverage:.0%} of the query, by {m.fingerprint}"
        )
        source = f"{escape(m.file)} " if m.file else "reference "
        console.print(
            f"  query {m.query_start:.1f}-{m.query_end:.1f} s = {source}{m.ref_start:.1f}-"
            f"{m.ref_end:.1f} s   work {m.work_id}"
        )


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
        table.add_row(
            w.title,
            w.owner,
            w.license or "",
            str(w.assets),
            f"{w.duration_s:.1f}",
            w.created_at.strftime("%Y-%m-%d %H:%M"),
            w.id,
        )
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
        console.print(
            f"imported {result.works} work(s), {result.assets} asset(s); {result.skipped_assets} already registered"
        )
