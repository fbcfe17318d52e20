"""Read the C2PA manifest of any file a platform receives and interpret it.

c2pa-rs (through c2pa-python) parses and validates; ``interpret`` turns its JSON into one typed
``ProvenanceReport``. Sources, in order: an explicit manifest file, the manifest embedded in
the asset, a ``<stem>.c2pa`` sidecar beside it, and a remote manifest the asset points to
(fetched only through the ``remote`` callable the caller passes: this module never opens a
connection). Credentials are read whatever the file's size: nothing here decodes pixels.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa

from detectors.errors import MediaError, ProvenanceError
from detectors.memory import HugePageReads
from detectors.provenance.disclosure import Disclosure
from detectors.provenance.formats import MediaFormat, sniff_format
from detectors.provenance.guard import precheck  # hostile-input pre-check, see _report
from detectors.provenance.interpret import (
    AI_SOURCE_TYPES,
    AIGC_LABEL,
    GENERATION_LABEL,
    SB942_LABEL,
    TRAINING_MINING_LABEL,
    ProvenanceReport,
    interpret,
)
from detectors.provenance.trust import TrustConfig

__all__ = [
    "read_provenance",
    "read_manifest_store",
    "MAX_SIDECAR_BYTES",
    "MAX_MANIFEST_BOX_BYTES",
    "AI_SOURCE_TYPES",
    "GENERATION_LABEL",
    "AIGC_LABEL",
    "SB942_LABEL",
    "TRAINING_MINING_LABEL",
]

MAX_SIDECAR_BYTES = 16 * 1024 * 1024
MAX_MANIFEST_BOX_BYTES = 64 * 1024 * 1024  # a ReelGuard manifest is ~15 kB; thumbnails stay far below this
_REMOTE = re.compile(r"remote manifests? from url (\S+)", re.IGNORECASE)
RemoteFetch = Callable[[str], bytes]


_CONTEXTS = threading.local()  # one c2pa Context per thread and trust config: parsing ~150 anchors costs ~3 ms


def _cached_context(trust: TrustConfig) -> c2pa.Context:
    cache: dict[TrustConfig, c2pa.Context] = getattr(_CONTEXTS, "by_trust", None) or {}
    _CONTEXTS.by_trust = cache
    context = cache.get(trust)
    if context is None:
        if len(cache) >= 4:  # a process sees one or two configs; drop the oldest beyond that
            cache.pop(next(iter(cache))).close()
        context = cache[trust] = _context(trust)
    return context


def _context(trust: TrustConfig) -> c2pa.Context:
    # Remote manifests and OCSP stay off inside c2pa-rs: it would connect wherever a file says.
    config: dict[str, Any] = {
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "verify_timestamp_trust": True,
            "ocsp_fetch": False,
            "remote_manifest_fetch": False,
        },
        # CAWG identity assertions name did:web documents: c2pa-rs would look
        # their hosts up (measured: a DNS query) unless no host is allowed
        "core": {"allowed_network_hosts": []},
    }
    if not trust.empty:
        config["trust"] = trust.c2pa_settings()
    try:
        return c2pa.Context.from_dict(config)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"c2pa rejected the trust settings (malformed certificates?): {exc}") from None


def _trust(trust: TrustConfig | None, trust_anchors_pem: str | None) -> TrustConfig:
    if trust is not None:
        return trust
    return TrustConfig(anchors_pem=trust_anchors_pem or "")


def read_provenance(
    path: str | os.PathLike[str],
    *,
    trust: TrustConfig | None = None,
    trust_anchors_pem: str | None = None,
    sidecar: str | os.PathLike[str] | bytes | None = None,
    remote: RemoteFetch | None = None,
) -> ProvenanceReport:
    """Read and interpret the credentials of ``path``.

    ``sidecar`` names a manifest store to use instead of anything embedded (``--manifest``);
    without it a ``<stem>.c2pa`` beside the file is used when nothing is embedded. ``remote``
    fetches a remote manifest's bytes (it enforces the operator's policy); without it a file
    whose manifest is remote reads ``invalid`` with ``manifest.inaccessible``. Raises
    MediaError when ``path`` is not a readable file of a known format; a missing manifest is
    a state, never an exception.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: no such file")
    try:
        if p.stat().st_size == 0:
            raise MediaError(f"{p}: empty file")
        fmt = sniff_format(p)
    except OSError as exc:
        raise MediaError(f"{p}: cannot read ({exc.strerror})") from None
    if fmt is None:
        raise MediaError(f"{p}: unrecognised format (not a video, image, audio file or C2PA manifest store)")
    if fmt.kind == "manifest":
        return read_manifest_store(_bounded_read(p), trust=_trust(trust, trust_anchors_pem))
    explicit = _sidecar_bytes(p, sidecar) if sidecar is not None else None
    beside = None if sidecar is not None else _sidecar_bytes(p, None)
    common: dict[str, Any] = {"media_kind": fmt.kind, "format": fmt.mime}
    if not fmt.carries_c2pa and explicit is None and beside is None:
        return ProvenanceReport(state="absent", **common)
    context = _cached_context(_trust(trust, trust_anchors_pem))
    try:
        with open(p, "rb") as raw:
            report = _read(raw, fmt, explicit, beside, remote, context)
    except OSError as exc:
        raise MediaError(f"{p}: cannot read ({exc.strerror})") from None
    if not fmt.sniffed and report.manifest_label is None and report.error:
        # only the name said what it is, and c2pa-rs could not parse it either: not media at all
        raise MediaError(f"{p}: not a readable {fmt.mime} file (its bytes match no media format)")
    return report


