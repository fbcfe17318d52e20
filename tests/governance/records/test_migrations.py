"""Alembic migrations stay in step with the SQLModel tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from governance.records.storage.db import get_engine
from governance.records.storage.migrate import current_revision, head_revision


def _assert_schema_matches_models(url: str) -> None:
    engine = get_engine(url)
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "models changed without a migration: run alembic revision --autogenerate"


def test_sqlite_schema_is_at_head_and_matches_models(tmp_path):
    _assert_schema_matches_models(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_concurrent_first_opens_migrate_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    errors: list[BaseException] = []

    def open_db() -> None:
        try:
            from governance.records.storage.db import init_db
            from sqlmodel import create_engine

            init_db(create_engine(url))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_db) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_schema_matches_models(url)


@pytest.mark.postgres
def test_postgresql_schema_is_at_head_and_matches_models(pg_url):
    _assert_schema_matches_models(pg_url)
