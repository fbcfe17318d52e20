"""``reelguard apikeys``: create, list and revoke API keys for ``reelguard serve``."""

from __future__ import annotations

import typer
from rich.table import Table

from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(help="API keys for the HTTP API (stored hashed; each has one role).", no_args_is_help=True)


def _engine():
    from governance.records.storage.db import get_engine

    return get_engine(load_settings().resolved_database_url)


@app.command("create")
@handle_errors
def create_cmd(
    role: str = typer.Option(..., "--role", help="generator | verifier | rights-holder | auditor | admin"),
    name: str = typer.Option(
        "", "--name", help="Who holds the key: a person or team, named as the actor in the audit log."
    ),
    owner: str | None = typer.Option(None, "--owner", help="rights-holder keys: the owner name of their works."),
    as_json: bool = typer.Option(False, "--json", help="Print the key as JSON."),
) -> None:
    """Create a key; its token is printed once and never stored."""
    from governance.records.apikeys import ApiKeyCreate, ApiKeyPublic, Role
    from governance.records.storage.db import session_scope
    from governance.service.api.auth import create_api_key

    try:
        role_value = Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}; choose from {', '.join(r.value for r in Role)}") from None
    try:
        with session_scope(_engine()) as session:
            key, token = create_api_key(
                session=session, key_in=ApiKeyCreate(name=name or role_value.value, role=role_value, owner=owner)
            )
            public = ApiKeyPublic.model_validate(key)
    except ValueError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        emit_json({**public.model_dump(mode="json"), "token": token})
        return
    console.print(
        f"created key [bold]{public.key_id}[/] role={public.role.value}" + (f" owner={owner}" if owner else "")
    )
    console.print("token (shown once; send it as X-API-Key):")
    console.print(token, soft_wrap=True)


@app.command("list")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List keys (never their secrets)."""
    from governance.records.apikeys import ApiKeyPublic
    from governance.records.storage.db import session_scope
    from governance.service.api.auth import list_api_keys

    with session_scope(_engine()) as session:
        keys = [ApiKeyPublic.model_validate(k) for k in list_api_keys(session=session)]
    if as_json:
        emit_json([k.model_dump(mode="json") for k in keys])
        return
    table = Table("key id", "role", "name", "owner", "created", "revoked")
    for k in keys:
        table.add_row(
            k.key_id,
            k.role.value,
            k.name,
            k.owner or "-",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-",
        )
    console.print(table)


@app.command("revoke")
@handle_errors
def revoke_cmd(key_id: str = typer.Argument(..., help="The key id (the part after rg_).")) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from governance.records.storage.db import session_scope
    from governance.service.api.auth import revoke_api_key

    with session_scope(_engine()) as session:
        key = revoke_api_key(session=session, key_id=key_id)
    if key is None:
        err_console.print(f"[bold red]error:[/] no API key {key_id}")
        raise typer.Exit(2)
    console.print(f"revoked {key_id}")
