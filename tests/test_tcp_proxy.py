"""The test proxy itself: passes bytes, stalls, cuts, counts."""

import asyncio

import asyncpg
import pytest

from tests.services import require_postgres
from tests.tcp_proxy import TcpProxy


async def test_proxy_passes_stalls_cuts() -> None:
    require_postgres()
    p = await TcpProxy("127.0.0.1", 5432).start()
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{p.port}/postgres")
    assert await conn.fetchval("select 1") == 1
    p.stall()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(conn.fetchval("select 2"), 0.5)
    p.resume()
    p.cut()
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{p.port}/postgres", timeout=2)
    p.resume()
    c2 = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{p.port}/postgres")
    assert await c2.fetchval("select 3") == 3
    assert p.connections >= 3  # asyncpg may knock twice (SSL, then plain)
    await c2.close()
    await p.close()
