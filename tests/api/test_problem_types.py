"""A sender can tell "may be mailed" from "wrong URL": both are 404, with their own types."""

from __future__ import annotations

from returnpath.api.problems import NO_SUCH_ROUTE_TYPE, NOT_SUPPRESSED_TYPE
from tests.conftest import StartService


async def test_not_suppressed_and_no_such_route_are_told_apart(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    # the fast path in front of FastAPI, and FastAPI's route (an extra parameter)
    for url in ("/v1/suppressions/ann@example.org", "/v1/suppressions/ann@example.org?x=1"):
        r = await svc.api.get(url)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == NOT_SUPPRESSED_TYPE, url
        assert r.json()["title"] == "Not suppressed"
    for url in ("/v1/supressions/ann@example.org", "/v2/suppressions/ann@example.org", "/x"):
        r = await svc.api.get(url)
        assert r.status_code == 404
        assert r.json()["type"] == NO_SUCH_ROUTE_TYPE, url
        assert url.split("?")[0] in r.json()["detail"]
    # the check route answers for every address, never 404
    r = await svc.api.post(
        "/v1/suppressions/check", json={"addresses": ["ann@example.org", "not an address"]}
    )
    assert r.status_code == 200
    assert [x["suppressed"] for x in r.json()["results"]] == [False, False]
