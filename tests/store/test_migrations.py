"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection

from returnpath.store.db import Store, alembic_config


def _check(connection: Connection) -> None:
    # Raises if autogenerate finds any difference between the migrated database and the models.
    command.check(alembic_config(connection))


async def test_migrations_match_the_models(database_url: str) -> None:
    store = Store(database_url)
    try:
        await store.create_schema()
        await store.create_schema()  # idempotent: a restart migrates nothing
        async with store.engine.connect() as conn:
            await conn.run_sync(_check)
    finally:
        await store.close()
