"""Domain-wide suppressions (issue 14): `PUT /v1/suppressions/@example.com` stops mail to
every address of a dead domain, in the single check, the fast GET and the bulk check,
until it is lifted; a subdomain is another domain; a tenant without one is checked as
before. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.conftest import StartService


async def _bulk(svc: object, addresses: list[str]) -> dict[str, dict[str, object]]:
    answer = await svc.api.post("/v1/suppressions/check", json={"addresses": addresses})  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    return {r["address"]: r for r in answer.json()["results"]}


async def test_a_domain_wide_suppression_stops_every_address_there(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    asked = ["a@dead.example", "B@Dead.Example", "c@sub.dead.example", "d@alive.example"]
    assert not any(r["suppressed"] for r in (await _bulk(svc, asked)).values())

    put = await svc.api.put("/v1/suppressions/@Dead.Example.", json={"reason": "domain_gone"})
    assert put.status_code == 201, put.text
    assert put.json()["address"] == "@dead.example"
    own = await svc.api.put("/v1/suppressions/a@dead.example", json={"reason": "asked"})
    assert own.status_code == 201

    single = await svc.api.get("/v1/suppressions/b@dead.example")
    assert single.status_code == 200, single.text
    assert [h["address"] for h in single.json()] == ["@dead.example"]
    both = (await svc.api.get("/v1/suppressions/a@dead.example")).json()
    assert sorted(h["address"] for h in both) == ["@dead.example", "a@dead.example"]
    assert (await svc.api.get("/v1/suppressions/c@sub.dead.example")).status_code == 404
    assert (await svc.api.get("/v1/suppressions/@dead.example")).status_code == 200

    bulk = await _bulk(svc, asked)
    assert bulk["a@dead.example"]["reason"] == "asked"  # its own suppression first
    assert (
        bulk["B@Dead.Example"]["suppressed"] and bulk["B@Dead.Example"]["reason"] == "domain_gone"
    )
    assert not bulk["c@sub.dead.example"]["suppressed"]
    assert not bulk["d@alive.example"]["suppressed"]

    lifted = await svc.api.delete("/v1/suppressions/@dead.example", params={"reason": "back"})
    assert lifted.status_code == 204
    assert (await svc.api.get("/v1/suppressions/b@dead.example")).status_code == 404
    assert not (await _bulk(svc, asked))["B@Dead.Example"]["suppressed"]

    for bad in ("@", "@not a domain", "@[10.0.0.1]", "@-x.example"):
        refused = await svc.api.put(f"/v1/suppressions/{bad}", json={})
        assert refused.status_code == 422, bad
