"""API keys: ``rg_<key_id>_<secret>`` tokens, stored as SHA-256 of the secret, one role each.

The key id is a public prefix (shown in listings and logs); the secret never is. The secret
has 256 bits of entropy, so a plain SHA-256 (no slow KDF) is enough, and the comparison is
constant-time. ``admin`` passes every role check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from governance.records.apikeys import ApiKey, ApiKeyCreate, Role

__all__ = [
    "Principal",
    "PUBLIC_ACTOR",
    "anonymous_principal",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
    "authenticate",
    "hash_secret",
    "TOKEN_PREFIX",
]

TOKEN_PREFIX = "rg"
_TOKEN_RE = re.compile(r"^rg_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is advisory; don't write on every request


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as routes see it (or the anonymous public verifier)."""

    key_id: str
    role: Role
    owner: str | None = None
    name: str | None = None
    anonymous: bool = False

    @property
    def key_ref(self) -> str:
        return f"apikey:{self.key_id}"

    @property
    def actor(self) -> str:
        """Who acted, as the audit log records it: the key's holder (its owner for rights
        holders, else its name) with the key id, so a person is named and the key traceable."""
        if self.anonymous:
            return PUBLIC_ACTOR
        who = (self.owner or self.name or "").strip()
        return f"{who[:96]} ({self.key_ref})" if who else self.key_ref

    def owns(self, actor: str) -> bool:
        """Whether ``actor`` (a job's submitter) is this key, in the current or the older form."""
        return actor in (self.actor, self.key_ref)


PUBLIC_ACTOR = "public"  # anonymous verification: no client address is recorded


def anonymous_principal() -> Principal:
    return Principal(key_id="public", role=Role.verifier, anonymous=True)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_api_key(*, session: Session, key_in: ApiKeyCreate) -> tuple[ApiKey, str]:
    """A new key and its token (the token is returned once and never stored)."""
    role = Role(key_in.role)
    if role is Role.rights_holder and not (key_in.owner or "").strip():
        raise ValueError("a rights-holder key needs --owner (the owner name its works are registered under)")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        key_id=key_id,
        name=key_in.name,
        role=role,
        owner=(key_in.owner or None),
        secret_sha256=hash_secret(secret),
    )
    session.add(key)
    session.flush()
    return key, f"{TOKEN_PREFIX}_{key_id}_{secret}"


def list_api_keys(*, session: Session, include_revoked: bool = True) -> list[ApiKey]:
    query = select(ApiKey).order_by(col(ApiKey.created_at))
    if not include_revoked:
        query = query.where(col(ApiKey.revoked_at).is_(None))
    return list(session.exec(query))


def revoke_api_key(*, session: Session, key_id: str) -> ApiKey | None:
    key = session.get(ApiKey, key_id)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.add(key)
    return key


def authenticate(*, session: Session, token: str | None) -> Principal | None:
    """The principal for ``token``, or None (malformed, unknown, wrong secret or revoked)."""
    match = _TOKEN_RE.match(token or "")
    if match is None:
        return None
    key_id, secret = match.groups()
    key = session.get(ApiKey, key_id)
    # Hash anyway when the id is unknown, so timing does not tell ids apart.
    expected = key.secret_sha256 if key is not None else "0" * 64
    if not hmac.compare_digest(hash_secret(secret), expected) or key is None or key.revoked_at is not None:
        return None
    now = datetime.now(UTC)
    last = key.last_used_at
    if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < now - _TOUCH_EVERY:
        key.last_used_at = now
        session.add(key)
    return Principal(key_id=key.key_id, role=Role(key.role), owner=key.owner, name=key.name)
