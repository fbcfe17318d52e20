"""Concurrent writers (threads and processes, SQLite WAL and PostgreSQL) lose nothing.

The suite runs 8 writers x 1,000 events; the ``slow`` variant runs the issue's 8 x 10,000
(also run by ``benchmarks/bench_audit.py``).
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from governance.records.audit import AuditLog
from governance.records.audit.events import ConsentEvent
from governance.records.audit.models import AuditEntry
from governance.records.storage.db import get_engine, session_scope

WRITERS = 8
BATCH = 25


def write(url: str, writer: int, count: int, fresh_engine: bool = False) -> None:
    """One writer: mostly batches, some single-event transactions, some rollbacks."""
    if fresh_engine:  # a forked child must not share the parent's pooled connections
        get_engine.cache_clear()
    log = AuditLog(get_engine(url))
    done = 0
    while done < count:
        n = 1 if done % 200 == 0 else min(BATCH, count - done)
        events = [ConsentEvent(action="use", license_id=f"w{writer}-{done + i}", person="ada") for i in range(n)]
        if done % 500 == 0:  # a rolled-back transaction must leave no gap
            try:
                with session_scope(log.engine) as session:
                    log.append_many(session, events)
                    raise LookupError("abandon")
            except LookupError:
                pass
        with session_scope(log.engine) as session:
            log.append_many(session, events, actor=f"writer-{writer}")
        done += n


def _write_in_child(url: str, writer: int, count: int) -> None:
    write(url, writer, count, fresh_engine=True)


def run_writers(url: str, per_writer: int, mode: str) -> AuditLog:
    log = AuditLog(get_engine(url))
    if mode == "threads":
        workers = [threading.Thread(target=write, args=(url, w, per_writer)) for w in range(WRITERS)]
    else:
        ctx = multiprocessing.get_context("fork")
        get_engine(url).dispose()
        workers = [ctx.Process(target=_write_in_child, args=(url, w, per_writer)) for w in range(WRITERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    if mode == "processes":
        assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return log


def check(log: AuditLog, per_writer: int) -> None:
    total = WRITERS * per_writer
    result = log.verify()
    assert result.ok, result.reason
    assert result.size == log.size() == total
    with log.engine.connect() as conn:
        t = AuditEntry.__table__
        assert conn.execute(select(func.count(func.distinct(t.c.event_id)))).scalar_one() == total
        per_actor = dict(conn.execute(select(t.c.actor, func.count()).group_by(t.c.actor)).all())
    assert per_actor == {f"writer-{w}": per_writer for w in range(WRITERS)}
    last = log.prove(log.get_at(total - 1).event_id)
    assert last.verify() and last.root == result.root


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/audit.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_concurrent_writers(url: str, mode: str) -> None:
    check(run_writers(url, 1_000, mode), 1_000)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_concurrent_writers_full_scale(url: str, mode: str) -> None:
    check(run_writers(url, 10_000, mode), 10_000)
