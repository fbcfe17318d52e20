"""Tampering with the stored log, on SQLite and PostgreSQL: verify catches it and names the row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from governance.records.audit import AuditLog, merkle, sign_checkpoint
from governance.records.audit.checkpoint import NoteSigner, NoteVerifier
from governance.records.audit.events import ConsentEvent
from governance.records.audit.models import AuditEntry, AuditHead
from governance.records.storage.db import get_engine, session_scope
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

E = AuditEntry.__table__
N = 12


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path}/audit.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return get_engine(url)


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner("reelguard.audit/test", Ed25519PrivateKey.generate())


@pytest.fixture
def log(engine: Engine, signer: NoteSigner) -> AuditLog:
    log = AuditLog(engine, verifier=signer.verifier)
    with session_scope(engine) as session:
        log.append_many(session, [ConsentEvent(action="use", license_id=f"L{i}", person="ada") for i in range(N)])
    assert log.verify().ok
    return log


def _rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(E).order_by(E.c.leaf_index)).mappings()]


def _set(engine: Engine, index: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(update(E).where(E.c.leaf_index == index).values(**values))


def _rewrite_chain(engine: Engine, rows: list[dict]) -> None:
    """What a careful attacker does: recompute every hash, subtree and root after an edit."""
    tree = merkle.MemoryTree()
    with engine.begin() as conn:
        conn.execute(E.delete())
        for i, row in enumerate(rows):
            lh = merkle.leaf_hash(bytes(row["payload"]))
            tree.append_hash(lh)
            closed, idx, level = b"", i, 0
            while idx & 1:
                level, idx = level + 1, idx >> 1
                closed += tree.node((level, idx))
            conn.execute(E.insert().values(**{**row, "leaf_index": i, "leaf_hash": lh.hex(), "nodes": closed,
                                              "root_hash": tree.root().hex()}))
        conn.execute(update(AuditHead.__table__).values(size=len(rows)))


def test_edited_payload_is_named(log: AuditLog, engine: Engine) -> None:
    row = _rows(engine)[5]
    _set(engine, 5, payload=bytes(row["payload"]).replace(b"L5", b"L9"))
    result = log.verify()
    assert (result.ok, result.first_bad_index, result.first_bad_event_id) == (False, 5, row["event_id"])
    assert "edited" in result.reason


def test_edited_column_is_named(log: AuditLog, engine: Engine) -> None:
    _set(engine, 3, kind="generation.generated")
    assert log.verify().first_bad_index == 3


@pytest.mark.parametrize("index", [4, 5])
def test_edit_with_recomputed_leaf_hash_is_named(log: AuditLog, engine: Engine, index: int) -> None:
    payload = bytes(_rows(engine)[index]["payload"]).replace(b"\"person\":\"ada\"", b"\"person\":\"eve\"")
    _set(engine, index, payload=payload, leaf_hash=merkle.leaf_hash(payload).hex())
    assert log.verify().first_bad_index == index


def test_deleted_event_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == 6))
    result = log.verify()
    assert (result.ok, result.first_bad_index) == (False, 6)
    assert rows[5]["event_id"] in result.reason


def test_deleted_last_event_is_caught(log: AuditLog, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == N - 1))
    assert log.verify().first_bad_index == N - 1


def test_delete_and_renumber_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index == 6))
        for i in range(7, N):
            conn.execute(update(E).where(E.c.leaf_index == i).values(leaf_index=i - 1))
        conn.execute(update(AuditHead.__table__).values(size=N - 1))
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (6, rows[7]["event_id"])


def test_reordered_events_are_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(update(E).where(E.c.leaf_index == 3).values(leaf_index=-1))
        conn.execute(update(E).where(E.c.leaf_index == 8).values(leaf_index=3))
        conn.execute(update(E).where(E.c.leaf_index == -1).values(leaf_index=8))
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (3, rows[8]["event_id"])


def test_inserted_event_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    forged = {**rows[2], "event_id": "f" * 32}
    with engine.begin() as conn:
        for i in reversed(range(4, N)):
            conn.execute(update(E).where(E.c.leaf_index == i).values(leaf_index=i + 1))
        conn.execute(E.insert().values(**{**forged, "leaf_index": 4}))
        conn.execute(update(AuditHead.__table__).values(size=N + 1))
    result = log.verify()
    assert result.first_bad_index == 4 and not result.ok


def test_appended_row_without_head_is_named(log: AuditLog, engine: Engine) -> None:
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(E.insert().values(**{**rows[0], "leaf_index": N, "event_id": "e" * 32}))
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (N, "e" * 32)


def test_consistent_rewrite_is_caught_by_checkpoints(log: AuditLog, engine: Engine, signer: NoteSigner) -> None:
    """Rows rewritten consistently pass the row checks; the signed checkpoints do not."""
    sign_checkpoint(log, signer)  # size N
    rows = _rows(engine)
    rows[7]["payload"] = bytes(rows[7]["payload"]).replace(b"L7", b"L0")
    _rewrite_chain(engine, rows)
    result = log.verify()
    assert not result.ok and result.first_bad_index == 0 and "rewritten" in result.reason


def test_rewrite_is_localised_between_checkpoints(engine: Engine, signer: NoteSigner) -> None:
    log = AuditLog(engine, verifier=signer.verifier)
    for batch in range(3):
        with session_scope(engine) as session:
            log.append_many(session, [ConsentEvent(action="use", license_id=f"B{batch}-{i}", person="ada") for i in range(4)])
        sign_checkpoint(log, signer)
    rows = _rows(engine)
    # the quoted field, not "ada": those three letters are hex and may also sit in an event id
    rows[9]["payload"] = bytes(rows[9]["payload"]).replace(b"\"person\":\"ada\"", b"\"person\":\"eve\"")
    _rewrite_chain(engine, rows)
    result = log.verify()
    assert (result.first_bad_index, result.first_bad_event_id) == (8, rows[8]["event_id"]), result.reason


def test_forged_checkpoint_is_rejected(log: AuditLog, signer: NoteSigner, tmp_path: Path) -> None:
    good = sign_checkpoint(log, signer)
    assert log.verify(good).ok
    mallory = NoteSigner(signer.name, Ed25519PrivateKey.generate())
    forged = mallory.sign(good.origin, good.size, good.root)
    result = log.verify(forged)
    assert not result.ok and "forged" in result.reason
    path = tmp_path / "edited.checkpoint"
    path.write_text(good.note().replace(f"\n{good.size}\n", f"\n{good.size + 5}\n"))
    assert not log.verify(path).ok


def test_checkpoint_larger_than_log_means_deletion(log: AuditLog, engine: Engine, signer: NoteSigner) -> None:
    checkpoint = sign_checkpoint(log, signer)
    with engine.begin() as conn:
        conn.execute(E.delete().where(E.c.leaf_index >= N - 2))
        conn.execute(update(AuditHead.__table__).values(size=N - 2))
    result = log.verify(checkpoint)
    assert not result.ok and "deleted" in result.reason


def test_verifier_with_other_key_rejects_stored_checkpoints(log: AuditLog, signer: NoteSigner) -> None:
    sign_checkpoint(log, signer)
    other = NoteVerifier("reelguard.audit/test", Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    assert not log.verify(verifier=other).ok
