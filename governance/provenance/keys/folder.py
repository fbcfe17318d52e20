"""The identity's folder, ``settings.keys_path/c2pa``: its lock, its public files and its
``identity.json``, and the install id derived from the project CA (shared with the loopback TSA)."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from governance.core.errors import KeyMaterialError
from governance.core.secrets import write_secret_file
from governance.core.settings import Settings
from governance.provenance.keys import certs

__all__ = ["c2pa_dir", "locked_folder", "write_public", "read_meta", "save_meta", "now_utc", "install_id", "key_id"]


def c2pa_dir(settings: Settings) -> Path:
    return settings.keys_path / "c2pa"


@contextmanager
def locked_folder(settings: Settings) -> Iterator[Path]:
    """Serialise identity changes across processes (first use races, rotation)."""
    settings.ensure_dirs()
    folder = c2pa_dir(settings)
    folder.mkdir(mode=0o700, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_public(path: Path, text: str) -> None:
    write_secret_file(path, text.encode("ascii"))  # atomic; 0600 is fine for public files too
    path.chmod(0o644)


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "identity.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise KeyMaterialError(f"{folder / 'identity.json'}: unreadable ({exc.__class__.__name__})") from None


def save_meta(folder: Path, meta: dict[str, Any]) -> None:
    write_public(folder / "identity.json", json.dumps(meta, indent=2, sort_keys=True))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def install_id(folder: Path) -> str:
    """Eight hex characters that tell installs apart (from the project CA's public key), so two
    installs with the same organisation name never show the same signer name."""
    path = folder / "root.cert.pem"
    if not path.is_file():
        path = folder / "intermediate.cert.pem"
    return key_id(certs.load_cert_chain(path.read_bytes(), source=str(path))[0].public_key())


def key_id(public_key: Any) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:8]