def _read(
    raw: Any,
    fmt: MediaFormat,
    explicit: bytes | None,
    beside: bytes | None,
    remote: RemoteFetch | None,
    context: c2pa.Context,
) -> ProvenanceReport:
    common: dict[str, Any] = {"media_kind": fmt.kind, "format": fmt.mime}
    handle = HugePageReads(raw)  # c2pa-rs reads the media in one call into a fresh buffer
    attempts: list[tuple[str, bytes | None]] = []
    if explicit is not None:
        attempts.append(("sidecar", explicit))
    else:
        attempts.append(("embedded", None))
        if beside is not None:
            attempts.append(("sidecar", beside))
    remote_url = None
    for source, data in attempts:
        handle.seek(0)
        try:
            report = _report(fmt.mime, handle, data, context, source=source, **common)
        except _RemoteManifest as pointer:
            remote_url = pointer.url
            continue
        if report is not None:
            return report
    if remote_url is None:
        return ProvenanceReport(state="absent", **common)
    if remote is None:
        return _unreadable(
            codes=("manifest.inaccessible",),
            source="remote",
            remote_url=remote_url,
            error="the manifest is remote and remote fetching is off",
            **common,
        )
    try:
        data = remote(remote_url)
    except ProvenanceError as exc:
        return _unreadable(
            codes=("manifest.inaccessible",),
            source="remote",
            remote_url=remote_url,
            error=f"remote manifest not fetched: {exc}",
            **common,
        )
    handle.seek(0)
    report = _report(fmt.mime, handle, data, context, source="remote", remote_url=remote_url, **common)
    return report or _unreadable(
        codes=("manifest.inaccessible",),
        source="remote",
        remote_url=remote_url,
        error="the remote manifest holds no manifest",
        **common,
    )


def read_manifest_store(
    store: bytes, *, trust: TrustConfig | None = None, trust_anchors_pem: str | None = None
) -> ProvenanceReport:
    """Interpret a bare manifest store (a ``.c2pa`` file, or one recovered from the manifest
    store) without its asset: the signature, the claim and the trust are checked; the hard
    binding cannot be, so its mismatch codes are set aside and ``binding_checked`` is False."""
    if len(store) > MAX_SIDECAR_BYTES:
        raise ProvenanceError(f"manifest store of {len(store)} bytes exceeds {MAX_SIDECAR_BYTES}")
    context = _cached_context(_trust(trust, trust_anchors_pem))
    try:
        report = _report(
            "application/c2pa",
            io.BytesIO(store),
            None,
            context,
            source="store",
            media_kind="manifest",
            format="application/c2pa",
            binding_checked=False,
        )
    except _RemoteManifest as pointer:  # pragma: no cover - a store cannot point elsewhere
        report = _unreadable(codes=("manifest.inaccessible",), remote_url=pointer.url)
    return report or ProvenanceReport(state="absent", media_kind="manifest", format="application/c2pa")


