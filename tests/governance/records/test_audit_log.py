"""The AuditLog contract the flows rely on: caller's transaction, gap-free indices, proofs."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from governance.records.audit import AuditLog, merkle
from governance.records.audit.rows import typed_event
from governance.records.audit.events import ConsentEvent, OutputRegistryCheckEvent, PolicyDecisionEvent
from governance.core.errors import AuditError, StorageError
from governance.records.storage.db import get_engine, session_scope


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(get_engine(f"sqlite:///{tmp_path}/audit.db"))


def _consent(i: int) -> ConsentEvent:
    return ConsentEvent(action="use", license_id=f"L{i}", person="ada")


def test_append_joins_the_callers_transaction(log: AuditLog) -> None:
    session = Session(log.engine)
    entry = log.append(session, _consent(0), actor="cli")
    assert (entry.leaf_index, len(entry.event_id), len(entry.leaf_hash)) == (0, 32, 64)
    assert log.size() == 0  # nothing is visible before the caller commits
    session.commit()
    session.close()
    assert log.size() == 1
    assert log.get(entry.event_id).event == {"kind": "consent", "action": "use", "license_id": "L0",
                                             "person": "ada", "scope": None, "expires_at": None}


def test_rollback_leaves_no_gap(log: AuditLog) -> None:
    with session_scope(log.engine) as session:
        log.append(session, _consent(0))
    with pytest.raises(RuntimeError):
        with session_scope(log.engine) as session:
            log.append_many(session, [_consent(1), _consent(2)])
            raise RuntimeError("signing failed")
    with session_scope(log.engine) as session:
        entries = [log.append(session, _consent(i)) for i in (3, 4, 5)]
    assert [e.leaf_index for e in entries] == [1, 2, 3]
    assert log.verify().ok and log.size() == 4


def test_savepoint_rollback_then_append(log: AuditLog) -> None:
    """A rolled-back savepoint must not leave a stale cached frontier behind."""
    with session_scope(log.engine) as session:
        log.append(session, _consent(0))
        nested = session.begin_nested()
        log.append(session, _consent(1))
        nested.rollback()
        assert log.append(session, _consent(2)).leaf_index == 1
    assert log.verify().ok


def test_root_and_proofs_match_the_reference_tree(log: AuditLog) -> None:
    with session_scope(log.engine) as session:
        entries = log.append_many(session, [_consent(i) for i in range(77)])
    tree = merkle.MemoryTree()
    for e in entries:
        tree.append_hash(bytes.fromhex(e.leaf_hash))
    assert log.root() == tree.root().hex()
    for size in (1, 2, 31, 64, 77):
        assert log.root(size=size) == tree.root(size).hex()
    for e in entries[::7]:
        proof = log.prove(e.event_id)
        assert proof.verify() and proof.root == tree.root().hex()
        assert len(proof.path) <= math.ceil(math.log2(77))
        assert log.prove(e.event_id, size=77).path == tuple(p.hex() for p in tree.inclusion_proof(e.leaf_index))
    consistency = log.consistency(13, 77)
    assert consistency.verify() and consistency.old_root == tree.root(13).hex()


def test_prove_errors(log: AuditLog) -> None:
    with session_scope(log.engine) as session:
        entry = log.append(session, _consent(0))
        log.append(session, _consent(1))
    with pytest.raises(AuditError, match="no audit event"):
        log.prove("0" * 32)
    with pytest.raises(AuditError, match="outside the log"):
        log.prove(entry.event_id, size=9)
    assert log.prove(entry.event_id, size=1).path == ()


def test_unserialisable_payload_is_refused(log: AuditLog) -> None:
    event = OutputRegistryCheckEvent(content_id="c", outcome="clear", matches=[{"score": object()}])
    with session_scope(log.engine) as session:
        with pytest.raises(AuditError, match="not serialisable"):
            log.append(session, event)
        with pytest.raises(AuditError, match="not an audit event"):
            log.append(session, {"kind": "consent"})  # type: ignore[arg-type]
    assert log.size() == 0


def test_events_are_listed_by_time_and_kind(log: AuditLog) -> None:
    t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    decision = PolicyDecisionEvent(prompt_sha256="a" * 64, action="deny", category="csam", rule_id="r1",
                                   pack_digest="b" * 64, jurisdiction="eu")
    with session_scope(log.engine) as session:
        for day in range(10):
            log.append(session, decision if day % 2 else _consent(day), at=t0 + timedelta(days=day))
    listed = list(log.events(start=t0 + timedelta(days=2), end=t0 + timedelta(days=6), kinds=["policy.decision"]))
    assert [e.leaf_index for e in listed] == [3, 5]
    assert listed[0].recorded_at == t0 + timedelta(days=3) and listed[0].event["rule_id"] == "r1"


def test_api_has_no_update_or_delete_path() -> None:
    public = {name for name in dir(AuditLog) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "edit", "remove"))}


def test_read_only_database_is_a_storage_error(tmp_path: Path) -> None:
    """Opened read-only (as an auditor's copy would be), the log verifies but refuses appends."""
    path = tmp_path / "ro.db"
    with session_scope(get_engine(f"sqlite:///{path}")) as session:
        AuditLog(get_engine(f"sqlite:///{path}")).append(session, _consent(0))
    log = AuditLog(get_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
    assert log.verify().ok
    with pytest.raises(StorageError, match="readonly"):
        with session_scope(log.engine) as session:
            log.append(session, _consent(1))


def test_public_exports() -> None:
    import governance.records.audit as audit

    assert sorted(audit.__all__) == sorted(n for n in audit.__all__ if hasattr(audit, n))
    assert {"AuditLog", "VerifyResult", "InclusionProof", "Checkpoint"} <= set(audit.__all__)


events_strategy = st.one_of(
    st.builds(ConsentEvent, action=st.sampled_from(["grant", "use", "revoke"]), license_id=st.text(max_size=20),
              person=st.text(max_size=20), scope=st.none() | st.text(max_size=8)),
    st.builds(OutputRegistryCheckEvent, content_id=st.text(max_size=16), outcome=st.sampled_from(["clear", "blocked"]),
              matches=st.lists(st.dictionaries(st.text(max_size=6), st.integers(-1000, 1000) | st.text(max_size=8)
                                               | st.floats(-1e9, 1e9), max_size=3),  # JCS numbers are I-JSON doubles
                               max_size=2)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(events_strategy, min_size=1, max_size=5))
def test_events_round_trip_through_the_log(log: AuditLog, events) -> None:
    """Whatever an event holds, the stored bytes hash to the leaf and parse back to the same event."""
    with session_scope(log.engine) as session:
        entries = log.append_many(session, events)
    for event, entry in zip(events, entries):
        assert merkle.leaf_hash(entry.payload).hex() == entry.leaf_hash
        assert typed_event(log.get(entry.event_id)) == event
    assert log.verify().ok
