"""Alembic environment: runs on the connection the store hands it (see store.db.Store.migrate)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

from returnpath.store import models  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """An index the models declare for one dialect only (``ddl_if``) exists only there."""
    ddl_if = getattr(obj, "_ddl_if", None)
    if type_ == "index" and not reflected and ddl_if is not None and ddl_if.dialect:
        return bool(ddl_if.dialect == connection.dialect.name)
    return True


context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode rebuilds tables
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
