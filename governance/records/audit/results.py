"""What the audit log hands back: entries, proofs and the verification result (pure data)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from governance.records.audit import merkle

__all__ = [
    "LogEntry",
    "InclusionProof",
    "ConsistencyProof",
    "VerifyResult",
    "VerifyFailure",
    "WitnessCheck",
    "FailureCase",
    "parse_payload",
    "auth_tag",
    "utc",
    "iso",
]


def utc(ts: datetime) -> datetime:
    if ts.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def iso(ts: datetime) -> str:
    """``2026-10-01T07:12:33.123456Z`` (fixed width: verify compares it byte for byte)."""
    return utc(ts).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_payload(payload: bytes) -> dict[str, Any]:
    """The envelope stored in a leaf: ``{"v", "event_id", "recorded_at", "actor", "event"}``."""
    return json.loads(payload.decode("utf-8"))


def auth_tag(key: bytes, leaf_index: int, root_hex: str) -> str:
    """HMAC-SHA256 over ``"<leaf index>:<root hex>"``: the tree up to this leaf is ReelGuard's."""
    return hmac.new(key, f"{leaf_index}:{root_hex}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What ``append`` returns: where the event sits in the log and what was hashed."""

    leaf_index: int
    event_id: str
    kind: str
    actor: str
    recorded_at: datetime
    leaf_hash: str
    root_hash: str  # tree root right after this leaf
    payload: bytes  # the exact canonical bytes hashed into the leaf


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof of one event in the tree of ``tree_size`` leaves."""

    event_id: str
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root: str
    path: tuple[str, ...]

    def verify(self, root: str | None = None) -> bool:
        """Checks the proof against ``root`` (default: the root it was issued for)."""
        return merkle.verify_inclusion(
            bytes.fromhex(self.leaf_hash),
            self.leaf_index,
            self.tree_size,
            [bytes.fromhex(p) for p in self.path],
            bytes.fromhex(root or self.root),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash,
            "root": self.root,
            "path": list(self.path),
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    path: tuple[str, ...]

    def verify(self) -> bool:
        return merkle.verify_consistency(
            self.old_size,
            self.new_size,
            bytes.fromhex(self.old_root),
            bytes.fromhex(self.new_root),
            [bytes.fromhex(p) for p in self.path],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": self.old_root,
            "new_root": self.new_root,
            "path": list(self.path),
        }


FailureCase = Literal[
    "leaf-edited",
    "leaf-missing",
    "leaf-moved",
    "leaf-inserted",
    "log-truncated",
    "log-rewritten",
    "unauthenticated",
    "pruned-early",
    "checkpoint-invalid",
    "checkpoint-rollback",
    "database-damaged",
    "record-mismatch",
    "record-missing",
    "record-unlogged",
    "registry-mismatch",
    "registry-missing",
    "registry-unlogged",
]


@dataclass(frozen=True)
class VerifyFailure:
    """One thing ``verify`` found wrong: which case, and which leaf, event or row."""

    case: FailureCase
    detail: str
    leaf: int | None = None
    event_id: str | None = None
    row: str | None = None  # "generation_record#12 (content …)", "registry_work/<id>", a witness file

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WitnessCheck:
    """What the external checkpoint said. ``status``: consistent | none | failed | not-configured."""

    location: str | None
    status: Literal["consistent", "none", "failed", "not-configured"]
    source: str | None = None  # the file or URL of the checkpoint checked against
    size: int | None = None
    root: str | None = None
    notes_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a full recomputation. ``first_bad_*`` name the first leaf that does not match;
    ``failures`` lists every failure found, each with its case."""

    ok: bool
    size: int
    root: str
    first_bad_index: int | None = None
    first_bad_event_id: str | None = None
    reason: str = ""
    checkpoints_checked: int = 0
    pruned: int = 0
    failures: tuple[VerifyFailure, ...] = ()
    witness: WitnessCheck | None = None
    authenticated_size: int | None = None  # leaves covered by a valid authentication tag (None: not checked)
    records_checked: int = 0  # generation_record rows cross-checked against their events
    registry_works_checked: int = 0
    unverifiable_records: int = 0  # rows whose events were pruned by retention

    @property
    def case(self) -> str | None:
        return self.failures[0].case if self.failures else None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("failures", "witness")}
        out["case"] = self.case
        out["failures"] = [f.to_dict() for f in self.failures]
        out["witness"] = self.witness.to_dict() if self.witness else None
        return out
