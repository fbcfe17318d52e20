"""Every signed manifest, kept by content id, so a clip whose manifest was stripped (any remux
does it) can get it back through its watermark or a fingerprint match.

Layout under ``settings.manifests_path``::

    <cid[:2]>/<cid>.c2pa            the manifest store bytes (application/c2pa)
    <cid[:2]>/<cid>.json            the store as c2pa-rs read it at signing time
    by-label/<sha256(label)[:32]>   content id of a manifest label (urn:c2pa:...)
    by-binding/<alg>/<value hex>    content id of a soft binding (scheme + payload)

Files are written atomically; index entries are tiny text files, so concurrent writers never
corrupt each other. The ``*_response`` functions build the C2PA Soft Binding Resolution API
bodies (``/matches/byBinding``, ``/matches/byContent``, ``/manifests/{id}``,
``/services/supportedAlgorithms``); the HTTP routes wrap them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.core.errors import StorageError
from governance.core.secrets import write_secret_file
from governance.core.settings import Settings

__all__ = [
    "StoredManifest",
    "ManifestStore",
    "save",
    "load",
    "decode_binding_value",
    "matches_response",
    "manifest_response",
    "recovered_report",
    "supported_algorithms_response",
]

_CID = re.compile(r"^[0-9a-f]{16}$")
_ALG = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_LABEL = re.compile(r"^urn:c2pa:[0-9A-Za-z:._-]{1,200}$")
MAX_STORE_BYTES = 16 * 1024 * 1024
MAX_JSON_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class StoredManifest:
    content_id: str
    manifest_json: str
    manifest_bytes: bytes | None  # None when only the JSON was saved
    manifest_label: str | None
    soft_binding: tuple[str, str] | None  # (alg, payload hex)

    @property
    def manifest_digest(self) -> str | None:
        return hashlib.sha256(self.manifest_bytes).hexdigest() if self.manifest_bytes else None

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.manifest_json)


def _active(manifest_json: str) -> tuple[str | None, tuple[str, str] | None]:
    """Active manifest label and its soft binding, from the reader JSON."""
    try:
        data = json.loads(manifest_json)
    except ValueError:
        raise StorageError("manifest_json is not JSON") from None
    label = data.get("active_manifest")
    manifest = (data.get("manifests") or {}).get(label) or {}
    for item in manifest.get("assertions") or ():
        if item.get("label") == "c2pa.soft-binding":
            body = item.get("data") or {}
            for block in body.get("blocks") or ():
                value = block.get("value") if isinstance(block, dict) else None
                if isinstance(body.get("alg"), str) and isinstance(value, str):
                    return label, (body["alg"], value.lower())
    return label, None


class ManifestStore:
    """Content id -> manifest store bytes + JSON, with label and soft-binding indexes."""

    def __init__(self, root: Settings | str | os.PathLike[str]) -> None:
        self.root = root.manifests_path if isinstance(root, Settings) else Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> ManifestStore:
        return cls(settings.manifests_path)

    def _paths(self, content_id: str) -> tuple[Path, Path]:
        if not _CID.match(content_id or ""):
            raise StorageError(f"content_id must be 16 lowercase hex characters but is {content_id!r}")
        folder = self.root / content_id[:2]
        return folder / f"{content_id}.c2pa", folder / f"{content_id}.json"

    def _binding_path(self, alg: str, value_hex: str) -> Path:
        if not _ALG.match(alg) or not re.fullmatch(r"(?:[0-9a-f]{2}){1,64}", value_hex):
            raise StorageError("soft binding alg or value is malformed")
        return self.root / "by-binding" / alg / value_hex

    def _label_path(self, label: str) -> Path:
        return self.root / "by-label" / hashlib.sha256(label.encode("utf-8")).hexdigest()[:32]

    def _write(self, path: Path, data: bytes) -> None:
        try:
            write_secret_file(path, data)
            path.chmod(0o644)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror}") from None

    def save(self, content_id: str, manifest_json: str, manifest_bytes: bytes | None = None) -> StoredManifest:
        """Store (or replace) the manifest of ``content_id`` and index its label and soft binding.

        Pass ``manifest_bytes`` (SignedAsset.manifest_bytes): without them the manifest can be
        shown but not re-verified or served from ``/manifests/{id}``."""
        if manifest_bytes is not None and not 0 < len(manifest_bytes) <= MAX_STORE_BYTES:
            raise StorageError(f"manifest store must be 1..{MAX_STORE_BYTES} bytes, got {len(manifest_bytes)}")
        if len(manifest_json) > MAX_JSON_BYTES:
            raise StorageError("manifest_json is too large")
        store_path, json_path = self._paths(content_id)
        label, binding = _active(manifest_json)
        if manifest_bytes is not None:
            self._write(store_path, manifest_bytes)
        else:
            store_path.unlink(missing_ok=True)  # never pair new JSON with an old store
        self._write(json_path, manifest_json.encode("utf-8"))
        if isinstance(label, str) and _LABEL.match(label):
            self._write(self._label_path(label), f"{content_id}\n{label}\n".encode())
        else:
            label = None
        if binding:
            try:
                self._write(self._binding_path(*binding), content_id.encode())
            except StorageError:
                binding = None  # a foreign binding value we cannot index; the manifest is still kept
        return StoredManifest(content_id, manifest_json, manifest_bytes, label, binding)

    def get(self, content_id: str) -> StoredManifest | None:
        """The stored manifest (JSON and store bytes) of ``content_id``; None when there is none."""
        store_path, json_path = self._paths(content_id)
        try:
            manifest_json = json_path.read_text(encoding="utf-8")
            manifest_bytes = store_path.read_bytes() if store_path.exists() else None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read manifest of {content_id}: {exc.strerror}") from None
        label, binding = _active(manifest_json)
        return StoredManifest(content_id, manifest_json, manifest_bytes, label, binding)

    def load(self, content_id: str) -> dict[str, Any] | None:
        """The stored manifest of ``content_id`` as the reader JSON (a dict); None when absent."""
        stored = self.get(content_id)
        return stored.to_dict() if stored else None

    def find_by_binding(self, alg: str, value_hex: str) -> list[str]:
        """Content ids whose manifest carries this soft binding."""
        try:
            path = self._binding_path(alg, value_hex.lower())
        except StorageError:
            return []
        try:
            return [path.read_text().strip()]
        except FileNotFoundError:
            return []

    def find_by_label(self, label: str) -> StoredManifest | None:
        if not _LABEL.match(label or ""):
            return None
        try:
            content_id, stored_label = self._label_path(label).read_text().split("\n")[:2]
        except (FileNotFoundError, ValueError):
            return None
        if stored_label != label:
            return None
        return self.get(content_id)

    def algorithms(self) -> list[str]:
        folder = self.root / "by-binding"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def save(
    settings: Settings, content_id: str, manifest_json: str, manifest_bytes: bytes | None = None
) -> StoredManifest:
    return ManifestStore(settings).save(content_id, manifest_json, manifest_bytes)


def load(settings: Settings, content_id: str) -> dict[str, Any] | None:
    return ManifestStore(settings).load(content_id)


def decode_binding_value(value: str) -> str:
    """A soft binding query value (base64 per the API, or hex as ReelGuard writes it) to hex."""
    text = (value or "").strip()
    if re.fullmatch(r"(?:[0-9a-fA-F]{2}){1,64}", text):
        return text.lower()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise StorageError("soft binding value is neither hex nor base64") from None
    if not 1 <= len(raw) <= 64:
        raise StorageError("soft binding value must decode to 1-64 bytes")
    return raw.hex()


def matches_response(
    store: ManifestStore, *, alg: str, value: str, max_results: int = 10, similarity: int | None = None
) -> dict[str, Any]:
    """Body of ``/matches/byBinding`` (and of ``/matches/byContent`` once the caller extracted the
    binding from the uploaded asset): ``{"matches": [{"manifestId": ..., "similarityScore": ...}]}``."""
    out: list[dict[str, Any]] = []
    for content_id in store.find_by_binding(alg, decode_binding_value(value))[: max(1, max_results)]:
        stored = store.get(content_id)
        if stored and stored.manifest_label:
            match: dict[str, Any] = {"manifestId": stored.manifest_label}
            if similarity is not None:
                match["similarityScore"] = max(0, min(100, int(similarity)))
            out.append(match)
    return {"matches": out}


def manifest_response(store: ManifestStore, manifest_id: str) -> bytes | None:
    """Body of ``/manifests/{manifestId}`` (application/c2pa): the whole manifest store, or
    None for a 404. ``returnActiveManifest`` is served the same way: the active manifest
    cannot be verified without the store around it."""
    stored = store.find_by_label(manifest_id)
    return stored.manifest_bytes if stored and stored.manifest_bytes else None


def supported_algorithms_response(
    watermarks: tuple[str, ...] = (), fingerprints: tuple[str, ...] = (), store: ManifestStore | None = None
) -> dict[str, Any]:
    """Body of ``/services/supportedAlgorithms``."""
    names = set(watermarks) | set(store.algorithms() if store else ())
    return {
        "watermarks": [{"alg": a} for a in sorted(names)],
        "fingerprints": [{"alg": a} for a in sorted(set(fingerprints))],
    }


def recovered_report(store: ManifestStore, content_id: str, *, trust_anchors_pem: str | None = None) -> Any:
    """Re-verify a stored manifest (signature and trust) as a ``ProvenanceReport`` with
    ``source == "store"``; None when nothing (or only JSON) was stored. The hard-binding
    mismatch code is expected: the clip it was bound to had its manifest stripped."""
    from detectors.provenance import read_manifest_store

    stored = store.get(content_id)
    if stored is None or not stored.manifest_bytes:
        return None
    return read_manifest_store(stored.manifest_bytes, trust_anchors_pem=trust_anchors_pem)
