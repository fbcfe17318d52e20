"""What an append keeps on the caller's session for the rest of its transaction.

Two pieces of per-transaction state, both stored in ``Session.info`` and cleared by session
events: the Merkle frontier (so a run of appends in one transaction reads the subtree hashes
once) and the leaf range appended, which the log's automatic checkpoints sign after the commit
(never before: a rolled-back append must not end up in a signed checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection
from sqlmodel import Session

from governance.records.audit import merkle
from governance.records.audit.rows import fetch_nodes

if TYPE_CHECKING:  # pragma: no cover
    from governance.records.audit.log import AuditLog

__all__ = ["Frontier", "note_pending", "session_frontier"]

_STATE_KEY = "reelguard.audit.frontier"
_PENDING_KEY = "reelguard.audit.pending"  # (log, first leaf, end) appended in this transaction


@dataclass
class Frontier:
    """Hashes of the complete subtrees covering D[0:size], largest first."""

    size: int
    levels: list[int] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)

    def push(self, h: bytes) -> bytes:
        """Adds a leaf hash; returns the concatenated hashes of the subtrees it completes."""
        index, level, closed = self.size, 0, []
        while index & 1:
            self.levels.pop()
            h = merkle.node_hash(self.hashes.pop(), h)
            closed.append(h)
            level, index = level + 1, index >> 1
        self.levels.append(level)
        self.hashes.append(h)
        self.size += 1
        return b"".join(closed)

    def root(self) -> bytes:
        return merkle.root_from_compact(self.hashes)


def session_frontier(session: Session, conn: Connection, size: int) -> Frontier:
    """The compact range at ``size``, cached on the session for the rest of its transaction."""
    cached = session.info.get(_STATE_KEY)
    if isinstance(cached, Frontier) and cached.size == size:
        return cached
    if not session.info.get(_STATE_KEY + ".hooked"):
        sa_event.listen(session, "after_transaction_end", _forget_frontier)
        session.info[_STATE_KEY + ".hooked"] = True
    keys = merkle.compact_range(size)
    nodes = fetch_nodes(conn, keys)
    frontier = Frontier(size, [k[0] for k in keys], [nodes[k] for k in keys])
    session.info[_STATE_KEY] = frontier
    return frontier


def note_pending(session: Session, log: AuditLog, start: int, end: int) -> None:
    """Remember what this transaction appended; the checkpoint check runs after its commit."""
    pending = session.info.get(_PENDING_KEY)
    if pending is not None and pending[0] is log:
        start = min(start, pending[1])
        end = max(end, pending[2])
    session.info[_PENDING_KEY] = (log, start, end)
    if not session.info.get(_PENDING_KEY + ".hooked"):
        sa_event.listen(session, "after_commit", _after_commit)
        sa_event.listen(session, "after_rollback", _after_rollback)
        session.info[_PENDING_KEY + ".hooked"] = True


def _forget_frontier(session: Session, _transaction: Any) -> None:
    session.info.pop(_STATE_KEY, None)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is not None and pending[0].auto_checkpoints is not None:
        log, start, end = pending
        log.auto_checkpoints.after_commit(log, start, end)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
