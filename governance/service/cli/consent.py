"""``reelguard consent``: likeness licences (grant, revoke, list) and protected names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from governance.service.cli.common import console, emit_json, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(help="Likeness consent: grant, revoke and list licences.", no_args_is_help=True)


def _registry():
    from governance.records.consent import ConsentRegistry
    from governance.records.storage.db import get_engine

    return ConsentRegistry(get_engine(load_settings().resolved_database_url))


def _evidence_digest(path: Path | None) -> str | None:
    """SHA-256 of the evidence file, read in chunks (a scanned release can be large)."""
    import hashlib

    from governance.records.consent import ConsentError

    if path is None:
        return None
    if not path.is_file():
        raise ConsentError(f"--evidence {path}: no such file")
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ConsentError(f"--evidence {path}: cannot read ({exc.strerror})") from exc
    return digest.hexdigest()


def _parse_expiry(value: str | None) -> datetime | None:
    from governance.records.consent import ConsentError

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConsentError(f"--expires {value!r} is not an ISO date or date-time (e.g. 2027-01-31)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@app.command("grant")
@handle_errors
def grant_cmd(
    person: str = typer.Argument(..., help="Person id as the packs name it (e.g. taylor-swift)."),
    granted_by: str = typer.Option(..., "--by", help="Who grants it: the person or their agent."),
    scope: str = typer.Option("video", "--scope", help="'video', 'video:SUBSCOPE' or '*'."),
    expires: str = typer.Option(None, "--expires", help="Expiry (ISO date or date-time, UTC if no zone)."),
    name: str = typer.Option(None, "--name", help="The person's display name."),
    note: str = typer.Option(None, "--note", help="Free text (contract reference...)."),
    evidence: Path = typer.Option(
        None,
        "--evidence",
        help="The signed release: its SHA-256 is recorded (required when consent_evidence_required is set).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the licence as JSON."),
) -> None:
    """Record a licence for a person's likeness: prompts naming them, and their enrolled face in
    references and outputs, then pass under it."""
    lic = _registry().grant(
        person_id=person,
        granted_by=granted_by,
        scope=scope,
        expires_at=_parse_expiry(expires),
        person_name=name,
        note=note,
        evidence_sha256=_evidence_digest(evidence),
    )
    if as_json:
        emit_json(lic)
        return
    until = lic.expires_at.isoformat() if lic.expires_at else "no expiry"
    console.print(f"granted licence [bold]{lic.id}[/] for {lic.person_id} (scope {lic.scope}, {until})")
    if lic.evidence_sha256:
        console.print(f"  evidence sha256 {lic.evidence_sha256}")


@app.command("revoke")
@handle_errors
def revoke_cmd(
    license_id: str = typer.Argument(..., help="Licence id (lic_...)."),
    revoked_by: str = typer.Option(..., "--by", help="Who revokes it."),
    reason: str = typer.Option(None, "--reason"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Revoke a licence from now on."""
    lic = _registry().revoke(license_id=license_id, revoked_by=revoked_by, reason=reason)
    if as_json:
        emit_json(lic)
        return
    console.print(f"revoked licence [bold]{lic.id}[/] for {lic.person_id}")


@app.command("list")
@handle_errors
def list_cmd(
    person: str = typer.Option(None, "--person", help="Only this person id."),
    all_: bool = typer.Option(False, "--all", help="Include revoked and expired licences."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Licences, newest first (active only unless --all)."""
    rows = _registry().list(person_id=person, include_inactive=all_)
    if as_json:
        emit_json({"licenses": list(rows)})
        return
    if not rows:
        console.print("no licences")
        return
    table = Table("id", "person", "scope", "granted by", "expires", "status")
    for lic in rows:
        status = "active" if lic.active else ("revoked" if lic.revoked_at else "expired")
        table.add_row(
            lic.id,
            lic.person_id,
            lic.scope,
            lic.granted_by,
            lic.expires_at.isoformat() if lic.expires_at else "-",
            status,
        )
    console.print(table)


@app.command("protect")
@handle_errors
def protect_cmd(
    subject: str = typer.Argument(..., help="Id for the person or work (e.g. jane-doe)."),
    names: list[str] = typer.Option(..., "--name", help="A name to protect (repeat)."),
    owner: str = typer.Option(..., "--owner", help="The person, agent or rights holder."),
    kind: str = typer.Option("person", "--kind", help="person (needs consent) or work (refused)."),
    descriptions: list[str] = typer.Option([], "--description", help="A name-free description (repeat)."),
    work_id: str = typer.Option(None, "--work", help="Protected-material registry work id."),
) -> None:
    """Register names the policy must protect (joins the packs at the next engine load)."""
    entry = _registry().register_names(
        subject_id=subject, names=names, owner=owner, kind=kind, descriptions=descriptions, work_id=work_id
    )
    console.print(f"protected {entry.kind} [bold]{entry.subject_id}[/]: {', '.join(entry.names)}")
