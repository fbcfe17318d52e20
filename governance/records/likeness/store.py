"""LikenessStore: enrol, list and remove people; load the gallery of descriptors.

Enrolment is all or nothing: the flow describes every photo first (one face each, else a typed
error) and hands the store finished descriptors, which go in one transaction with their audit
event. Removal deletes the person's rows (descriptors and person) and appends a
``likeness.remove`` event in the same transaction: the right to erasure, with a record that it
was exercised and nothing biometric left behind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from governance.core.errors import ReelGuardError
from governance.records.audit import AuditLog
from governance.records.consent.models import as_utc
from governance.records.likeness.events import LikenessEnrolledEvent, LikenessRemovedEvent
from governance.records.likeness.models import LikenessDescriptor, LikenessKeyring, LikenessPerson
from governance.records.likeness.sealing import ENCRYPTED, Sealer, new_salt
from governance.records.storage.db import session_scope

__all__ = ["LikenessStore", "LikenessError", "PersonNotEnrolled", "EnrolledPerson", "GalleryRows"]

_ID = re.compile(r"^[a-z0-9][a-z0-9._\-]{0,199}$")


class LikenessError(ReelGuardError):
    """Bad likeness request: invalid person id, already enrolled, nothing to enrol."""

    exit_code = 19


class PersonNotEnrolled(LikenessError):
    exit_code = 19


@dataclass(frozen=True)
class EnrolledPerson:
    person_id: str
    name: str | None
    photos: int
    descriptors: int
    embedder: str
    created_at: datetime
    encrypted: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            "photos": self.photos,
            "descriptors": self.descriptors,
            "embedder": self.embedder,
            "created_at": self.created_at.isoformat(),
            "encrypted": self.encrypted,
        }


@dataclass(frozen=True)
class GalleryRows:
    """Opened descriptors: ``person_ids[i]`` owns ``descriptors[i]``; names by person id."""

    person_ids: tuple[str, ...]
    descriptors: np.ndarray
    names: dict[str, str | None]
    embedder: str | None


def check_person_id(value: str) -> str:
    value = (value or "").strip().lower()
    if not _ID.match(value):
        raise LikenessError(
            f"invalid person id {value!r}: use lower-case letters, digits, '.', '_' or '-' "
            "(the id consent licences use, e.g. jane-doe)"
        )
    return value


class LikenessStore:
    """Enrolled people and their sealed descriptors in the ReelGuard database."""

    def __init__(self, engine: Engine, *, passphrase: str | None = None, audit: AuditLog | None = None) -> None:
        self.engine = engine
        self.passphrase = passphrase
        self.audit = audit if audit is not None else AuditLog(engine)

    def _sealer(self, session: Session, *, create: bool = True) -> Sealer:
        """The sealer of this registry and passphrase, its check value verified; for new rows
        (``create``) the keyring is made on the first encrypted enrolment."""
        if not self.passphrase:
            return Sealer(None, None)
        ring = session.get(LikenessKeyring, 1)
        if ring is None and not create:
            return Sealer(None, None)
        if ring is None:
            salt = new_salt()
            sealer = Sealer(self.passphrase, salt)
            session.add(LikenessKeyring(id=1, salt_hex=salt, check=sealer.check_value()))
            session.flush()
            return sealer
        sealer = Sealer(self.passphrase, ring.salt_hex)
        sealer.verify_check(ring.check)
        return sealer

    def enroll(
        self,
        *,
        person_id: str,
        descriptors: Sequence[np.ndarray],
        embedder: str,
        name: str | None = None,
        actor: str = "cli",
    ) -> EnrolledPerson:
        """Store ``descriptors`` (one per photo) for a new person, with its audit event."""
        person_id = check_person_id(person_id)
        if not descriptors:
            raise LikenessError("nothing to enrol: give at least one photo showing the person's face")
        if name is not None and len(name) > 300:
            raise LikenessError("name is longer than 300 characters")
        with session_scope(self.engine) as session:
            if session.get(LikenessPerson, person_id) is not None:
                raise LikenessError(
                    f"{person_id} is already enrolled: `reelguard likeness remove {person_id}` first to enrol again"
                )
            sealer = self._sealer(session)
            person = LikenessPerson(
                person_id=person_id, name=name, embedder=embedder, photos=len(descriptors), enrolled_by=actor[:128]
            )
            session.add(person)
            session.flush()
            for vector in descriptors:
                session.add(LikenessDescriptor(person_id=person_id, sealed=sealer.seal(vector, person_id=person_id)))
            self.audit.append(
                session,
                LikenessEnrolledEvent(
                    person_id=person_id,
                    name=name,
                    photos=len(descriptors),
                    embedder=embedder,
                    encrypted=sealer.encrypts,
                ),
                actor=actor,
            )
            session.flush()
            return EnrolledPerson(
                person_id,
                name,
                len(descriptors),
                len(descriptors),
                embedder,
                as_utc(person.created_at),
                sealer.encrypts,
            )

    def remove(self, *, person_id: str, actor: str = "cli") -> int:
        """Erase a person's descriptors and row; returns how many descriptors were erased."""
        person_id = check_person_id(person_id)
        with session_scope(self.engine) as session:
            if session.get(LikenessPerson, person_id) is None:
                raise PersonNotEnrolled(f"{person_id} is not enrolled")
            erased = session.exec(
                select(func.count())
                .select_from(LikenessDescriptor)
                .where(col(LikenessDescriptor.person_id) == person_id)
            ).one()
            session.exec(delete(LikenessDescriptor).where(col(LikenessDescriptor.person_id) == person_id))
            session.exec(delete(LikenessPerson).where(col(LikenessPerson.person_id) == person_id))
            self.audit.append(
                session, LikenessRemovedEvent(person_id=person_id, descriptors_erased=int(erased)), actor=actor
            )
        return int(erased)

    def list(self) -> list[EnrolledPerson]:
        """Enrolled people, oldest first (descriptor counts, never the descriptors)."""
        with Session(self.engine) as session:
            counts = dict(
                session.exec(
                    select(LikenessDescriptor.person_id, func.count()).group_by(col(LikenessDescriptor.person_id))
                ).all()
            )
            rows = session.exec(select(LikenessPerson).order_by(col(LikenessPerson.created_at))).all()
            # sealed under the passphrase: read from the rows' framing, never by opening them
            sealed = session.exec(select(LikenessDescriptor.person_id, LikenessDescriptor.sealed)).all()
            encrypted = {pid for pid, blob in sealed if bytes(blob).startswith(ENCRYPTED)}
            return [
                EnrolledPerson(
                    r.person_id,
                    r.name,
                    r.photos,
                    int(counts.get(r.person_id, 0)),
                    r.embedder,
                    as_utc(r.created_at),
                    r.person_id in encrypted,
                )
                for r in rows
            ]

    def get(self, person_id: str) -> EnrolledPerson | None:
        return next((p for p in self.list() if p.person_id == person_id), None)

    def is_enrolled(self, person_ids: Sequence[str]) -> set[str]:
        """Which of ``person_ids`` are enrolled (a cheap look-up: no descriptor is opened)."""
        if not person_ids:
            return set()
        with Session(self.engine) as session:
            rows = session.exec(
                select(LikenessPerson.person_id).where(col(LikenessPerson.person_id).in_(list(person_ids)))
            ).all()
        return set(rows)

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(LikenessPerson)).one())

    def gallery(self, *, embedder: str) -> GalleryRows:
        """Every descriptor made by ``embedder``, opened (PassphraseError without the right key)."""
        with Session(self.engine) as session:
            people = {
                p.person_id: p
                for p in session.exec(select(LikenessPerson).where(col(LikenessPerson.embedder) == embedder)).all()
            }
            rows = session.exec(select(LikenessDescriptor).order_by(col(LikenessDescriptor.person_id))).all()
            rows = [r for r in rows if r.person_id in people]
            sealer = self._sealer(session, create=False)
            vectors = [sealer.open(r.sealed, person_id=r.person_id) for r in rows]
        matrix = np.stack(vectors) if vectors else np.zeros((0, 128), dtype=np.float32)
        return GalleryRows(
            tuple(r.person_id for r in rows), matrix, {pid: p.name for pid, p in people.items()}, embedder
        )
