"""Signed checkpoints in the C2SP ``tlog-checkpoint`` / ``signed-note`` format.

    <origin>\\n<tree size>\\n<base64 root hash>\\n
    \\n
    — <key name> <base64(4-byte key id || Ed25519 signature)>\\n

The key id is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; the shareable verifier key is
``<name>+<hex key id>+<base64(0x01 || public key)>``. The organisation's Ed25519 key lives in
``settings.keys_path/audit-log.key`` (0600, encrypted when a passphrase is set), its verifier
key beside it in ``audit-log.vkey``, so an auditor can check checkpoints without the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from governance.core.errors import AuditError, KeyMaterialError, PassphraseError, StorageError
from governance.core.secrets import create_secret_file, write_secret_file
from governance.records.audit.models import AuditCheckpointRecord

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.settings import Settings
    from governance.records.audit.log import AuditLog

__all__ = [
    "Checkpoint",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "load_checkpoint",
    "load_or_create_signer",
    "load_verifier",
    "sign_checkpoint",
    "log_origin",
    "parse_note",
]

_SIG_PREFIX = "\u2014 "
_ED25519 = b"\x01"
_NAME_OK = re.compile(r"^[^\s+]+$")
MAX_NOTE_BYTES = 1 << 20


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def log_origin(organisation: str) -> str:
    """A stable, space-free origin line for the organisation's log."""
    slug = re.sub(r"[^a-z0-9]+", "-", organisation.lower()).strip("-") or "reelguard"
    return f"reelguard.audit/{slug}"


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint. Its text is only to be trusted after ``NoteVerifier.verify``."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    signatures: tuple[NoteSignature, ...] = ()

    @property
    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    def note(self) -> str:
        sigs = "".join(
            f"{_SIG_PREFIX}{s.name} {base64.b64encode(s.key_id + s.signature).decode()}\n" for s in self.signatures
        )
        return f"{self.text}\n{sigs}"

    def to_dict(self) -> dict:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "signers": [s.name for s in self.signatures],
            "note": self.note(),
        }

    @classmethod
    def parse(cls, data: str | bytes) -> Checkpoint:
        """Parses a signed checkpoint; raises AuditError naming what is malformed."""
        text, sigs = parse_note(data)
        lines = text.split("\n")[:-1]
        if len(lines) < 3:
            raise AuditError("checkpoint text needs origin, tree size and root hash lines")
        origin, size_line, root_line, *extensions = lines
        if not origin or not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_line):
            raise AuditError(f"checkpoint tree size {size_line[:24]!r} is not a decimal number")
        try:
            root = base64.b64decode(root_line, validate=True)
        except (binascii.Error, ValueError):
            root = b""
        if len(root) != 32:
            raise AuditError("checkpoint root hash is not 32 bytes of base64")
        return cls(origin, int(size_line), root, tuple(extensions), sigs)


def parse_note(data: str | bytes) -> tuple[str, tuple[NoteSignature, ...]]:
    """Splits a C2SP signed note into its text (with final newline) and signature lines."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise AuditError("signed note is larger than 1 MiB")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise AuditError("signed note is not UTF-8 text") from None
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise AuditError("signed note contains control characters")
    text, sep, sig_block = data.rpartition("\n\n")
    if not sep or not text:
        raise AuditError("no signature block (expected a blank line before the signatures)")
    if not sig_block.endswith("\n"):
        raise AuditError("signature block must end with a newline")
    sigs = []
    for line in sig_block[:-1].split("\n"):
        match = re.fullmatch(r"\u2014 (\S+) (\S+)", line)
        if not match:
            raise AuditError(f"malformed signature line: {line[:40]!r}")
        try:
            blob = base64.b64decode(match[2], validate=True)
        except (binascii.Error, ValueError):
            raise AuditError("signature is not base64") from None
        if len(blob) < 5:
            raise AuditError("signature is too short")
        sigs.append(NoteSignature(match[1], blob[:4], blob[4:]))
    if len(sigs) > 100:
        raise AuditError("signed note carries more than 100 signatures")
    return text + "\n", tuple(sigs)


class NoteVerifier:
    """An Ed25519 note verifier key (``name+keyid+base64``)."""

    def __init__(self, name: str, public: bytes) -> None:
        if not _NAME_OK.match(name):
            raise KeyMaterialError(f"invalid note key name {name!r}")
        self.name, self.public, self.key_id = name, public, _key_id(name, public)
        self._key = Ed25519PublicKey.from_public_bytes(public)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)  # base64 may itself contain "+"
        try:
            name, hex_id, blob_b64 = parts
            blob = base64.b64decode(blob_b64, validate=True)
            key_id = bytes.fromhex(hex_id)
        except (ValueError, binascii.Error):
            raise KeyMaterialError("verifier key must look like <name>+<hex key id>+<base64 key>") from None
        if blob[:1] != _ED25519 or len(blob) != 33:
            raise KeyMaterialError("verifier key is not an Ed25519 note key")
        verifier = cls(name, blob[1:])
        if verifier.key_id != key_id:
            raise KeyMaterialError("verifier key id does not match its name and public key")
        return verifier

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(_ED25519 + self.public).decode()}"

    def verify(self, checkpoint: Checkpoint) -> bool:
        """True iff a signature line by this key verifies over the checkpoint text."""
        return self.verify_text(checkpoint.text, checkpoint.signatures)

    def verify_text(self, text: str, signatures: tuple[NoteSignature, ...]) -> bool:
        """True iff the first signature by this key (name and key id) verifies over ``text``."""
        for sig in signatures:
            if sig.name == self.name and sig.key_id == self.key_id:
                try:
                    self._key.verify(sig.signature, text.encode())
                except InvalidSignature:
                    return False  # a failing known key rejects the whole note
                return True
        return False


class NoteSigner:
    """The organisation's checkpoint-signing key."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.verifier = NoteVerifier(name, public)
        self.name, self._key = name, key

    def sign_text(self, text: str) -> NoteSignature:
        if not text.endswith("\n") or "\n\n" in text:
            raise AuditError("note text must end with a newline and contain no blank line")
        return NoteSignature(self.name, self.verifier.key_id, self._key.sign(text.encode()))

    def auth_key(self) -> bytes:
        """The HMAC key for leaf authentication tags, derived from (and as secret as) this key."""
        raw = self._key.private_bytes_raw()
        return hashlib.sha256(b"reelguard.audit auth-tag v1\n" + raw).digest()

    def sign(self, origin: str, size: int, root: bytes) -> Checkpoint:
        unsigned = Checkpoint(origin, size, root)
        return Checkpoint(origin, size, root, (), (self.sign_text(unsigned.text),))


