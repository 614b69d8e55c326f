"""Signed return paths end to end: minted over the API, verified by the listener."""

from __future__ import annotations

import httpx

from tests.conftest import DOMAIN, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import arf, dsn

NO_RECIPIENT_BOUNCE = (
    b"From: MAILER-DAEMON@legacy.example.net\r\nTo: b@x\r\nSubject: failure notice\r\n"
    b"Message-ID: <legacy-1@legacy.example.net>\r\n\r\n"
    b"Hi. This is the mail transport agent. Your message could not be delivered:\r\n"
    b"550 5.1.1 mailbox does not exist\r\n"
)


async def mint(svc, recipient: str, **extra: str) -> str:  # type: ignore[no-untyped-def]
    r = await svc.api.post("/v1/return-paths", json={"recipient": recipient, **extra})
    assert r.status_code == 201, r.text
    body = r.json()
    local, _, domain = body["return_path"].partition("@")
    assert domain == DOMAIN and len(local.encode()) <= 64
    return str(body["return_path"])


async def test_a_bounce_to_a_signed_return_path_is_verified(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    rp = await mint(svc, "Verified.User@example.org", message_id="<orig-1@example.com>")
    await send(svc.smtp_port, dsn("verified.user@example.org"), rcpt=rp)
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert event["verified"] is True and event["recipient"] == "verified.user@example.org"
    [row] = (await svc.api.get("/v1/suppressions/verified.user@example.org")).json()
    assert row["verified"] is True
    assert (await svc.api.get("/v1/suppressions", params={"verified": "true"})).json()["items"]


async def test_tampered_tokens_are_never_trusted(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    await svc.api.put("/v1/policy", json={"unverified_hard_bounces": "never"})
    rp = await mint(svc, "target@example.org")
    local, _, domain = rp.partition("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    await send(
        svc.smtp_port, dsn("target@example.org", message_id="<t1@x>"), rcpt=f"{flipped}@{domain}"
    )
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert event["verified"] is False
    assert (await svc.api.get("/v1/suppressions/target@example.org")).status_code == 404
    verdict = (
        await svc.api.post("/v1/return-paths/verify", json={"return_path": f"{flipped}@{domain}"})
    ).json()
    assert verdict["verified"] is False and verdict["status"] == "tampered"
    # The genuine token does suppress under the same strict policy.
    await send(svc.smtp_port, dsn("target@example.org", message_id="<t2@x>"), rcpt=rp)
    assert (await svc.api.get("/v1/suppressions/target@example.org")).status_code == 200


async def test_rotation_keeps_tokens_in_flight_valid(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    old = await mint(svc, "old@example.org")
    rotation = (await svc.api.post("/v1/return-paths/rotate")).json()
    assert rotation["key_id"] == 2
    new = await mint(svc, "new@example.org")
    assert old != new
    for rp in (old, new):
        verdict = (await svc.api.post("/v1/return-paths/verify", json={"return_path": rp})).json()
        assert verdict["verified"] is True, (rp, verdict)


async def test_tokens_of_another_tenant_are_foreign(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    await svc.api.post("/v1/tenants", json={"name": "other", "domains": ["bounces.other.test"]})
    other_key = (await svc.api.post("/v1/keys", json={"tenant": "other"})).json()["key"]
    async with httpx.AsyncClient(
        base_url=str(svc.api.base_url), headers={"Authorization": f"Bearer {other_key}"}
    ) as other:
        their = (await other.post("/v1/return-paths", json={"recipient": "x@example.org"})).json()[
            "return_path"
        ]
    # Moved onto our domain, their token does not verify with our keys.
    moved = their.split("@")[0] + "@" + DOMAIN
    verdict = (await svc.api.post("/v1/return-paths/verify", json={"return_path": moved})).json()
    assert verdict["verified"] is False


async def test_streams_confine_complaints(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    rp = await mint(svc, "reader@example.org", stream="marketing")
    complaint = arf("reader@example.org").replace(b"<b+x@bounces.example.com>", f"<{rp}>".encode())
    complaint = complaint.replace(
        b"From: news@example.com\r\n", f"Return-Path: <{rp}>\r\nFrom: news@example.com\r\n".encode()
    )
    await send(svc.smtp_port, complaint, rcpt=f"fbl@{DOMAIN}")
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert (event["kind"], event["stream"], event["verified"]) == ("complaint", "marketing", True)

    def check(stream: str | None):  # type: ignore[no-untyped-def]
        return svc.api.post(
            "/v1/suppressions/check", json={"addresses": ["reader@example.org"], "stream": stream}
        )

    assert (await check("marketing")).json()["results"][0]["suppressed"] is True
    # A marketing complaint does not stop a password reset.
    assert (await check("transactional")).json()["results"][0]["suppressed"] is False

    # Unless the tenant says complaints stop every stream.
    await svc.api.put("/v1/policy", json={"complaints_all_streams": True})
    rp2 = await mint(svc, "angry@example.org", stream="marketing")
    complaint2 = arf("angry@example.org", message_id="<arf-9@x>").replace(
        b"From: news@example.com\r\n",
        f"Return-Path: <{rp2}>\r\nFrom: news@example.com\r\n".encode(),
    )
    await send(svc.smtp_port, complaint2, rcpt=f"fbl@{DOMAIN}")
    result = (
        await svc.api.post(
            "/v1/suppressions/check",
            json={"addresses": ["angry@example.org"], "stream": "transactional"},
        )
    ).json()
    assert result["results"][0]["suppressed"] is True


async def test_bad_return_path_requests(sqlite_url: str, start_service: StartService) -> None:
    svc = await start_service(sqlite_url)
    r = await svc.api.post(
        "/v1/return-paths", json={"recipient": "x@example.org", "domain": "not-ours.example"}
    )
    assert r.status_code == 422
    r = await svc.api.post(
        "/v1/return-paths", json={"recipient": "x@example.org", "stream": "bad stream!"}
    )
    assert r.status_code == 422


async def test_one_click_unsubscribe(sqlite_url: str, start_service: StartService) -> None:
    """RFC 8058: the mailbox provider POSTs without credentials; the signed token is the key."""
    svc = await start_service(sqlite_url)
    rp = await mint(svc, "leaver@example.org", stream="marketing")
    async with httpx.AsyncClient(base_url=str(svc.api.base_url)) as anonymous:
        url = f"/unsubscribe/{rp}"
        assert (await anonymous.post(url, content=b"something else")).status_code == 422
        r = await anonymous.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200
        # Twice is harmless; a forged link is unknown.
        assert (await anonymous.post(url, content=b"List-Unsubscribe=One-Click")).status_code == 200
        forged = rp.replace("leaver", "victim")
        assert (
            await anonymous.post(f"/unsubscribe/{forged}", content=b"List-Unsubscribe=One-Click")
        ).status_code == 404
        # a GET (a person's browser, a link scanner) gets the confirmation page, and
        # records nothing: the events below are the POSTs' alone
        page = await anonymous.get(url)
        assert page.status_code == 200 and "<form" in page.text
    events = (await svc.api.get("/v1/events", params={"kind": "unsubscribe"})).json()["items"]
    assert [(e["recipient"], e["reason"], e["stream"]) for e in events] == [
        ("leaver@example.org", "oneclick", "marketing")
    ]
    check = (
        await svc.api.post(
            "/v1/suppressions/check",
            json={"addresses": ["leaver@example.org"], "stream": "marketing"},
        )
    ).json()
    assert (
        check["results"][0]["suppressed"] is True and check["results"][0]["kind"] == "unsubscribe"
    )
    other = (
        await svc.api.post(
            "/v1/suppressions/check",
            json={"addresses": ["leaver@example.org"], "stream": "transactional"},
        )
    ).json()
    assert other["results"][0]["suppressed"] is False


async def test_a_bounce_naming_nobody_is_attributed_through_the_token(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    rp = await mint(svc, "silent@example.org")
    await send(svc.smtp_port, NO_RECIPIENT_BOUNCE, rcpt=rp)
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert (event["recipient"], event["verified"]) == ("silent@example.org", True)
    assert event["kind"] == "hard_bounce"


async def test_a_token_names_an_internationalised_recipient_as_a_check_does(
    sqlite_url: str, start_service: StartService
) -> None:
    """IDNA 2008: the token carries ann@xn--strae-oqa.de (not IDNA 2003's ann@strasse.de),
    the bounce it attributes suppresses that key, and a check naming Straße.de finds it."""
    svc = await start_service(sqlite_url)
    rp = await mint(svc, "Ann@Straße.de")
    assert rp.startswith("b+ann=xn--strae-oqa.de=")
    verdict = (await svc.api.post("/v1/return-paths/verify", json={"return_path": rp})).json()
    assert (verdict["verified"], verdict["recipient"]) == (True, "ann@xn--strae-oqa.de")
    await send(svc.smtp_port, NO_RECIPIENT_BOUNCE, rcpt=rp)
    [event] = (await svc.api.get("/v1/events")).json()["items"]
    assert (event["recipient"], event["verified"]) == ("ann@xn--strae-oqa.de", True)
    asked = ["ann@straße.de", "ANN@XN--STRAE-OQA.DE", "ann@strasse.de"]
    check = (await svc.api.post("/v1/suppressions/check", json={"addresses": asked})).json()
    assert [r["suppressed"] for r in check["results"]] == [True, True, False]
    assert (await svc.api.get("/v1/suppressions/ann@Straße.de")).status_code == 200
    refused = await svc.api.post("/v1/return-paths", json={"recipient": "ann@💩.la"})
    assert refused.status_code == 422
