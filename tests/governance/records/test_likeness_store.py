"""The likeness store: all-or-nothing enrolment, erasure, sealing at rest, audit without biometrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import Session, select

from governance.core.errors import PassphraseError
from governance.records.audit.models import AuditEntry
from governance.records.likeness import (
    LikenessDescriptor,
    LikenessError,
    LikenessPerson,
    LikenessStore,
    PersonNotEnrolled,
)
from governance.records.storage.db import get_engine

EMBEDDER = "dlib-resnet-v1"


@pytest.fixture
def engine(tmp_path):
    return get_engine(f"sqlite:///{tmp_path / 'likeness.db'}")


def vectors(n: int, seed: int = 0) -> list[np.ndarray]:
    return list(np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32))


def events(engine) -> list[dict]:
    with Session(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.leaf_index)).all()
        return [json.loads(r.payload)["event"] for r in rows]


def rows(engine, model) -> list:
    with Session(engine) as session:
        return list(session.exec(select(model)).all())


def test_enrol_list_remove_erases_the_descriptors_and_audits_only_the_fact(engine):
    store = LikenessStore(engine)
    person = store.enroll(person_id="Jane-Doe", descriptors=vectors(3), embedder=EMBEDDER, name="Jane Doe")
    assert (person.person_id, person.photos, person.encrypted) == ("jane-doe", 3, False)
    assert [p.person_id for p in store.list()] == ["jane-doe"] and store.list()[0].descriptors == 3
    assert store.is_enrolled(["jane-doe", "john-roe"]) == {"jane-doe"}
    gallery = store.gallery(embedder=EMBEDDER)
    assert gallery.person_ids == ("jane-doe",) * 3 and np.allclose(
        np.sort(gallery.descriptors, axis=0), np.sort(np.stack(vectors(3)), axis=0)
    )
    assert store.remove(person_id="jane-doe") == 3
    assert rows(engine, LikenessDescriptor) == [] and rows(engine, LikenessPerson) == []
    assert store.list() == [] and store.gallery(embedder=EMBEDDER).descriptors.shape == (0, 128)
    log = events(engine)
    assert [e["kind"] for e in log] == ["likeness.enroll", "likeness.remove"]
    assert log[1] == {"kind": "likeness.remove", "person_id": "jane-doe", "descriptors_erased": 3}
    assert set(log[0]) == {"kind", "person_id", "name", "photos", "embedder", "encrypted"}  # no descriptor


def test_bad_requests_enrol_nothing(engine):
    store = LikenessStore(engine)
    with pytest.raises(LikenessError, match="invalid person id"):
        store.enroll(person_id="Jane Doe!", descriptors=vectors(1), embedder=EMBEDDER)
    with pytest.raises(LikenessError, match="nothing to enrol"):
        store.enroll(person_id="jane", descriptors=[], embedder=EMBEDDER)
    store.enroll(person_id="jane", descriptors=vectors(1), embedder=EMBEDDER)
    with pytest.raises(LikenessError, match="already enrolled"):
        store.enroll(person_id="jane", descriptors=vectors(2, seed=1), embedder=EMBEDDER)
    with pytest.raises(PersonNotEnrolled):
        store.remove(person_id="nobody")
    assert len(rows(engine, LikenessDescriptor)) == 1
    assert [e["kind"] for e in events(engine)] == ["likeness.enroll"]


def test_descriptors_are_encrypted_with_the_passphrase_and_need_it(engine):
    store = LikenessStore(engine, passphrase="correct horse")
    mine = vectors(2, seed=5)
    assert store.enroll(person_id="jane", descriptors=mine, embedder=EMBEDDER).encrypted
    for row in rows(engine, LikenessDescriptor):
        assert row.sealed.startswith(b"RGD1E")
        assert all(v.tobytes() not in row.sealed for v in mine)
    opened = LikenessStore(engine, passphrase="correct horse").gallery(embedder=EMBEDDER).descriptors
    assert np.allclose(np.sort(opened, axis=0), np.sort(np.stack(mine), axis=0))
    with pytest.raises(PassphraseError, match="wrong passphrase"):
        LikenessStore(engine, passphrase="wrong").gallery(embedder=EMBEDDER)
    with pytest.raises(PassphraseError, match="encrypted"):
        LikenessStore(engine).gallery(embedder=EMBEDDER)
    with pytest.raises(PassphraseError, match="wrong passphrase"):
        LikenessStore(engine, passphrase="wrong").enroll(person_id="john", descriptors=vectors(1), embedder=EMBEDDER)
    assert [(p.person_id, p.encrypted) for p in LikenessStore(engine).list()] == [("jane", True)]


def test_a_sealed_row_moved_to_another_person_does_not_open(engine):
    from governance.core.errors import StorageError
    from governance.records.storage.db import session_scope

    store = LikenessStore(engine, passphrase="pw")
    store.enroll(person_id="jane", descriptors=vectors(1), embedder=EMBEDDER)
    store.enroll(person_id="john", descriptors=vectors(1, seed=2), embedder=EMBEDDER)
    with session_scope(engine) as session:
        row = session.exec(select(LikenessDescriptor).where(LikenessDescriptor.person_id == "jane")).one()
        row.person_id = "john"
        session.add(row)
    with pytest.raises(StorageError, match="does not open"):
        store.gallery(embedder=EMBEDDER)


def test_other_embedders_descriptors_are_not_mixed_in(engine):
    store = LikenessStore(engine)
    store.enroll(person_id="jane", descriptors=vectors(1), embedder=EMBEDDER)
    store.enroll(person_id="john", descriptors=vectors(1), embedder="another-model")
    assert store.gallery(embedder=EMBEDDER).person_ids == ("jane",)
