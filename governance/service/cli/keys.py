"""``reelguard keys``: create, rotate, import and show the C2PA signing identity; export trust.

Passphrases come from ``REELGUARD_KEY_PASSPHRASE`` or, with ``--prompt``, from a hidden
prompt; they are never echoed or logged.
"""

from __future__ import annotations

from pathlib import Path

import typer

from governance.core.errors import KeyMaterialError
from governance.core.settings import Settings
from governance.provenance.keys.rotation import KeyRotation
from governance.service.cli.common import console, emit_json, err_console, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(help="C2PA signing keys and certificates.", no_args_is_help=True)

_ALG_HELP = "Signing algorithm: es256 (default), es384, ed25519 or ps256."


def _settings(prompt: bool, *, confirm: bool = False) -> Settings:
    """Settings with the prompted passphrase. A passphrase that will encrypt a key for the first
    time (``confirm``, or no encrypted key exists yet to check it against) is asked twice, and a
    mismatch is refused: a typo would otherwise lock the new key away for good."""
    settings = load_settings()
    if prompt:
        confirm = confirm or not _has_encrypted_key(settings)
        secret = typer.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm)
        settings = settings.model_copy(update={"key_passphrase": secret or None})
    return settings


def _has_encrypted_key(settings: Settings) -> bool:
    """Whether a key the passphrase will be checked against already exists (encrypted)."""
    from governance.provenance.keys.identity import c2pa_dir

    for name in ("signer.key.pem", "intermediate.key.pem", "root.key.pem"):
        try:
            if b"ENCRYPTED" in (c2pa_dir(settings) / name).read_bytes()[:64]:
                return True
        except OSError:
            continue
    return False


def _audit_rotation(settings: Settings, rotation: KeyRotation) -> int | None:
    """Append a KeyRotationEvent; the keys have already changed, so failures only warn."""
    try:
        from governance.flows.context import FlowContext
        from governance.records.audit.events import KeyRotationEvent
        from governance.records.storage.db import session_scope

        ctx = FlowContext(settings)
        with session_scope(ctx.engine) as session:
            entry = ctx.audit.append(
                session,
                KeyRotationEvent(
                    old_fingerprint=rotation.old_fingerprint,
                    new_fingerprint=rotation.new_fingerprint,
                    algorithm=rotation.algorithm,
                ),
                actor="cli",
            )
            return entry.leaf_index
    except Exception as exc:
        err_console.print(f"[yellow]warning:[/] key change done but not audited: {type(exc).__name__}: {exc}")
        return None


@app.command("init")
@handle_errors
def init_cmd(
    algorithm: str = typer.Option("es256", "--algorithm", "-a", help=_ALG_HELP),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing identity (new CA: old outputs stop verifying as trusted)."
    ),
    prompt: bool = typer.Option(False, "--prompt", help="Ask for the passphrase that encrypts the keys."),
    as_json: bool = typer.Option(False, "--json", help="Print the identity as JSON."),
) -> None:
    """Create a dev CA, intermediate and signer under $REELGUARD_HOME/keys/c2pa."""
    from governance.provenance.keys import create_identity, identity_info

    settings = _settings(prompt, confirm=True)
    identity = create_identity(settings, algorithm=algorithm.lower(), force=force)
    _audit_rotation(settings, KeyRotation(None, identity.fingerprint, identity.algorithm))
    _show(identity_info(settings), as_json)


@app.command("rotate")
@handle_errors
def rotate_cmd(
    algorithm: str | None = typer.Option(None, "--algorithm", "-a", help=_ALG_HELP + " Default: unchanged."),
    days: int = typer.Option(365, "--days", min=1, max=3650, help="Validity of the new signer certificate."),
    prompt: bool = typer.Option(False, "--prompt", help="Ask for the key passphrase."),
    as_json: bool = typer.Option(False, "--json", help="Print the rotation as JSON."),
) -> None:
    """Issue a new signer key and certificate; the old chain is kept under retired/."""
    from governance.provenance.keys import rotate_signer

    settings = _settings(prompt)
    rotation = rotate_signer(settings, algorithm=algorithm.lower() if algorithm else None, days=days)
    leaf = _audit_rotation(settings, rotation)
    result = {**rotation.__dict__, "audit_leaf_index": leaf}
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"rotated signer: {rotation.old_fingerprint} -> [bold]{rotation.new_fingerprint}[/] ({rotation.algorithm})"
        )


@app.command("export-trust")
@handle_errors
def export_trust_cmd(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the PEM bundle here instead of stdout."),
) -> None:
    """Print the trust anchors (PEM) verifiers should use: project CA, imported roots, TSA."""
    from governance.provenance.keys import trust_bundle_pem

    bundle = trust_bundle_pem(load_settings())
    if not bundle:
        raise KeyMaterialError("no trust anchors yet; run `reelguard keys init`")
    if output is None:
        typer.echo(bundle, nl=False)
    else:
        output.write_text(bundle, encoding="ascii")
        err_console.print(f"wrote {output}")


@app.command("import")
@handle_errors
def import_cmd(
    chain: Path = typer.Option(
        ..., "--chain", exists=True, dir_okay=False, help="PEM chain: signer first, then intermediates."
    ),
    key: Path = typer.Option(..., "--key", exists=True, dir_okay=False, help="PEM private key of the signer."),
    anchors: Path | None = typer.Option(
        None, "--anchors", exists=True, dir_okay=False, help="PEM root(s) verifiers trust."
    ),
    key_prompt: bool = typer.Option(False, "--key-prompt", help="Ask for the passphrase of the imported key file."),
    prompt: bool = typer.Option(False, "--prompt", help="Ask for the passphrase that encrypts keys at rest here."),
    as_json: bool = typer.Option(False, "--json", help="Print the identity as JSON."),
) -> None:
    """Adopt an organisation's own signer key and certificate chain."""
    from governance.provenance.keys import identity_info, import_identity

    source_secret = typer.prompt("Imported key passphrase", hide_input=True) if key_prompt else None
    settings = _settings(prompt, confirm=True)
    rotation = import_identity(
        settings,
        chain_pem=chain.read_bytes(),
        key_pem=key.read_bytes(),
        key_passphrase=source_secret,
        anchors_pem=anchors.read_bytes() if anchors else None,
    )
    _audit_rotation(settings, rotation)
    _show(identity_info(settings), as_json)


@app.command("show")
@handle_errors
def show_cmd(
    prompt: bool = typer.Option(False, "--prompt", help="Ask for the key passphrase."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show the signing identity: algorithm, subject, fingerprint, validity, chain, anchors."""
    from governance.provenance.keys import identity_info

    _show(identity_info(_settings(prompt)), as_json)


def _show(info: object, as_json: bool) -> None:
    if as_json:
        emit_json(info)
        return
    data = info.to_dict()  # type: ignore[attr-defined]
    for name in ("signer", "algorithm", "fingerprint", "not_before", "not_after", "encrypted", "imported", "path"):
        console.print(f"[bold]{name:>12}[/]  {data[name]}")
    for cert in data["chain"]:
        console.print(f"[bold]{'chain':>12}[/]  {cert}")
    for anchor in data["anchors"]:
        console.print(f"[bold]{'anchor':>12}[/]  {anchor}")
