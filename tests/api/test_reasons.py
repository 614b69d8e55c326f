"""GET /v1/reasons publishes the vocabulary the events and suppressions speak."""

from __future__ import annotations

import httpx

from returnpath.parsers.vocabulary import Reason
from tests.conftest import StartService


async def test_the_vocabulary_is_published_with_hard_and_sender_side(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    rows = (await svc.api.get("/v1/reasons")).json()
    assert [r["name"] for r in rows] == [r.value for r in Reason]
    by_name = {r["name"]: r for r in rows}
    assert by_name["userunknown"]["hard"] and not by_name["userunknown"]["sender_side"]
    assert by_name["blocked"]["sender_side"] and not by_name["blocked"]["hard"]
    assert all(r["description"] for r in rows)
    async with httpx.AsyncClient(base_url=str(svc.api.base_url)) as anon:
        assert (await anon.get("/v1/reasons")).status_code == 401
