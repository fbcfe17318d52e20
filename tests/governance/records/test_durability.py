"""Durability: a writer killed mid-commit, a lost WAL, a power cut (issue #20).

A subprocess appends events in a loop, one small transaction at a time, and prints the log size
after each commit returns. We kill it (-9) at random moments, stop it and copy the database files
(a power cut: what is on disk at one instant), copy them while it runs (a torn copy), and delete
the WAL. Committed work must survive; where it cannot (a lost WAL, a torn copy), ``verify``
against the witness checkpoint must say so and name the case.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from governance.core.errors import StorageError
from governance.core.settings import Settings
from governance.records.audit import AuditLog
from governance.records.storage.db import get_engine

WRITER = textwrap.dedent("""
    import random, sys
    from governance.core.settings import Settings
    from governance.records.audit import AuditLog
    from governance.records.audit.events import ConsentEvent
    from governance.records.storage.db import get_engine, session_scope

    settings = Settings()
    log = AuditLog(get_engine(settings.resolved_database_url), settings=settings)
    rng = random.Random()
    out = open(sys.argv[1], "a", buffering=1)
    print("ready", file=out)
    while True:
        with session_scope(log.engine) as session:
            entries = log.append_many(session, [ConsentEvent(action="use", license_id=f"L{rng.random()}", person="ada")
                                                for _ in range(rng.randint(1, 6))])
        print(entries[-1].leaf_index + 1, file=out)  # only after the commit returned
