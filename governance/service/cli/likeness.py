"""``reelguard likeness``: enrol faces, list and remove enrolled people, scan clips for them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from governance.service.cli.common import console, emit_json, handle_errors, load_settings

__all__ = ["app", "HELP"]

HELP = "Likeness registry: enrol faces, list or remove people, scan clips for them."
app = typer.Typer(help=HELP, no_args_is_help=True)


def _ctx():
    from governance.flows import FlowContext

    return FlowContext(load_settings())


@app.command("enroll")
@handle_errors
def enroll_cmd(
    person: str = typer.Argument(..., help="Person id, the one consent licences use (e.g. jane-doe)."),
    photos: list[Path] = typer.Argument(..., help="Photos of the person, one face each (JPEG, PNG, WebP...)."),
    name: str = typer.Option(None, "--name", help="The person's display name."),
    as_json: bool = typer.Option(False, "--json", help="Print the enrolment as JSON."),
) -> None:
    """Enrol a person from photos: face descriptors are stored (encrypted with the key passphrase
    when one is set), never the photos. One face per photo; nothing is enrolled if a photo fails."""
    from governance.flows.likeness import enroll_person

    ctx = _ctx()
    person_row = enroll_person(ctx, person, photos, name=name, actor=ctx.settings.operator())
    if as_json:
        emit_json(person_row)
        return
    sealed = "encrypted" if person_row.encrypted else "not encrypted (no key passphrase set)"
    console.print(f"enrolled [bold]{person_row.person_id}[/] from {person_row.photos} photo(s); descriptors {sealed}")


@app.command("list")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Enrolled people (counts only: descriptors are never shown)."""
    from governance.flows.likeness import list_people

    people = list_people(_ctx())
    if as_json:
        emit_json({"people": people})
        return
    if not people:
        console.print("nobody enrolled")
        return
    table = Table("person", "name", "photos", "enrolled (UTC)", "encrypted")
    for p in people:
        table.add_row(
            p.person_id,
            p.name or "-",
            str(p.photos),
            p.created_at.strftime("%Y-%m-%d %H:%M"),
            "yes" if p.encrypted else "no",
        )
    console.print(table)


@app.command("remove")
@handle_errors
def remove_cmd(
    person: str = typer.Argument(..., help="Person id to erase."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Erase a person's face descriptors (the right to erasure); the audit log keeps that it happened."""
    from governance.flows.likeness import remove_person

    ctx = _ctx()
    removed = remove_person(ctx, person, actor=ctx.settings.operator())
    if as_json:
        emit_json(removed)
        return
    console.print(f"removed [bold]{removed.person_id}[/]: {removed.descriptors_erased} descriptor(s) erased")


@app.command("scan")
@handle_errors
def scan_cmd(
    clip: Path = typer.Argument(..., help="A video or an image."),
    as_json: bool = typer.Option(False, "--json", help="Print every face and its nearest enrolled people as JSON."),
) -> None:
    """Every face found in the sampled frames, its nearest enrolled people, and who is present."""
    from governance.flows.likeness import scan_clip
    from governance.provenance.signing.sign import sha256_file

    ctx = _ctx()
    digest = sha256_file(clip) if clip.is_file() else None
    scan = scan_clip(ctx, clip, stage="scan", actor=ctx.settings.operator(), media_sha256=digest)
    if as_json:
        emit_json({"path": str(clip), "file_sha256": digest, **scan.to_dict()})
        return
    console.print(
        f"{scan.frames_sampled} of {scan.frames_seen} frame(s) sampled, {len(scan.faces)} face(s) found, "
        f"{scan.enrolled} people enrolled (threshold {scan.threshold}, {scan.required_frames} frame(s) to agree)"
    )
    if scan.faces:
        table = Table("frame", "time (s)", "box", "nearest enrolled (distance)")
        for face in scan.faces:
            near = ", ".join(f"{p} ({d:.3f})" for p, _, d in face.nearest) or "-"
            b = face.box
            table.add_row(str(face.frame), f"{face.time_s:.2f}", f"{b.left},{b.top} {b.width}x{b.height}", near)
        console.print(table)
    if scan.matches:
        for m in scan.matches:
            console.print(
                f"[bold red]match:[/] {m.person_id} ({m.name or '-'}) score {m.score:.2f} in "
                f"{len(m.frames)} frame(s), first seen at {m.first_seen_s:.2f} s"
            )
    else:
        console.print("[green]no enrolled person present[/]")
