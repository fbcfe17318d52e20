"""C2SP signed-note checkpoints: Go sumdb/note known answers, parsing errors, the key file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.records.audit.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    load_checkpoint,
    load_or_create_signer,
    load_verifier,
    parse_note,
)
from governance.core.errors import AuditError, KeyMaterialError, PassphraseError
from governance.core.settings import get_settings

# golang.org/x/mod/sumdb/note's documented example (Ed25519 is deterministic, so the
# signature must come out byte for byte).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def _go_signer() -> NoteSigner:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    return NoteSigner("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))


def test_go_known_answer() -> None:
    signer = _go_signer()
    assert signer.verifier.vkey() == GO_VKEY
    sig = signer.sign_text(GO_TEXT)
    text, sigs = parse_note(GO_NOTE)
    assert text == GO_TEXT and sigs == (sig,)
    verifier = NoteVerifier.from_vkey(GO_VKEY)
    assert verifier.verify_text(text, sigs)
    assert not verifier.verify_text(text.replace("cryptography", "cryptographY"), sigs)


def test_checkpoint_round_trip_and_forgery() -> None:
    signer = NoteSigner("reelguard.audit/example", Ed25519PrivateKey.generate())
    cp = signer.sign("reelguard.audit/example", 42, bytes(range(32)))
    note = cp.note()
    assert note.startswith("reelguard.audit/example\n42\nAAECAwQF") and "\n\n\u2014 reelguard.audit/example " in note
    parsed = Checkpoint.parse(note)
    assert parsed == cp and signer.verifier.verify(parsed)
    bumped = Checkpoint.parse(note.replace("\n42\n", "\n43\n"))
    assert not signer.verifier.verify(bumped)
    other = NoteSigner("reelguard.audit/example", Ed25519PrivateKey.generate())
    assert not signer.verifier.verify(other.sign(cp.origin, cp.size, cp.root))


@pytest.mark.parametrize("note, message", [
    ("", "no signature block"),
    ("origin\n1\n\n\u2014 k AAAAAAAA\n", "origin, tree size and root"),
    ("origin\nx\nAAAA\n\n\u2014 k AAAAAAAA\n", "not a decimal"),
    ("origin\n1\nAAAA\n\n\u2014 k AAAAAAAA\n", "32 bytes"),
    ("origin\n1\n" + "A" * 43 + "=\n\n- k AAAAAAAA\n", "malformed signature line"),
    ("origin\n1\n" + "A" * 43 + "=\n\n\u2014 k !!!\n", "not base64"),
    ("origin\n1\n" + "A" * 43 + "=\n\n\u2014 k AAAAAAAA", "end with a newline"),
    ("origin\t\n1\n", "control characters"),
])
def test_corrupt_checkpoints(note: str, message: str) -> None:
    with pytest.raises(AuditError, match=message):
        Checkpoint.parse(note)


def test_checkpoint_files(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(AuditError, match="corrupt checkpoint .*UTF-8"):
        load_checkpoint(tmp_path / "bin")


@pytest.mark.parametrize("vkey", ["nope", "a+zz+AQ==", "a+00000000+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
                                  GO_VKEY.replace("c74f20a3", "c74f20a4")])
def test_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(KeyMaterialError):
        NoteVerifier.from_vkey(vkey)


def test_organisation_key_is_created_once_0600(home: Path) -> None:
    settings = get_settings(organisation="Example Studios Ltd.")
    signer = load_or_create_signer(settings)
    key_file = settings.keys_path / "audit-log.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert signer.name == "reelguard.audit/example-studios-ltd"
    again = load_or_create_signer(settings)
    assert again.verifier.vkey() == signer.verifier.vkey() == load_verifier(settings).vkey()


def test_passphrase_protects_the_key(home: Path) -> None:
    load_or_create_signer(get_settings(key_passphrase="correct horse"))
    assert b"ENCRYPTED" in (get_settings().keys_path / "audit-log.key").read_bytes()
    with pytest.raises(PassphraseError):
        load_or_create_signer(get_settings(key_passphrase="wrong"))
    with pytest.raises(PassphraseError):
        load_or_create_signer(get_settings())
    with pytest.raises(KeyMaterialError, match="no audit checkpoint key"):
        load_or_create_signer(get_settings(key_dir=home / "elsewhere"), create=False)
