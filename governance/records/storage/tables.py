"""The SQLAlchemy ``Table`` behind a SQLModel table class, typed.

SQLModel sets ``__table__`` on ``table=True`` classes at class creation, but declares it nowhere,
so a type checker sees no such attribute. Core statements (bulk inserts, locked updates, raw
selects) go through ``table_of(Model)`` instead of ``Model.__table__``.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel

__all__ = ["table_of"]


def table_of(model: type[SQLModel]) -> Table:
    """``model.__table__``; ``TypeError`` for a model that is not a table (no ``table=True``)."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model: declare it with `table=True`")
    return table