def _unreadable(**fields: Any) -> ProvenanceReport:
    """An ``invalid`` report for credentials that are there (or pointed to) but not readable."""
    return ProvenanceReport(
        state="invalid", disclosure=Disclosure(label="Content Credentials present but not readable"), **fields
    )


class _RemoteManifest(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _report(
    fmt: str, stream: Any, manifest_data: bytes | None, context: c2pa.Context, **fields: Any
) -> ProvenanceReport | None:
    """The interpreted report, None when there is no manifest, an ``invalid`` report carrying
    c2pa-rs's error when the manifest is there but cannot be parsed."""
    # --- hostile-input guard (detectors/provenance/guard.py): bounded structure before c2pa-rs,
    # whose allocation failures abort the process and whose box parsers can take hours ---
    problem = precheck(fmt, stream, manifest_data, max_manifest_bytes=MAX_MANIFEST_BOX_BYTES)
    if problem is not None:
        return _unreadable(error=problem, **fields)
    # --- end of the hostile-input guard ---
    try:
        reader = c2pa.Reader.try_create(fmt, stream, manifest_data, context)
    except c2pa.C2paError.NotSupported:
        return None  # a format c2pa cannot carry: nothing embedded to read
    except c2pa.C2paError as exc:
        text = str(exc)
        found = _REMOTE.search(text)
        if found:
            raise _RemoteManifest(found.group(1).rstrip(".,;")) from None
        kind = type(exc).__name__.lstrip("_").removeprefix("C2pa") or "Error"
        return _unreadable(error=f"c2pa-rs could not read the file's credentials ({kind}): {text[:300]}", **fields)
    if reader is None:
        return None
    try:
        store = json.loads(reader.json())
        crjson = json.loads(reader.crjson())
    except (ValueError, c2pa.C2paError) as exc:
        return _unreadable(error=f"c2pa could not serialise the manifest: {str(exc)[:200]}", **fields)
    finally:
        reader.close()
    try:
        return interpret(store, crjson=crjson, **fields)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        # The JSON mirrors what the signer wrote: a custom assertion may hold any shape
        # ("actions": 5). Odd shapes mean credentials we cannot read, never a crash.
        return _unreadable(
            error=f"credentials of an unexpected shape ({type(exc).__name__}: {str(exc)[:120]})", **fields
        )


def _bounded_read(p: Path) -> bytes:
    size = p.stat().st_size
    if size > MAX_SIDECAR_BYTES:
        raise ProvenanceError(f"{p}: manifest store of {size} bytes exceeds {MAX_SIDECAR_BYTES}")
    return p.read_bytes()


def _sidecar_bytes(p: Path, sidecar: str | os.PathLike[str] | bytes | None) -> bytes | None:
    if isinstance(sidecar, bytes):
        data = sidecar
    else:
        candidate = Path(sidecar) if sidecar is not None else p.with_suffix(".c2pa")
        if sidecar is None and (candidate == p or not candidate.is_file()):
            return None
        try:
            size = candidate.stat().st_size
            if size > MAX_SIDECAR_BYTES:
                raise ProvenanceError(f"{candidate}: sidecar of {size} bytes exceeds {MAX_SIDECAR_BYTES}")
            data = candidate.read_bytes()
        except OSError as exc:
            raise ProvenanceError(f"{candidate}: cannot read sidecar ({exc.strerror})") from None
    if len(data) > MAX_SIDECAR_BYTES:
        raise ProvenanceError(f"sidecar of {len(data)} bytes exceeds {MAX_SIDECAR_BYTES}")
    return data
