"""Database engines and sessions: SQLite by default, PostgreSQL by URL.

Every table (generation records, audit log, registry, consent, API keys) is a SQLModel in one
metadata, migrated to the newest Alembic revision by ``init_db``. SQLite runs in WAL mode with a busy timeout so concurrent
writers queue instead of failing, and with ``synchronous=FULL``: every commit is fsynced to the WAL
before it returns, so a committed generation survives a crash or power cut (``NORMAL`` only syncs
at WAL checkpoints and may lose the last commits). The database file is created 0600 before
SQLite opens it; SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, and files
an older version left wider are narrowed on open. An unreachable database raises
``StorageError`` with the URL (password masked), never a stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine, text

from governance.core.errors import StorageError

__all__ = [
    "get_engine",
    "init_db",
    "session_scope",
    "masked_url",
    "is_sqlite",
    "secure_sqlite_files",
    "SQLITE_SYNCHRONOUS",
]

SQLITE_SYNCHRONOUS = "FULL"
DB_FILE_MODE = 0o600


def masked_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - driver callback
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    """One engine per URL per process; checks the connection once and creates the tables."""
    try:
        if is_sqlite(url):
            db_path = make_url(url).database
            if db_path and db_path != ":memory:" and not make_url(url).query.get("uri"):
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
                secure_sqlite_files(Path(db_path))
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, connect_args=_pg_connect_args(url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, SQLAlchemyError, OSError) as exc:
        get_engine.cache_clear()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise StorageError(f"database {masked_url(url)} is unreachable: {reason}") from exc
    init_db(engine)
    return engine


def secure_sqlite_files(db_path: Path) -> None:
    """Create the database file 0600 if missing; narrow it and its -wal/-shm/lock files to 0600.

    SQLite creates ``-wal`` and ``-shm`` with the database file's permissions, so creating the
    database file first (instead of letting SQLite create it under the umask) is what keeps them
    private. Files owned by someone else are left alone (chmod would fail anyway).
    """
    if str(db_path).startswith("file:"):
        return
    try:
        os.close(os.open(db_path, os.O_RDWR | os.O_CREAT, DB_FILE_MODE))
    except OSError:
        return  # read-only folder or similar: SQLite reports the real problem when it opens
    for suffix in ("", "-wal", "-shm", "-journal", ".migrate.lock"):
        path = db_path.with_name(db_path.name + suffix)
        try:
            st = path.stat()
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(path, DB_FILE_MODE)
        except OSError:
            continue


def _pg_connect_args(url: str) -> dict:
    return {"connect_timeout": 5} if url.startswith("postgresql") else {}


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (tables register on import)."""
    import governance.records.storage.models  # noqa: F401  (registers the table models)
    from governance.records.storage.migrate import upgrade_to_head

    try:
        upgrade_to_head(engine)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot migrate the schema of {masked_url(str(engine.url))}: {exc}") from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (one transaction)."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise StorageError(f"database error: {str(exc.orig).strip().splitlines()[0]}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
