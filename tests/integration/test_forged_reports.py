"""Forged unsubscribes and complaints through the real listener (issue 16, items 3 and 10).

A mailed unsubscribe counts only when it comes to the signed return path of
mail sent to that address (the ``mailto:`` List-Unsubscribe address), and only
for that stream; a complaint from a listed feedback loop counts only with a
valid DKIM signature aligned with its sender, served here by a real name
server on loopback (``tests/store/test_dkim.py``'s ``NameServer``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from returnpath.parsers.signing import make_return_path
from returnpath.store import dkim, signing_keys
from returnpath.store.models import utcnow
from returnpath.store.tenants import DomainDirectory
from tests.api.test_return_paths import mint
from tests.conftest import DOMAIN, Running, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import arf
from tests.store.test_dkim import NameServer, Signer, rsa_signer

_n = 0


def unsubscribe(sender: str, subject: str = "unsubscribe") -> bytes:
    """What a mail client sends for ``mailto:ADDRESS?subject=unsubscribe``."""
    global _n
    _n += 1
    return (
        f"From: {sender}\r\nTo: list@{DOMAIN}\r\nSubject: {subject}\r\n"
        f"Message-ID: <unsub-{_n}@mua.example.org>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nPlease take me off this list.\r\n"
    ).encode()


async def suppressed(svc: Running, address: str, stream: str | None = None) -> bool:
    r = await svc.api.post(
        "/v1/suppressions/check", json={"addresses": [address], "stream": stream}
    )
    return bool(r.json()["results"][0]["suppressed"])


async def unsubscribe_events(svc: Running) -> list[dict[str, Any]]:
    items = (await svc.api.get("/v1/events", params={"kind": "unsubscribe"})).json()["items"]
    return list(items)


# --- item 3: anyone could unsubscribe anyone -----------------------------------------------


async def test_a_forged_plain_unsubscribe_is_recorded_not_acted_on(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    await send(svc.smtp_port, unsubscribe("Victim@Example.org"), rcpt=f"b@{DOMAIN}")
    # ... under every policy, however lenient about bounces or feedback loops
    lenient = {"unverified_hard_bounces": "suppress", "feedback_loop_sources": ["example.org"]}
    assert (await svc.api.put("/v1/policy", json=lenient)).status_code == 200
    await send(svc.smtp_port, unsubscribe("victim@example.org"), rcpt=f"unsubscribe@{DOMAIN}")
    events = await unsubscribe_events(svc)
    assert [(e["recipient"], e["reason"], e["verified"]) for e in events] == [
        ("victim@example.org", "mailto", False),
        ("victim@example.org", "mailto", False),
    ]
    assert (await svc.api.get("/v1/suppressions/victim@example.org")).status_code == 404
    for stream in (None, "marketing", "transactional"):
        assert not await suppressed(svc, "victim@example.org", stream)


async def test_an_unsubscribe_to_the_signed_mailto_address_suppresses_that_stream_only(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    rp = await mint(svc, "Reader@Example.org", stream="marketing")
    await send(svc.smtp_port, unsubscribe("reader@example.org"), rcpt=rp)
    [event] = await unsubscribe_events(svc)
    assert (event["recipient"], event["reason"], event["stream"], event["verified"]) == (
        "reader@example.org",
        "mailto",
        "marketing",
        True,
    )
    assert await suppressed(svc, "reader@example.org", "marketing")
    assert not await suppressed(svc, "reader@example.org", "transactional")


async def test_the_token_not_the_from_names_who_leaves(
    sqlite_url: str, start_service: StartService
) -> None:
    """A forwarded or aliased reader unsubscribes the address the mail was sent to; a forger
    holding their own token only unsubscribes themselves."""
    svc = await start_service(sqlite_url)
    alias = await mint(svc, "ann@old.example.org", stream="news")
    await send(svc.smtp_port, unsubscribe("ann.smith@new.example.net"), rcpt=alias)
    assert await suppressed(svc, "ann@old.example.org", "news")
    assert not await suppressed(svc, "ann.smith@new.example.net", "news")

    own = await mint(svc, "mallory@example.com", stream="news")
    await send(svc.smtp_port, unsubscribe("victim@example.org"), rcpt=own)
    assert await suppressed(svc, "mallory@example.com", "news")
    assert not await suppressed(svc, "victim@example.org", "news")


async def test_a_tampered_token_unsubscribes_nobody(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    rp = await mint(svc, "target@example.org", stream="news")
    forged = rp.replace("target=example.org", "victim=example.org")
    await send(svc.smtp_port, unsubscribe("victim@example.org"), rcpt=forged)
    [event] = await unsubscribe_events(svc)
    assert (event["recipient"], event["verified"]) == ("victim@example.org", False)
    assert not await suppressed(svc, "victim@example.org", "news")
    assert not await suppressed(svc, "target@example.org", "news")


async def test_unsubscribes_accept_tokens_as_old_as_one_click_links(
    sqlite_url: str, start_service: StartService
) -> None:
    """Mail is read long after it was sent: 400 days for an unsubscribe, by mail or one-click
    alike (a bounce's token expires after 45)."""
    svc = await start_service(sqlite_url)
    tenant = await DomainDirectory(svc.store).tenant_for(DOMAIN)
    assert tenant is not None
    key = await signing_keys.current_key(svc.store, tenant.id)

    def aged(recipient: str, days: int) -> str:
        return make_return_path(
            secret=key.secret,
            key_id=key.key_id,
            domain=DOMAIN,
            recipient=recipient,
            stream="news",
            now=utcnow() - timedelta(days=days),
        )

    await send(svc.smtp_port, unsubscribe("late@example.org"), rcpt=aged("late@example.org", 100))
    assert await suppressed(svc, "late@example.org", "news")
    one_click = await svc.api.post(
        f"/unsubscribe/{aged('clicker@example.org', 100)}", content=b"List-Unsubscribe=One-Click"
    )
    assert one_click.status_code == 200
    assert await suppressed(svc, "clicker@example.org", "news")
    await send(svc.smtp_port, unsubscribe("stale@example.org"), rcpt=aged("stale@example.org", 401))
    assert not await suppressed(svc, "stale@example.org", "news")
    verified = {e["recipient"]: e["verified"] for e in await unsubscribe_events(svc)}
    assert verified == {
        "late@example.org": True,
        "clicker@example.org": True,
        "stale@example.org": False,
    }


# --- item 10: complaints trusted on a From header ------------------------------------------


@pytest.fixture
def name_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[NameServer]:
    """The service's DKIM lookups go to a name server the test runs (real UDP, loopback)."""
    server = NameServer()
    monkeypatch.setattr(dkim, "LOOKUP", server.lookup())
    yield server
    server.close()


@pytest.fixture(scope="module")
def fbl() -> Signer:
    return rsa_signer("fbl.example.net")


async def listed(svc: Running) -> None:
    r = await svc.api.put("/v1/policy", json={"feedback_loop_sources": ["fbl.example.net"]})
    assert r.status_code == 200


async def complaint_event(svc: Running, recipient: str) -> tuple[str, bool]:
    [event] = (
        await svc.api.get("/v1/events", params={"kind": "complaint", "recipient": recipient})
    ).json()["items"]
    return event["feedback_type"], event["verified"]


async def test_a_signed_complaint_from_a_listed_feedback_loop_suppresses(
    database_url: str, start_service: StartService, name_server: NameServer, fbl: Signer
) -> None:
    svc = await start_service(database_url)
    await listed(svc)
    name_server.publish(fbl)
    await send(svc.smtp_port, fbl.sign(arf("angry@example.org")), rcpt=f"fbl@{DOMAIN}")
    [row] = (await svc.api.get("/v1/suppressions/angry@example.org")).json()
    assert row["kind"] == "complaint"
    assert name_server.questions == ["s1._domainkey.fbl.example.net."]


async def test_forged_complaints_from_a_listed_feedback_loop_are_recorded_not_trusted(
    database_url: str, start_service: StartService, name_server: NameServer, fbl: Signer
) -> None:
    svc = await start_service(database_url)
    await listed(svc)
    attacker = rsa_signer("attacker.example")
    name_server.publish(fbl, attacker)
    genuine = fbl.sign(arf("angry@example.org", message_id="<arf-g@fbl.example.net>"))
    forged = {
        "unsigned@example.org": arf("unsigned@example.org", message_id="<arf-u@x>"),
        # a valid signature, of the forger's own domain
        "other-domain@example.org": attacker.sign(
            arf("other-domain@example.org", message_id="<arf-o@x>")
        ),
        # the FBL's genuine signature, over a report whose recipient was then swapped
        "tampered@example.org": genuine.replace(b"angry@example.org", b"tampered@example.org"),
        # a signature claiming the FBL's domain, made with the forger's key
        "bad-signature@example.org": Signer(
            fbl.domain, fbl.selector, attacker.private, fbl.record
        ).sign(arf("bad-signature@example.org", message_id="<arf-b@x>")),
    }
    for raw in forged.values():
        await send(svc.smtp_port, raw, rcpt=f"fbl@{DOMAIN}")
    for address in forged:
        assert await complaint_event(svc, address) == ("abuse", False), address
        assert (await svc.api.get(f"/v1/suppressions/{address}")).status_code == 404, address
    assert not await suppressed(svc, "angry@example.org")  # the genuine one was never sent
