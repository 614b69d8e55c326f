"""Import/export round trips, stats and rates, and request limits."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from tests.conftest import StartService
from tests.integration.test_smtp_loop import send
from tests.messages import arf, dsn


async def test_csv_import_is_idempotent_and_export_round_trips(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    body = (
        "address,reason,stream,expires_at\n"
        "One@Example.com,old-list,,\n"
        "two@example.com,,marketing,2999-01-01T00:00:00Z\n"
        "not an address,,,\n"
        "three@example.com,bad-date,,yesterday\n"
        "four@example.com\n"
    )
    r = await svc.api.post(
        "/v1/suppressions/import", content=body, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["received"], result["created"], result["invalid"]) == (5, 3, 2)
    assert {e["line"] for e in result["errors"]} == {4, 5}
    again = (
        await svc.api.post(
            "/v1/suppressions/import", content=body, headers={"content-type": "text/csv"}
        )
    ).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)

    check = (
        await svc.api.post("/v1/suppressions/check", json={"addresses": ["one@example.com"]})
    ).json()
    assert check["results"][0]["reason"] == "old-list"

    exported = (await svc.api.get("/v1/suppressions/export", params={"format": "csv"})).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {r["address"] for r in rows} == {
        "one@example.com",
        "two@example.com",
        "four@example.com",
    }
    two = next(r for r in rows if r["address"] == "two@example.com")
    assert two["stream"] == "marketing" and two["until"].startswith("2999-01-01")

    # What was exported imports back as unchanged: a true round trip.
    back = (
        await svc.api.post(
            "/v1/suppressions/import", content=exported, headers={"content-type": "text/csv"}
        )
    ).json()
    assert (back["created"], back["invalid"]) == (0, 0)


async def test_ndjson_import_and_export(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    lines = [json.dumps({"address": f"n{i}@example.com", "reason": "crm"}) for i in range(4500)] + [
        "[1,2]",
        "{bad",
    ]
    r = await svc.api.post(
        "/v1/suppressions/import",
        content="\n".join(lines),
        headers={"content-type": "application/x-ndjson"},
    )
    result = r.json()
    assert (result["created"], result["invalid"]) == (4500, 2)
    out = (
        await svc.api.get("/v1/suppressions/export", params={"format": "ndjson"})
    ).text.splitlines()
    assert len(out) == 4500 and json.loads(out[0])["reason"] == "crm"


async def test_import_refuses_what_it_cannot_read(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    r = await svc.api.post(
        "/v1/suppressions/import", content="x", headers={"content-type": "application/pdf"}
    )
    assert r.status_code == 415
    r = await svc.api.post(
        "/v1/suppressions/import",
        content="email\nx@example.com\n",
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 422 and "address" in r.json()["detail"]
    r = await svc.api.post(
        "/v1/suppressions/import",
        content=b"address\n\xff\xfe\n",
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]


async def test_oversized_bodies_get_413(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    huge = {"addresses": ["a" * 300 + "@example.com"] * 9000}
    r = await svc.api.post("/v1/suppressions/check", json=huge)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    async def chunks():  # no Content-Length: counted while streaming
        for _ in range(40):
            yield b"x" * 100_000

    r = await svc.api.post(
        "/v1/suppressions/check", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


async def test_stats_show_rates_thresholds_and_sender_side_alerts(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    today = datetime.now(UTC).date().isoformat()
    await send(svc.smtp_port, dsn("a@example.org", message_id="<s1@x>"))
    await send(svc.smtp_port, dsn("b@example.org", message_id="<s2@x>"))
    await send(svc.smtp_port, arf("c@example.org"))
    await send(
        svc.smtp_port,
        dsn(
            "d@example.org",
            status="5.7.1",
            message_id="<s3@x>",
            diagnostic="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        ),
    )
    r = await svc.api.post("/v1/stats/sent", json={"entries": [{"day": today, "count": 100}]})
    assert r.status_code == 204
    # Reporting again sets, not adds.
    await svc.api.post("/v1/stats/sent", json={"entries": [{"day": today, "count": 100}]})
    body = (await svc.api.get("/v1/stats")).json()
    [day] = [d for d in body["days"] if d["day"] == today]
    assert day["sent"] == 100
    assert day["counts"]["hard_bounce"] == 2 and day["counts"]["complaint"] == 1
    assert day["reasons"]["hard_bounce.userunknown"] == 2
    assert body["hard_bounce_rate"] == 0.02 and body["complaint_rate"] == 0.01
    assert body["warning"] is True
    assert any("complaint rate" in w for w in body["warnings"])
    [alert] = body["sender_side_alerts"]
    assert alert["reason"] == "blocked" and "spamhaus" in alert["diagnostic"]
    # The blocked recipient is not suppressed: it is our problem, not theirs.
    assert (await svc.api.get("/v1/suppressions/d@example.org")).status_code == 404
    bad = await svc.api.get("/v1/stats", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 422


async def test_malformed_csv_lines_are_reported_not_fatal(
    sqlite_url: str, start_service: StartService
) -> None:
    """Found by the schemathesis fuzzer: a stray carriage return inside a field was a 500."""
    svc = await start_service(sqlite_url)
    body = "address,reason\nok@example.com,x\nbad@example.com,a\rb\nnext@example.com,y\n"
    r = await svc.api.post(
        "/v1/suppressions/import", content=body, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200
    result = r.json()
    assert result["created"] >= 1 and result["invalid"] >= 1
    assert any("malformed CSV" in e["error"] for e in result["errors"])
