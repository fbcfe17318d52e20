"""Schema migrations (Alembic) run on first connection, safely under concurrent starters.

The revisions live in ``governance/records/storage/migrations/versions`` (package data, found through
importlib.resources). Two processes opening a fresh database at once must not both create the
tables: PostgreSQL serialises them with an advisory lock, SQLite with a lock file beside the
database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

__all__ = ["alembic_config", "upgrade_to_head", "current_revision", "head_revision"]

_PG_LOCK_ID = 0x5245454C  # "REEL"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("governance.records.storage.migrations")))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _sqlite_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    with open(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    head = head_revision(engine)
    if head is not None and current_revision(engine) == head:
        return
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return
    with _sqlite_lock(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
