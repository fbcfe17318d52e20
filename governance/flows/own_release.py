"""Is a clip signed by this install one of its recorded releases? The install's own signers
(current and retired) and its time-stamp authority, read from its certificates alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from detectors.errors import DetectorError
from governance.core.errors import ReelGuardError
from governance.flows.context import FlowContext

if TYPE_CHECKING:  # pragma: no cover
    from detectors.provenance import ProvenanceReport

__all__ = ["unrecorded_own_release"]


def _own_signers(ctx: FlowContext) -> set[tuple[str, str]]:
    """(common name, serial number) of every signer certificate this install has used: the
    current one and those retired by rotation. Reads certificates only (no passphrase)."""
    from governance.provenance.keys.identity import c2pa_dir

    folder = c2pa_dir(ctx.settings)
    paths = [folder / "signer.chain.pem", *sorted((folder / "retired").glob("*.chain.pem"))]
    return _cert_names(paths)


def _own_tsa(ctx: FlowContext) -> set[tuple[str, str]]:
    """The install's time-stamp authority certificate: its key sits in the signing process, and
    c2pa-rs accepts a timeStamping-only certificate as a claim signer, so a claim it signed
    must never pass as one of our releases."""
    from governance.provenance.keys.identity import c2pa_dir

    return _cert_names([c2pa_dir(ctx.settings) / "tsa.cert.pem"])


def _cert_names(paths: list[Any]) -> set[tuple[str, str]]:
    from governance.provenance.keys import certs

    out: set[tuple[str, str]] = set()
    for path in paths:
        try:
            leaf = certs.load_cert_chain(path.read_bytes(), source=str(path))[0]
        except (OSError, ValueError, DetectorError, ReelGuardError):
            continue
        out.add((certs.common_name(leaf), str(leaf.serial_number)))
    return out


def unrecorded_own_release(ctx: FlowContext, provenance: ProvenanceReport) -> bool:
    """True for credentials signed by this install's own signer, carrying the
    ``org.reelguard.generation`` assertion, with no generation record for its content id and
    manifest label here: a clip that escaped before its record committed (a killed generation's
    hidden temp, say). Other installs' ReelGuard clips have no record here by design, so only
    this install's own signer counts."""
    if provenance.state == "absent":
        return False
    info = (provenance.manifest or {}).get("signature_info") or {}
    signer = (info.get("common_name") or provenance.signer, str(info.get("cert_serial_number") or ""))
    if signer in _own_tsa(ctx):
        return True  # our TSA's key signs time-stamps, never releases
    if not provenance.generation or not provenance.content_id or signer not in _own_signers(ctx):
        return False
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import get_record

    with session_scope(ctx.engine) as session:
        row = get_record(session=session, content_id=provenance.content_id)
        return row is None or (
            provenance.manifest_label is not None and row.manifest_label != provenance.manifest_label
        )
