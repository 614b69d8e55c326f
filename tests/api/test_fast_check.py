"""The single-address check's fast path (api.fast_check) answers as FastAPI would.

Every request is sent twice, to the FastAPI application alone and to it
behind ``FastCheck``, over one real SQLite file; status, headers and body
must be the same bytes. The inner application counts the requests it is
handed, which shows which ones the fast path answered itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from returnpath.api.deps import AppState
from returnpath.api.fast_check import FastCheck
from returnpath.api.main import create_app
from returnpath.store import suppressions
from returnpath.store.db import Store
from returnpath.store.keys import create_key, revoke_key
from returnpath.store.tenants import ensure_tenant
from tests.conftest import ADMIN_KEY


class Counting:
    """The FastAPI application, counting what reaches it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
async def apps(
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Counting, dict[str, str]]]:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'rp.db'}")
    await store.create_schema()
    default = await ensure_tenant(store, "default", ["bounces.example.com"])
    await ensure_tenant(store, "other", ["other.example.com"])
    keys = {
        "read": (await create_key(store, "default", read_only=True))[1],
        "other": (await create_key(store, "other"))[1],
    }
    revoked, keys["revoked"] = await create_key(store, "default")
    await revoke_key(store, revoked.id)
    later = datetime.now(UTC) + timedelta(days=3)
    for address, stream, expires in [
        ("gone@example.com", "", None),
        ("gone@example.com", "marketing", later),
        ("promo@example.com", "marketing", None),
    ]:
        await suppressions.put(
            store,
            default.id,
            address,
            kind="manual",
            reason="asked",
            stream=stream,
            expires_at=expires,
            note='a "note"',
            actor="test",
        )
    state = AppState(store, ADMIN_KEY, default.id, "default")
    plain = create_app(state)
    inner = Counting(create_app(state))
    fast = FastCheck(inner, state)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://api") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url="http://api") as b,
    ):
        yield a, b, inner, keys
    await store.close()


def _auth(keys: dict[str, str], who: str) -> dict[str, str]:
    return {
        "admin": {"Authorization": f"Bearer {ADMIN_KEY}"},
        "lower": {"Authorization": f"bearer {ADMIN_KEY}"},
        "read": {"Authorization": f"Bearer {keys['read']}"},
        "other": {"Authorization": f"Bearer {keys['other']}"},
        "revoked": {"Authorization": f"Bearer {keys['revoked']}"},
        "wrong": {"Authorization": "Bearer not-a-key"},
        "basic": {"Authorization": f"Basic {ADMIN_KEY}"},
        "bare": {"Authorization": "Bearer"},
        "none": {},
    }[who]


# (path, who, expected status, answered by the fast path)
CASES = [
    ("/v1/suppressions/gone@example.com", "admin", 200, True),
    ("/v1/suppressions/gone@example.com", "lower", 200, True),
    ("/v1/suppressions/gone@example.com", "read", 200, True),
    ("/v1/suppressions/Gone@EXAMPLE.com", "read", 200, True),  # normalised
    ("/v1/suppressions/%3Cgone@example.com%3E", "read", 200, True),  # angle brackets
    ("/v1/suppressions/gone%40example.com", "read", 200, True),  # percent-encoded @
    ("/v1/suppressions/gone@example.com?stream=transactional", "read", 200, True),
    ("/v1/suppressions/promo@example.com?stream=transactional", "read", 404, True),
    ("/v1/suppressions/promo@example.com?stream=marketing", "read", 200, True),
    ("/v1/suppressions/promo@example.com?stream=", "read", 404, True),
    ("/v1/suppressions/never@example.com", "read", 404, True),
    ("/v1/suppressions/gone@example.com", "other", 404, True),  # another tenant's: not found
    ("/v1/suppressions/gone@example.com", "none", 401, False),
    ("/v1/suppressions/gone@example.com", "wrong", 401, False),
    ("/v1/suppressions/gone@example.com", "revoked", 401, False),
    ("/v1/suppressions/gone@example.com", "basic", 401, False),
    ("/v1/suppressions/gone@example.com", "bare", 401, False),
    ("/v1/suppressions/a@", "read", 422, False),  # not an address
    ("/v1/suppressions/x@" + "a" * 400 + ".com", "read", 422, False),
    ("/v1/suppressions/gone@example.com?stream=a&stream=b", "read", 200, False),
    ("/v1/suppressions/gone@example.com?other=1", "read", 200, False),
    ("/v1/suppressions/export", "read", 200, False),  # another route
    ("/v1/suppressions", "read", 200, False),
]


@pytest.mark.parametrize(("path", "who", "status", "fast"), CASES)
async def test_the_fast_path_answers_as_fastapi_does(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Counting, dict[str, str]],
    path: str,
    who: str,
    status: int,
    fast: bool,
) -> None:
    plain, wrapped, inner, keys = apps
    headers = _auth(keys, who)
    expected = await plain.get(path, headers=headers)
    before = inner.calls
    got = await wrapped.get(path, headers=headers)
    assert expected.status_code == status
    assert (got.status_code, got.headers.raw, got.content) == (
        expected.status_code,
        expected.headers.raw,
        expected.content,
    )
    assert (inner.calls == before) is fast


async def test_a_get_with_a_body_goes_to_fastapi(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Counting, dict[str, str]],
) -> None:
    _, wrapped, inner, keys = apps
    before = inner.calls
    r = await wrapped.request(
        "GET", "/v1/suppressions/gone@example.com", content=b"x" * 10, headers=_auth(keys, "read")
    )
    assert r.status_code == 200 and inner.calls == before + 1


async def test_other_methods_go_to_fastapi(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Counting, dict[str, str]],
) -> None:
    _, wrapped, inner, keys = apps
    before = inner.calls
    r = await wrapped.delete(
        "/v1/suppressions/gone@example.com", params={"reason": "test"}, headers=_auth(keys, "read")
    )
    assert r.status_code == 403  # a read-only key may not change anything
    assert inner.calls == before + 1