def _key_paths(settings: Settings) -> tuple[Path, Path]:
    return settings.keys_path / "audit-log.key", settings.keys_path / "audit-log.vkey"


def load_or_create_signer(settings: Settings, *, create: bool = True) -> NoteSigner:
    """The organisation's checkpoint key from the key folder, created (0600) on first use."""
    key_path, vkey_path = _key_paths(settings)
    name = log_origin(settings.organisation)
    password = settings.key_passphrase.encode() if settings.key_passphrase else None
    if not key_path.exists():
        if not create:
            raise KeyMaterialError(f"no audit checkpoint key at {key_path}")
        settings.ensure_dirs()
        key = Ed25519PrivateKey.generate()
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        if create_secret_file(key_path, pem):  # exclusive: concurrent first uses get one key
            signer = NoteSigner(name, key)
            write_secret_file(vkey_path, (signer.verifier.vkey() + "\n").encode("utf-8"))
            vkey_path.chmod(0o644)  # the verifier key is public
            return signer
        # another process created it first: read theirs below
    try:
        pem_bytes = key_path.read_bytes()
    except OSError as exc:
        raise KeyMaterialError(f"cannot read audit checkpoint key {key_path}: {exc.strerror}") from exc
    try:
        loaded = serialization.load_pem_private_key(pem_bytes, password=password)
    except TypeError as exc:
        raise PassphraseError(f"audit checkpoint key {key_path}: {exc}") from exc
    except ValueError as exc:
        # A wrong passphrase usually fails the padding check ("bad decrypt"), but about one time in
        # 256 the garbage it decrypts to has valid padding and fails as ASN.1 instead: for an
        # encrypted key, any failure with a passphrase given is the passphrase.
        encrypted = b"ENCRYPTED" in pem_bytes
        if password is not None and (encrypted or "password" in str(exc).lower() or "decrypt" in str(exc).lower()):
            raise PassphraseError(f"wrong passphrase for audit checkpoint key {key_path}") from exc
        raise KeyMaterialError(f"audit checkpoint key {key_path} is malformed") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyMaterialError(f"audit checkpoint key {key_path} is not an Ed25519 key")
    return NoteSigner(name, loaded)


def load_verifier(settings: Settings, vkey_file: Path | None = None) -> NoteVerifier:
    """The verifier key from ``vkey_file`` or the key folder (no private key needed)."""
    path = vkey_file or _key_paths(settings)[1]
    try:
        return NoteVerifier.from_vkey(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyMaterialError(f"cannot read audit verifier key {path}: {exc.strerror}") from exc


def load_checkpoint(source: str | bytes | Path) -> Checkpoint:
    """A checkpoint from a file path or the note itself; AuditError when corrupt."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AuditError(f"cannot read checkpoint {path}: {exc.strerror}") from exc
        try:
            return Checkpoint.parse(data)
        except AuditError as exc:
            raise AuditError(f"corrupt checkpoint {path}: {exc}") from exc
    return Checkpoint.parse(source)


def sign_checkpoint(
    log: AuditLog, signer: NoteSigner, *, session: Session | None = None, publish: bool = True
) -> Checkpoint:
    """Signs the log's current size and root, records the checkpoint, publishes it to the log's
    witness (when it has one) and returns it.

    Without ``session`` the read and the insert are separate short transactions, so signing never
    holds SQLite's write lock while it reads (nor fails with a stale snapshot under writers).
    Publishing happens after the record is committed; a witness that cannot be written raises
    ``AuditError`` (the checkpoint stays recorded in the database).
    """
    own = session is None
    try:
        if session is None:
            with Session(log.engine) as reader:
                size = log.size(reader)
                root = log.root(reader, size=size)
        else:
            size = log.size(session)
            root = log.root(session, size=size)
        checkpoint = signer.sign(signer.name, size, bytes.fromhex(root))
        record = AuditCheckpointRecord(
            size=size,
            root_hash=checkpoint.root.hex(),
            origin=checkpoint.origin,
            key_id=signer.verifier.key_id.hex(),
            note=checkpoint.note(),
            created_at=datetime.now(UTC),
        )
        if session is None:
            with Session(log.engine) as writer:
                writer.add(record)
                writer.commit()
        else:
            session.add(record)
            session.flush()
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot record the checkpoint: {str(getattr(exc, 'orig', exc)).strip()}") from exc
    witness = getattr(log, "witness", None)
    if publish and own and witness is not None:  # never publish a state the caller may roll back
        witness.publish(checkpoint)
    return checkpoint
