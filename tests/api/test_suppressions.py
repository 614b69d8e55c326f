"""The suppression API as a sender uses it, against a running service."""

from __future__ import annotations

import json

import httpx

from tests.conftest import ADMIN_KEY, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn


async def test_requests_without_a_valid_key_get_401_problem_json(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    base = str(svc.api.base_url)
    async with httpx.AsyncClient(base_url=base) as anon:
        r = await anon.get("/v1/suppressions")
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"].startswith("missing API key")
        r = await anon.get("/v1/suppressions", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.json()["detail"] == "invalid API key"
        # The pre-send checks read the header themselves (one dependency, not three): same rules.
        check = {"addresses": ["a@example.com"]}
        for headers in ({}, {"Authorization": "Basic dGVzdDp0ZXN0"}, {"Authorization": "Bearer"}):
            r = await anon.get("/v1/suppressions/a@example.com", headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            r = await anon.post("/v1/suppressions/check", json=check, headers=headers)
            assert r.status_code == 401 and r.json()["detail"].startswith("missing API key")
        r = await anon.post(
            "/v1/suppressions/check", json=check, headers={"Authorization": "Bearer wrong"}
        )
        assert r.status_code == 401 and r.json()["detail"] == "invalid API key"
        lower = {"Authorization": f"bearer {ADMIN_KEY}"}  # the scheme is case-insensitive
        assert (await anon.post("/v1/suppressions/check", json=check, headers=lower)).json()[
            "results"
        ] == [{"address": "a@example.com", "suppressed": False}]
        # Health endpoints are open: load balancers carry no keys.
        assert (await anon.get("/healthz")).json() == {"status": "ok"}
        assert (await anon.get("/readyz")).json() == {"status": "ready"}


async def test_put_get_delete_and_resuppress(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    r = await svc.api.put(
        "/v1/suppressions/<Manual@Example.COM.>",
        json={"reason": "asked by phone", "note": "ticket 42"},
    )
    assert r.status_code == 201
    assert r.json()["address"] == "manual@example.com"
    assert (await svc.api.put("/v1/suppressions/manual@example.com", json={})).status_code == 200

    r = await svc.api.delete(
        "/v1/suppressions/manual@example.com", params={"reason": "customer re-subscribed"}
    )
    assert r.status_code == 204
    assert (await svc.api.get("/v1/suppressions/manual@example.com")).status_code == 404
    assert (await svc.api.delete("/v1/suppressions/manual@example.com")).status_code == 404

    # A hard bounce after removal suppresses again.
    await send(svc.smtp_port, dsn("manual@example.com"))
    [row] = (await svc.api.get("/v1/suppressions/manual@example.com")).json()
    assert row["kind"] == "hard_bounce" and row["source"] == "bounce"


async def test_list_pages_with_a_cursor_and_filters(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    for i in range(5):
        await svc.api.put(f"/v1/suppressions/user{i}@example.com", json={"reason": "manual"})
    await send(svc.smtp_port, dsn("bounced@example.com"))

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await svc.api.get("/v1/suppressions", params=params)).json()
        seen += [item["address"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and len(set(seen)) == 6

    hard = (await svc.api.get("/v1/suppressions", params={"kind": "hard_bounce"})).json()["items"]
    assert [x["address"] for x in hard] == ["bounced@example.com"]
    reason = (await svc.api.get("/v1/suppressions", params={"reason": "userunknown"})).json()[
        "items"
    ]
    assert [x["address"] for x in reason] == ["bounced@example.com"]
    future = (
        await svc.api.get("/v1/suppressions", params={"since": "2999-01-01T00:00:00Z"})
    ).json()
    assert future["items"] == []


async def test_bad_requests_get_clear_422s(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    r = await svc.api.get("/v1/suppressions", params={"cursor": "%%%not-a-cursor"})
    assert r.status_code == 422 and "cursor" in r.json()["detail"]
    r = await svc.api.get("/v1/suppressions", params={"limit": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "limit"]
    r = await svc.api.post("/v1/suppressions/check", json={"addresses": []})
    assert r.status_code == 422
    r = await svc.api.post(
        "/v1/suppressions/check", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    r = await svc.api.put("/v1/suppressions/not-an-address", json={})
    assert r.status_code == 422 and "not an email address" in r.json()["detail"]
    r = await svc.api.put("/v1/suppressions/a@example.com", json={"kind": "whatever"})
    assert r.status_code == 422
    r = await svc.api.post("/v1/suppressions/check", json={"addresses": ["a@example.com"] * 10_001})
    assert r.status_code == 422


async def test_check_answers_many_addresses_at_once(
    database_url: str, start_service: StartService
) -> None:
    """10,000 addresses: looked up in slices (and on PostgreSQL on several connections at
    once); every answer must still land at its own position."""
    svc = await start_service(database_url)
    for n in (500, 2600, 9999):  # in different slices
        await svc.api.put(f"/v1/suppressions/x{n}@example.com", json={})
    await svc.api.put("/v1/suppressions/x7000@example.com", json={"stream": "marketing"})
    past = {"expires_at": "2020-01-01T00:00:00Z"}
    await svc.api.put("/v1/suppressions/x8000@example.com", json=past)
    addresses = [f"x{i}@example.com" for i in range(10_000)]
    addresses[3000] = (
        " <X500@Example.COM> "  # not in normal form: its slice goes address by address
    )
    addresses[4000] = "not an address"
    body = (await svc.api.post("/v1/suppressions/check", json={"addresses": addresses})).json()
    results = body["results"]
    assert [r["address"] for r in results] == addresses
    hits = {i for i, r in enumerate(results) if r["suppressed"]}
    assert hits == {500, 2600, 3000, 7000, 9999}
    assert body["suppressed"] == 5
    assert results[3000]["kind"] == "manual" and results[3000]["until"] is None
    assert results[7000]["stream"] == "marketing"
    assert results[4000] == {
        "address": "not an address",
        "suppressed": False,
        "error": "not an email address",
    }
    assert results[8000] == {"address": "x8000@example.com", "suppressed": False}  # expired

    # A stream narrows it: the marketing suppression does not stop transactional mail.
    body = (
        await svc.api.post(
            "/v1/suppressions/check", json={"addresses": addresses, "stream": "transactional"}
        )
    ).json()
    assert {i for i, r in enumerate(body["results"]) if r["suppressed"]} == {500, 2600, 3000, 9999}


async def test_check_echoes_every_string_it_was_sent(
    sqlite_url: str, start_service: StartService
) -> None:
    """Answers are written from string templates when the addresses need no JSON escaping;
    anything else must still come back exactly as sent, as valid JSON."""
    svc = await start_service(sqlite_url)
    await svc.api.put("/v1/suppressions/%22a%20b%22@example.com", json={})
    odd = [
        '"a b"@example.com',
        'quote"@example.com',
        "back\\slash@example.com",
        "tab\there",
        "é@exämple.com",
    ]
    listed = ", ".join(json.dumps(a) for a in odd)
    raw = f'{{"addresses": ["plain@example.com", "not an address", {listed}]}}'.encode()
    r = await svc.api.post(
        "/v1/suppressions/check", content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 200
    results = json.loads(r.content)["results"]  # strict JSON, lone surrogate escaped
    assert [x["address"] for x in results] == ["plain@example.com", "not an address", *odd]
    assert results[1]["error"] == "not an email address"
    assert results[2]["suppressed"] is True  # the quoted local part that was suppressed
    assert [x["suppressed"] for x in results] == [False, False, True, False, False, False, False]
    # A lone surrogate escape is not text (RFC 8259 §8.2): refused as invalid JSON.
    r = await svc.api.post(
        "/v1/suppressions/check",
        content=b'{"addresses": ["\\ud800@example.com"]}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "Invalid JSON" in r.json()["errors"][0]["msg"]


async def test_events_feed_cursor_resumes_where_it_stopped(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    await send(svc.smtp_port, dsn("one@example.com", message_id="<m1@x>"))
    page = (await svc.api.get("/v1/events")).json()
    assert [e["recipient"] for e in page["items"]] == ["one@example.com"]
    await send(svc.smtp_port, dsn("two@example.com", message_id="<m2@x>"))
    page2 = (await svc.api.get("/v1/events", params={"cursor": page["next_cursor"]})).json()
    assert [e["recipient"] for e in page2["items"]] == ["two@example.com"]
    one = (await svc.api.get(f"/v1/events/{page['items'][0]['id']}")).json()
    assert one["reason"] == "userunknown"
    assert (await svc.api.get("/v1/events/nope")).status_code == 404


async def test_docs_work_offline(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    html = (await svc.api.get("/docs")).text
    assert "/static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert (await svc.api.get("/static/swagger-ui-bundle.js")).status_code == 200
    spec = (await svc.api.get("/openapi.json")).json()
    assert "/v1/suppressions/check" in spec["paths"]


async def test_why_is_this_address_suppressed(sqlite_url: str, start_service: StartService) -> None:
    """The suppression links to its event and raw message; the history shows every change."""
    svc = await start_service(sqlite_url)
    await send(svc.smtp_port, dsn("why@example.com"))
    [row] = (await svc.api.get("/v1/suppressions/why@example.com")).json()
    event = (await svc.api.get(f"/v1/events/{row['event']}")).json()
    assert event["recipient"] == "why@example.com" and event["reason"] == row["reason"]
    raw = await svc.api.get(f"/v1/events/{row['event']}/raw")
    assert b"Final-Recipient: rfc822; why@example.com" in raw.content

    await svc.api.delete(
        "/v1/suppressions/why@example.com", params={"reason": "typo fixed by customer"}
    )
    history = (await svc.api.get("/v1/suppressions/why@example.com/history")).json()
    assert [h["what"] for h in history] == ["remove", "add", "event"]
    assert history[0]["actor"] == "admin" and history[0]["reason"] == "typo fixed by customer"
    assert history[1]["actor"] == "bounce" and history[2]["event"] == row["event"]
    assert (await svc.api.get("/v1/suppressions/never@example.com/history")).status_code == 404


async def test_metrics_count_what_happened(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)

    def value(text: str, line_start: str) -> float:
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(line_start)
        )

    before = (await svc.api.get("/metrics")).text
    await send(svc.smtp_port, dsn("metric@example.com", message_id="<metric-1@x>"))
    after = (await svc.api.get("/metrics")).text
    assert (
        value(after, 'returnpath_smtp_replies_total{code="250"}')
        == value(before, 'returnpath_smtp_replies_total{code="250"}') + 1
    )
    assert value(after, 'returnpath_findings_total{kind="hard_bounce"') >= 1
    assert "returnpath_outbox_pending 0.0" in after


async def test_policy_defaults_and_the_whose_fault_table(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    policy = (await svc.api.get("/v1/policy")).json()
    assert (
        policy["soft_bounce_threshold"],
        policy["soft_bounce_window_days"],
        policy["soft_suppression_days"],
    ) == (3, 14, 30)
    assert policy["unverified_hard_bounces"] == "rfc3464_only"
    table = (await svc.api.get("/v1/policy/sender-side-reasons")).json()
    assert "blocked" in table and "authfailure" in table and "userunknown" not in table
    r = await svc.api.put("/v1/policy", json={"soft_bounce_threshold": 0})
    assert r.status_code == 422
    r = await svc.api.put("/v1/policy", json={"no_such_knob": 1})
    assert r.status_code == 422
    r = await svc.api.put("/v1/policy", json={"soft_bounce_threshold": 5})
    assert (await svc.api.get("/v1/policy")).json()["soft_bounce_threshold"] == 5


async def test_event_feed_long_polls(sqlite_url: str, start_service: StartService) -> None:
    import asyncio

    svc = await start_service(sqlite_url)
    empty = (await svc.api.get("/v1/events")).json()
    waiting = asyncio.create_task(
        svc.api.get("/v1/events", params={"cursor": empty["next_cursor"], "wait": 10})
    )
    await asyncio.sleep(0.3)
    assert not waiting.done()  # held open: nothing new yet
    await send(svc.smtp_port, dsn("late@example.com", message_id="<late@x>"))
    page = (await asyncio.wait_for(waiting, timeout=10)).json()
    assert [e["recipient"] for e in page["items"]] == ["late@example.com"]
