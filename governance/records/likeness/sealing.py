"""Sealing face descriptors at rest.

With ``key_passphrase`` set, each descriptor is AES-256-GCM encrypted under a key derived from
the passphrase by scrypt (n=2^15, r=8) with the registry's one random salt (``likeness_keyring``),
and the person id as associated data (a sealed row moved to another person does not open).
Without a passphrase the descriptor is stored framed but plain: the operator chose not to
encrypt keys either. The keyring's check value tells a wrong passphrase apart from a damaged
row. Derived keys are cached per process by (salt, SHA-256 of the passphrase), so a scan does
not pay scrypt once per row.

Frames: ``b"RGD1P" + float32 bytes`` (plain) or ``b"RGD1E" + nonce(12) + ciphertext+tag``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING

import numpy as np

from governance.core.errors import PassphraseError, StorageError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Sealer", "new_salt", "PLAIN", "ENCRYPTED"]

PLAIN = b"RGD1P"
ENCRYPTED = b"RGD1E"
_CHECK = b"reelguard likeness keyring v1"
_KEYS: dict[tuple[str, str], bytes] = {}
_KEYS_LOCK = threading.Lock()


def new_salt() -> str:
    return os.urandom(16).hex()


def _derive(passphrase: str, salt_hex: str) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    cache_key = (salt_hex, hashlib.sha256(passphrase.encode("utf-8")).hexdigest())
    with _KEYS_LOCK:
        key = _KEYS.get(cache_key)
        if key is None:
            key = Scrypt(salt=bytes.fromhex(salt_hex), length=32, n=2**15, r=8, p=1).derive(passphrase.encode("utf-8"))
            _KEYS[cache_key] = key
        return key


class Sealer:
    """Seals and opens descriptors for one registry (salt) and passphrase (or none)."""

    def __init__(self, passphrase: str | None, salt_hex: str | None) -> None:
        self._key = _derive(passphrase, salt_hex) if passphrase and salt_hex else None

    @property
    def encrypts(self) -> bool:
        return self._key is not None

    @staticmethod
    def _aead(key: bytes) -> AESGCM:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(key)

    def seal_bytes(self, data: bytes, *, aad: bytes) -> bytes:
        key = self._key
        if key is None:
            return PLAIN + data
        nonce = os.urandom(12)
        return ENCRYPTED + nonce + self._aead(key).encrypt(nonce, data, aad)

    def open_bytes(self, sealed: bytes, *, aad: bytes) -> bytes:
        sealed = bytes(sealed)
        if sealed.startswith(PLAIN):
            return sealed[len(PLAIN) :]
        if not sealed.startswith(ENCRYPTED):
            raise StorageError("a likeness descriptor row is damaged (unknown framing)")
        key = self._key
        if key is None:
            raise PassphraseError("likeness descriptors are encrypted: set REELGUARD_KEY_PASSPHRASE to read them")
        from cryptography.exceptions import InvalidTag

        body = sealed[len(ENCRYPTED) :]
        try:
            return self._aead(key).decrypt(body[:12], body[12:], aad)
        except InvalidTag:
            raise StorageError("a likeness descriptor row does not open: damaged or moved between people") from None

    def check_value(self) -> bytes:
        return self.seal_bytes(_CHECK, aad=b"keyring")

    def verify_check(self, sealed: bytes) -> None:
        """PassphraseError unless ``sealed`` (the keyring's check value) opens with this key."""
        try:
            ok = bytes(sealed).startswith(ENCRYPTED) and self.open_bytes(sealed, aad=b"keyring") == _CHECK
        except StorageError:  # the tag does not verify: another passphrase sealed it
            ok = False
        if not ok:
            raise PassphraseError("wrong passphrase for the likeness registry's descriptors")

    def seal(self, descriptor: np.ndarray, *, person_id: str) -> bytes:
        return self.seal_bytes(np.asarray(descriptor, dtype="<f4").tobytes(), aad=person_id.encode("utf-8"))

    def open(self, sealed: bytes, *, person_id: str) -> np.ndarray:
        data = self.open_bytes(sealed, aad=person_id.encode("utf-8"))
        if len(data) % 4:
            raise StorageError("a likeness descriptor row is damaged (length)")
        return np.frombuffer(data, dtype="<f4").astype(np.float32)