""")

ACCEPTED_LOSS = {"log-truncated", "log-rewritten", "leaf-missing", "leaf-moved", "leaf-edited", "database-damaged"}
NUMBERS: Counter = Counter()


def _settings(home: Path, url: str | None = None, **extra) -> Settings:
    return Settings(home=home, database_url=url, audit_checkpoint_every_events=25, audit_checkpoint_every_minutes=0,
                    **extra)


def _env(home: Path, url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_HOME=str(home), REELGUARD_AUDIT_CHECKPOINT_EVERY_EVENTS="25",
               REELGUARD_AUDIT_CHECKPOINT_EVERY_MINUTES="0", PYTHONPATH=str(Path.cwd()))
    if url:
        env["REELGUARD_DATABASE_URL"] = url
    return env


def _start(home: Path, url: str | None, out: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], env=_env(home, url))
    deadline = time.monotonic() + 60
    while not (out.exists() and "ready" in out.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"writer did not start (exit {proc.returncode})")
        time.sleep(0.05)
    return proc


def _committed(out: Path) -> int:
    lines = [line for line in out.read_text().splitlines() if line.isdigit()]
    return int(lines[-1]) if lines else 0


def _verify(settings: Settings):
    """(result or None, case) of the database the settings point at; damage is a named failure."""
    try:
        get_engine.cache_clear()
        log = AuditLog(get_engine(settings.resolved_database_url), settings=settings)
        result = log.verify()
    except StorageError as exc:
        return None, f"database-damaged: {exc}"
    finally:
        get_engine.cache_clear()
    return result, result.case


def _copy_view(src_home: Path, dst: Path, *, wal: bool, witness_first: bool = True) -> Settings:
    """A copy of the database files (and the witness, taken first) as another home to open."""
    dst.mkdir(parents=True)
    if witness_first:  # the published notes only (temp files of a publish in flight come and go)
        for note in [src_home / "witness" / "checkpoint", *sorted((src_home / "witness" / "checkpoints").glob("[0-9]*"))]:
            target = dst / "witness" / note.relative_to(src_home / "witness")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(note, target)
            except FileNotFoundError:
                continue
    for suffix in ("", "-wal", "-shm") if wal else ("",):
        path = src_home / f"reelguard.db{suffix}"
        if path.exists():
            shutil.copyfile(path, dst / path.name)
    return _settings(dst, key_dir=src_home / "keys")


def _witness_size(home: Path) -> int:
    from governance.records.audit.checkpoint import Checkpoint

    path = home / "witness" / "checkpoint"
    return Checkpoint.parse(path.read_bytes()).size if path.exists() else 0


def _classify(result, case, *, at_least: int, label: str) -> str:
    if result is not None and result.ok:
        assert result.size >= at_least, f"{label}: verified but holds {result.size} < {at_least} covered events"
        return "survived"
    assert case is not None and case.split(":")[0] in ACCEPTED_LOSS, f"{label}: failure not named: {case}"
    return "detected:" + case.split(":")[0]


def test_kill_9_mid_commit_and_lost_wal(tmp_path: Path) -> None:
    """Killed at random moments: every reported commit survives; with the WAL deleted too, all
    that the witness covers survives or the loss is named."""
    home, out = tmp_path / "home", tmp_path / "writer.out"
    rng = random.Random(20)
    for round_ in range(5):
        proc = _start(home, None, out)
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed = _committed(out)
        # The WAL is lost: look at the main file alone (in a copy, so later rounds go on).
        lost = _copy_view(home, tmp_path / f"nowal{round_}", wal=False)
        result, case = _verify(lost)
        outcome = _classify(result, case, at_least=_witness_size(lost.home), label="lost WAL")
        NUMBERS["wal-lost " + outcome] += 1
        if outcome == "survived":  # commits after the last checkpoint: gone without a trace (the window)
            NUMBERS["wal-lost uncovered events lost"] += max(0, committed - result.size)
        # The crash alone loses nothing that was committed.
        result, case = _verify(_settings(home))
        assert result is not None and result.ok, case
        assert result.size >= committed and result.witness.status == "consistent"
        NUMBERS["kill-9 rounds"] += 1
        NUMBERS["kill-9 commits checked"] = committed
    assert NUMBERS["kill-9 rounds"] >= 5


def test_power_cut_copies(tmp_path: Path) -> None:
    """The files copied at an instant (writer stopped) keep every commit; copied while it runs,
    they keep what the witness covers or the damage is named."""
    home, out = tmp_path / "home", tmp_path / "writer.out"
    rng = random.Random(21)
    proc = _start(home, None, out)
    try:
        for i in range(10):
            time.sleep(rng.uniform(0.1, 0.5))
            if i % 2 == 0:  # a power cut: everything on disk at one instant
                os.kill(proc.pid, signal.SIGSTOP)
                try:
                    committed = _committed(out)
                    view = _copy_view(home, tmp_path / f"cut{i}", wal=True)
                finally:
                    os.kill(proc.pid, signal.SIGCONT)
                result, case = _verify(view)
                assert result is not None and result.ok, case
                assert result.size >= committed, f"power cut lost commits: {result.size} < {committed}"
                NUMBERS["power-cut survived"] += 1
            else:  # a torn copy (files copied one after the other while the writer runs)
                covered = _witness_size(home)
                view = _copy_view(home, tmp_path / f"torn{i}", wal=True)
                result, case = _verify(view)
                NUMBERS["torn-copy " + _classify(result, case, at_least=covered, label="torn copy")] += 1
    finally:
        proc.kill()
        proc.wait()
    assert NUMBERS["power-cut survived"] == 5


@pytest.mark.postgres
def test_kill_9_mid_commit_postgres(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL: every commit the writer saw return survives a kill -9 of the writer."""
    home, out = tmp_path / "home", tmp_path / "writer.out"
    rng = random.Random(22)
    for _ in range(3):
        proc = _start(home, pg_url, out)
        time.sleep(rng.uniform(0.3, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed = _committed(out)
        result, case = _verify(_settings(home, pg_url))
        assert result is not None and result.ok, case
        assert result.size >= committed and result.witness.status == "consistent"


def test_database_files_are_private(tmp_path: Path) -> None:
    """reelguard.db, -wal and -shm are 0600 whatever the umask; an old 0644 file is narrowed."""
    old = os.umask(0o022)
    try:
        settings = _settings(tmp_path / "home")
        log = AuditLog(get_engine(settings.resolved_database_url), settings=settings)
        from governance.records.audit.events import ConsentEvent
        from governance.records.storage.db import session_scope

        with session_scope(log.engine) as session:
            log.append(session, ConsentEvent(action="use", license_id="L", person="ada"))
        for suffix in ("", "-wal", "-shm"):
            path = settings.home / f"reelguard.db{suffix}"
            assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600", path
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        legacy = tmp_path / "legacy.db"
        legacy.touch(mode=0o644)
        os.chmod(legacy, 0o644)
        get_engine(f"sqlite:///{legacy}")
        assert oct(legacy.stat().st_mode & 0o777) == "0o600"
    finally:
        os.umask(old)
        get_engine.cache_clear()


def teardown_module() -> None:
    print("\ndurability numbers:", dict(sorted(NUMBERS.items())))
