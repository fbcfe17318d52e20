"""ConsentRegistry: grant, revoke and look up likeness licences; register protected names.

It implements ``policies.ConsentLookup``, so the policy engine can ask it whether a person named
in a prompt licensed their likeness. Every grant and revocation writes a ``ConsentEvent`` to the
audit log in the same transaction as the row it describes.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from governance.core.errors import ReelGuardError
from governance.records.audit import AuditLog
from governance.records.audit.events import ConsentEvent
from governance.records.consent.models import (
    ConsentLicense,
    ConsentLicensePublic,
    ProtectedName,
    ProtectedNamePublic,
    as_utc,
)
from governance.records.storage.db import session_scope
from policies.schema import PackSource

__all__ = ["ConsentRegistry", "ConsentError", "scope_covers"]

_ID = re.compile(r"^[a-z0-9][a-z0-9._\-]{0,199}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SCOPE = re.compile(r"^(?:\*|[a-z0-9][a-z0-9._\-]*(?::[a-z0-9][a-z0-9._\-]*)*)$")


class ConsentError(ReelGuardError):
    """Bad consent request: unknown licence, already revoked, bad id, scope or expiry."""

    exit_code = 19


def scope_covers(granted: str, requested: str) -> bool:
    """``*`` covers everything; ``video`` covers ``video`` and ``video:ads``; nothing else."""
    return granted == "*" or requested == granted or requested.startswith(granted + ":")


def _public(row: ConsentLicense, now: datetime) -> ConsentLicensePublic:
    expires = as_utc(row.expires_at)
    active = row.revoked_at is None and (expires is None or expires > now)
    data = row.model_dump()
    data.update(expires_at=expires, created_at=as_utc(row.created_at), revoked_at=as_utc(row.revoked_at))
    return ConsentLicensePublic(**data, active=active)


class ConsentRegistry:
    """Likeness licences and protected names in the ReelGuard database."""

    def __init__(self, engine: Engine, *, audit: AuditLog | None = None, require_evidence: bool | None = None) -> None:
        self.engine = engine
        self.audit = audit if audit is not None else AuditLog(engine)
        # None: the ``consent_evidence_required`` setting decides, read at each grant.
        self.require_evidence = require_evidence

    def _evidence_required(self) -> bool:
        if self.require_evidence is not None:
            return self.require_evidence
        from governance.core.settings import get_settings

        return get_settings().consent_evidence_required

    # -- licences ------------------------------------------------------------------------
    def grant(
        self,
        *,
        person_id: str,
        granted_by: str,
        scope: str = "video",
        expires_at: datetime | None = None,
        person_name: str | None = None,
        note: str | None = None,
        actor: str = "cli",
        evidence_sha256: str | None = None,
    ) -> ConsentLicensePublic:
        """Record a licence for ``person_id``'s likeness; returns it with its new id.

        ``evidence_sha256``: the SHA-256 of the signed release the grant rests on (required when
        the ``consent_evidence_required`` setting is on)."""
        now = datetime.now(UTC)
        person_id = _check_id(person_id, "person id")
        if not _SCOPE.match(scope or ""):
            raise ConsentError(f"invalid scope {scope!r}: use '*', 'video' or 'video:SUBSCOPE'")
        if not granted_by or not granted_by.strip():
            raise ConsentError("granted_by is required: who (the person or their agent) grants this licence")
        expires = as_utc(expires_at)
        if expires is not None and expires <= now:
            raise ConsentError(f"expiry {expires.isoformat()} is in the past")
        if evidence_sha256 is not None and not _SHA256.match(evidence_sha256):
            raise ConsentError("evidence digest must be 64 lower-case hex characters (SHA-256)")
        if evidence_sha256 is None and self._evidence_required():
            raise ConsentError(
                "this install requires evidence for every licence: pass --evidence FILE "
                "(the signed release; its SHA-256 is recorded)"
            )
        row = ConsentLicense(
            person_id=person_id,
            person_name=person_name,
            granted_by=granted_by.strip(),
            scope=scope,
            expires_at=expires,
            note=note,
            created_at=now,
            evidence_sha256=evidence_sha256,
        )
        with session_scope(self.engine) as session:
            session.add(row)
            self.audit.append(
                session,
                ConsentEvent(
                    action="grant",
                    license_id=row.id,
                    person=person_id,
                    scope=scope,
                    expires_at=expires.isoformat() if expires else None,
                ),
                actor=actor,
            )
            session.flush()
            result = _public(row, now)
        return result

    def revoke(
        self, *, license_id: str, revoked_by: str, reason: str | None = None, actor: str = "cli"
    ) -> ConsentLicensePublic:
        """Revoke a licence from now on; prompts naming the person are refused again."""
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            row = session.get(ConsentLicense, license_id)
            if row is None:
                raise ConsentError(f"no licence with id {license_id!r}")
            if row.revoked_at is not None:
                raise ConsentError(f"licence {license_id} was already revoked at {as_utc(row.revoked_at).isoformat()}")
            row.revoked_at, row.revoked_by, row.revoke_reason = now, revoked_by, reason
            session.add(row)
            self.audit.append(
                session,
                ConsentEvent(action="revoke", license_id=row.id, person=row.person_id, scope=row.scope),
                actor=actor,
            )
            session.flush()
            result = _public(row, now)
        return result

    def list(self, *, person_id: str | None = None, include_inactive: bool = False) -> Sequence[ConsentLicensePublic]:
        """Licences, newest first; only active ones unless ``include_inactive``."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            query = select(ConsentLicense)
            if person_id is not None:
                query = query.where(ConsentLicense.person_id == person_id)
            rows = session.exec(query.order_by(col(ConsentLicense.created_at).desc())).all()
            out = [_public(row, now) for row in rows]
        return [lic for lic in out if include_inactive or lic.active]

    def find_license(self, person_id: str, *, scope: str, at: datetime) -> str | None:
        """``policies.ConsentLookup``: an active licence covering ``scope`` at ``at`` (newest wins)."""
        at = as_utc(at)
        with Session(self.engine) as session:
            rows = session.exec(
                select(ConsentLicense)
                .where(ConsentLicense.person_id == person_id)
                .order_by(col(ConsentLicense.created_at).desc())
            ).all()
        for row in rows:
            revoked, expires = as_utc(row.revoked_at), as_utc(row.expires_at)
            if revoked is not None and revoked <= at:
                continue
            if expires is not None and expires <= at:
                continue
            if as_utc(row.created_at) > at or not scope_covers(row.scope, scope):
                continue
            return row.id
        return None

    # -- protected names -----------------------------------------------------------------
    def register_names(
        self,
        *,
        subject_id: str,
        names: Sequence[str],
        owner: str,
        kind: str = "person",
        descriptions: Sequence[str] = (),
        work_id: str | None = None,
    ) -> ProtectedNamePublic:
        """Protect a private person's names (likeness, needs consent) or a work's (refused)."""
        subject_id = _check_id(subject_id, "subject id")
        if kind not in ("person", "work"):
            raise ConsentError(f"kind must be 'person' or 'work', not {kind!r}")
        clean = [n.strip() for n in names if n and n.strip()]
        if not clean:
            raise ConsentError("give at least one name to protect")
        row = ProtectedName(
            subject_id=subject_id,
            kind=kind,
            owner=owner,
            names=clean,
            descriptions=[d.strip() for d in descriptions if d.strip()],
            work_id=work_id,
        )
        with session_scope(self.engine) as session:
            session.add(row)
            session.flush()
            result = ProtectedNamePublic.model_validate(row, from_attributes=True)
        return result

    # ``builtins.list``: in this class body ``list`` is the method above.
    def protected_names(self) -> builtins.list[ProtectedNamePublic]:
        with Session(self.engine) as session:
            rows = session.exec(select(ProtectedName).order_by(col(ProtectedName.created_at))).all()
            return [ProtectedNamePublic.model_validate(r, from_attributes=True) for r in rows]

    def protected_pack(self) -> PackSource:
        """The registered names as a policy pack, for ``PolicyEngine.load(extra_packs=...)``."""
        people: builtins.list[dict[str, object]] = []
        works: builtins.list[dict[str, object]] = []
        for entry in self.protected_names():
            entity: dict[str, object] = {"id": entry.subject_id, "names": list(entry.names)}
            if entry.descriptions:
                entity["descriptions"] = list(entry.descriptions)
            (people if entry.kind == "person" else works).append(entity)
        rules = []
        if people:
            rules.append(
                {
                    "id": "registry.persons",
                    "category": "likeness-public-figure",
                    "description": "Likeness of a person registered in the consent registry",
                    "entities": people,
                }
            )
        if works:
            rules.append(
                {
                    "id": "registry.works",
                    "category": "protected-character",
                    "description": "Work registered by its rights holder",
                    "entities": works,
                }
            )
        pack = {"pack": "consent-registry", "version": str(len(people) + len(works)), "rules": rules}
        return PackSource("registry:protected-names", yaml.safe_dump(pack, allow_unicode=True, sort_keys=False))


def _check_id(value: str, what: str) -> str:
    value = (value or "").strip().lower()
    if not _ID.match(value):
        raise ConsentError(f"invalid {what} {value!r}: use lower-case letters, digits, '.', '_' or '-'")
    return value
