"""Raw messages are compressed with lz4 on PostgreSQL (migration 0005): the cheaper
codec for the backend on every insert, same stored size on bounces."""

from __future__ import annotations

import sqlalchemy as sa

from returnpath.store.db import Store


async def test_raw_messages_use_lz4_on_postgresql(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        await store.create_schema()
        async with store.engine.connect() as conn:
            codec = (
                await conn.execute(
                    sa.text(
                        "SELECT attcompression::text FROM pg_attribute"
                        " WHERE attrelid = 'message'::regclass AND attname = 'raw'"
                    )
                )
            ).scalar_one()
        assert codec == "l"
    finally:
        await store.close()
