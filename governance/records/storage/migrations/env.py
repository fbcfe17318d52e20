"""Alembic environment: the schema is SQLModel.metadata with every table model registered."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import governance.records.storage.models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from governance.records.storage.db import get_engine

        connection = get_engine(config.get_main_option("sqlalchemy.url")).connect()
    # SQLite cannot ALTER most things in place: batch mode rebuilds tables when needed.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
