"""``reelguard trust``: what the verifier trusts, kept apart from who ReelGuard signs as."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import typer
from rich.markup import escape
from rich.table import Table

from governance.core.errors import TrustError
from governance.service.cli.common import console, emit_json, handle_errors, load_settings

__all__ = ["app"]

app = typer.Typer(
    help="Verification trust: C2PA and TSA trust lists, allowed signers, accepted EKUs.", no_args_is_help=True
)


def _store():
    from governance.provenance.trust import TrustStore

    return TrustStore(load_settings())


@app.command("list")
@handle_errors
def list_cmd(as_json: bool = typer.Option(False, "--json", help="JSON instead of a table.")) -> None:
    """The trust sources loaded: bundled lists (or their updated copies), additions, the own CA."""
    store = _store()
    sources = store.sources()
    if as_json:
        emit_json({"sources": [s.summary() for s in sources], "ekus": list(store.ekus())})
        return
    table = Table("name", "kind", "certificates", "dated", "origin")
    for source in sources:
        table.add_row(
            source.name, source.kind, str(len(source.certificates)), source.dated or "-", escape(source.origin)
        )
    console.print(table)
    console.print(f"accepted EKUs: {', '.join(store.ekus())}")


@app.command("show")
@handle_errors
def show_cmd(
    source: str | None = typer.Argument(None, help="Only this source (see `trust list`)."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """Every trusted certificate: subject, organisation, expiry, SHA-256 fingerprint, source."""
    certificates = [c for c in _store().certificates() if source is None or c.source == source]
    if source is not None and not certificates:
        raise TrustError(f"no certificates from a source named {source!r}; see `reelguard trust list`")
    if as_json:
        emit_json([c.to_dict() for c in certificates])
        return
    table = Table("source", "organisation", "subject", "expires", "sha256")
    for cert in certificates:
        table.add_row(
            cert.source, escape(cert.organisation or "-"), escape(cert.subject), cert.not_after, cert.fingerprint[:16]
        )
    console.print(table)


@app.command("add")
@handle_errors
def add_cmd(
    pem: Path | None = typer.Argument(None, exists=True, dir_okay=False, help="PEM file of certificates to trust."),
    kind: str = typer.Option("anchor", "--kind", help="anchor (a CA), allowed (one signer), or tsa."),
    eku: list[str] = typer.Option([], "--eku", help="Also accept this signer EKU (OID); repeatable."),
) -> None:
    """Add your own anchors, allowed signing certificates, TSAs or accepted EKUs."""
    if pem is None and not eku:
        raise typer.BadParameter("give a PEM file, --eku OID, or both")
    store = _store()
    if pem is not None:
        added = store.add(pem.read_bytes(), kind=kind, source=str(pem))
        console.print(f"added {added} new {kind} certificate(s) from {escape(str(pem))}")
    for oid in eku:
        console.print(f"EKU {oid}: {'added' if store.add_eku(oid) else 'already accepted'}")


@app.command("remove")
@handle_errors
def remove_cmd(
    fingerprint: str = typer.Argument(..., help="SHA-256 fingerprint (8+ hex) of an added certificate."),
) -> None:
    """Remove a certificate you added (bundled lists change only through `trust update`)."""
    removed = _store().remove(fingerprint)
    if not removed:
        raise TrustError(f"no added certificate has a fingerprint starting {fingerprint!r}")
    console.print(f"removed {removed} certificate(s)")


@app.command("update")
@handle_errors
def update_cmd(
    name: str = typer.Argument(..., help="c2pa, c2pa-tsa, cai-anchors or cai-allowed."),
    source: str = typer.Argument(..., help="A PEM or C2PA JSON trust list: a file, or an https:// URL."),
    revert: bool = typer.Option(False, "--revert", help="Drop the updated copy and use the bundled list again."),
) -> None:
    """Replace a bundled list with a newer copy (validated before it replaces anything)."""
    store = _store()
    if revert:
        console.print("reverted to the bundled copy" if store.revert(name) else "no updated copy to revert")
        return
    data = _fetch(source) if "://" in source else _read(Path(source))
    updated = store.update(name, data, origin=source)
    console.print(f"{name}: {len(updated.certificates)} certificates, {escape(updated.origin)}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TrustError(f"{path}: cannot read ({exc.strerror})") from None


def _fetch(url: str) -> bytes:
    """Download a list over https, under the same rules as remote manifests (no private
    addresses, no redirects, a size and time limit)."""
    from governance.provenance.remote import RemoteManifestError, RemotePolicy, fetch_remote_manifest
    from governance.provenance.trust.lists import MAX_LIST_BYTES

    host = urlsplit(url).hostname or ""
    policy = RemotePolicy(enabled=True, allowed_hosts=(host,), max_bytes=MAX_LIST_BYTES, timeout_s=30.0)
    try:
        return fetch_remote_manifest(url, policy)
    except RemoteManifestError as exc:
        raise TrustError(f"{url}: {exc}") from None
