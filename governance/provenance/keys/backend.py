"""Where the private key lives: the ``SigningBackend`` interface and its file implementation.

c2pa-rs asks for one signature per manifest through a callback (``c2pa.Signer.from_callback``),
so the key never has to reach the C library: an HSM or KMS plugs in by implementing
``SigningBackend.sign``. ``FileSigningBackend`` keeps a PEM key (optionally encrypted) on disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import serialization

from governance.core.errors import KeyMaterialError, PassphraseError
from governance.core.secrets import write_secret_file
from governance.provenance.keys.certs import PrivateKey, algorithm_of, sign_bytes, signing_key

__all__ = ["SigningBackend", "FileSigningBackend", "load_private_key", "save_private_key", "key_pem"]


@runtime_checkable
class SigningBackend(Protocol):
    """Signs the bytes c2pa-rs hands over (COSE Sig_structure) and returns the raw signature.

    ``algorithm`` is one of es256, es384, ed25519, ps256; ECDSA signatures are r||s (IEEE P1363),
    not DER, because COSE wants them that way.
    """

    @property
    def algorithm(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


def key_pem(key: PrivateKey, passphrase: str | None) -> bytes:
    """PKCS#8 PEM, encrypted with the passphrase when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def save_private_key(path: Path, key: PrivateKey, passphrase: str | None) -> None:
    """Write the key 0600, atomically."""
    write_secret_file(path, key_pem(key, passphrase))


def load_private_key(path: Path, passphrase: str | None) -> PrivateKey:
    """Load a PEM private key; wrong or missing passphrases raise PassphraseError.

    Messages name the file, never its content.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyMaterialError(f"no private key at {path}") from None
    except OSError as exc:
        raise KeyMaterialError(f"cannot read private key {path}: {exc.strerror}") from None
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    if encrypted and not passphrase:
        raise PassphraseError(f"{path} is encrypted: set REELGUARD_KEY_PASSPHRASE or use --prompt")
    try:
        key = serialization.load_pem_private_key(
            data, password=passphrase.encode("utf-8") if encrypted and passphrase else None
        )
    except ValueError:
        if encrypted:
            raise PassphraseError(f"wrong passphrase for {path}") from None
        raise KeyMaterialError(f"{path}: not a valid PEM private key") from None
    except TypeError:
        raise PassphraseError(f"{path}: key encryption does not match the passphrase setting") from None
    except Exception as exc:  # unsupported key format, cipher, etc.
        raise KeyMaterialError(f"{path}: cannot load private key ({type(exc).__name__})") from None
    return signing_key(key)  # refuses unsupported key types early


class FileSigningBackend:
    """A ``SigningBackend`` over a PEM key file; the key is loaded once, at construction."""

    def __init__(self, key_path: str | os.PathLike[str], *, passphrase: str | None = None) -> None:
        self.key_path = Path(key_path)
        self._key = load_private_key(self.key_path, passphrase)
        self._algorithm = algorithm_of(self._key)

    @classmethod
    def from_key(cls, key: PrivateKey, *, label: str = "<memory>") -> FileSigningBackend:
        """Wrap an in-memory key (tests, short-lived identities)."""
        backend = cls.__new__(cls)
        backend.key_path = Path(label)
        backend._key = key
        backend._algorithm = algorithm_of(key)
        return backend

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def public_key(self) -> object:
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return sign_bytes(self._key, self._algorithm, data)

    def __repr__(self) -> str:  # never show key material
        return f"FileSigningBackend(key_path={str(self.key_path)!r}, algorithm={self._algorithm!r})"
