"""Issue 16 item 4: one forged DSN suppressed 1,000 addresses.

An unverified message may change at most ``Policy.unverified_suppressions_per_message``
addresses (default 5): past that, its findings are recorded (verified=false) but
neither suppress nor count as soft bounces, and ``unverified_cap_reached`` is logged.
Findings proved by a valid signed return path are never capped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.signing import make_return_path
from returnpath.parsers.vocabulary import Reason
from returnpath.store import policies
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record
from returnpath.store.models import AddressState, Event, Message, Suppression
from returnpath.store.policy import Policy
from returnpath.store.signing_keys import current_key
from returnpath.store.tenants import DEFAULT_TENANT, TenantRef, ensure_tenant
from tests.conftest import DOMAIN, StartService
from tests.integration.test_smtp_loop import send

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def forged_dsn(n: int, message_id: str = "<forged-1@mx.example.net>") -> bytes:
    """An RFC 3464 report naming ``n`` failed recipients, to an unsigned return path."""
    blocks = "".join(
        f"Final-Recipient: rfc822; victim{i}@example.org\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        for i in range(n)
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        f"To: b@{DOMAIN}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"{blocks}--B--\r\n"
    ).encode()


async def count(store: Store, model: type, *where: sa.ColumnElement[bool]) -> int:
    async with store.read() as session:
        query = sa.select(sa.func.count()).select_from(model).where(*where)
        return int((await session.execute(query)).scalar_one())


async def suppressed_addresses(store: Store) -> list[str]:
    async with store.read() as session:
        rows = await session.execute(sa.select(Suppression.address).order_by(Suppression.id))
        return list(rows.scalars())


# ---------------------------------------------------------------- over the real listener


async def test_one_forged_dsn_suppresses_five_and_records_all(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    with capture_logs() as logs:
        _, reply = await send(svc.smtp_port, forged_dsn(1000))
    assert await count(svc.store, Event) == 1000
    assert await count(svc.store, Event, Event.verified.is_(False)) == 1000  # type: ignore[attr-defined]
    assert await suppressed_addresses(svc.store) == [f"victim{i}@example.org" for i in range(5)]
    [warning] = [e for e in logs if e["event"] == "unverified_cap_reached"]
    uid = reply.rsplit(" ", 1)[1]
    assert await count(svc.store, Message, Message.uid == uid) == 1  # type: ignore[arg-type]
    assert warning["log_level"] == "warning"
    assert (warning["message"], warning["tenant"], warning["left_unsuppressed"]) == (
        uid,
        DEFAULT_TENANT,
        995,
    )


async def test_a_cap_of_zero_suppresses_none(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    r = await svc.api.put("/v1/policy", json={"unverified_suppressions_per_message": 0})
    assert r.status_code == 200, r.text
    await send(svc.smtp_port, forged_dsn(1000))
    assert await count(svc.store, Event) == 1000
    assert await suppressed_addresses(svc.store) == []


async def test_a_policy_of_never_still_wins_over_the_cap(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    r = await svc.api.put("/v1/policy", json={"unverified_hard_bounces": "never"})
    assert r.status_code == 200, r.text
    with capture_logs() as logs:
        await send(svc.smtp_port, forged_dsn(1000))
    assert await count(svc.store, Event) == 1000
    assert await suppressed_addresses(svc.store) == []
    assert not [e for e in logs if e["event"] == "unverified_cap_reached"]  # nothing was refused


# ---------------------------------------------------------------- in the store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store(database_url)
    await s.create_schema()
    yield s
    await s.close()


@pytest.fixture
async def tenant(store: Store) -> TenantRef:
    return await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])


def received(tenant: TenantRef, name: str) -> Received:
    return Received(
        tenant=tenant,
        raw=name.encode(),
        peer=None,
        mail_from="",
        rcpt_tos=(f"b@{DOMAIN}",),
        received_at=NOW,
    )


def report(name: str, findings: list[Finding]) -> Report:
    return Report(findings=tuple(findings), family="rfc3464", message_id=f"<{name}@x>")


def bounce(recipient: str, kind: Kind = Kind.HARD_BOUNCE, token: str | None = None) -> Finding:
    reason = Reason.USERUNKNOWN if kind == Kind.HARD_BOUNCE else Reason.MAILBOXFULL
    return Finding(kind=kind, reason=reason, recipient=recipient, family="rfc3464", token=token)


async def signed_token(store: Store, tenant: TenantRef, recipient: str) -> str:
    key = await current_key(store, tenant.id)
    rp = make_return_path(
        secret=key.secret, key_id=key.key_id, domain=DOMAIN, recipient=recipient, now=NOW
    )
    return rp.partition("+")[2].partition("@")[0]


async def test_verified_findings_are_never_capped_nor_count_against_it(
    store: Store, tenant: TenantRef
) -> None:
    proved = [
        bounce(
            f"signed{i}@example.org",
            token=await signed_token(store, tenant, f"signed{i}@example.org"),
        )
        for i in range(8)
    ]
    forged = [bounce(f"forged{i}@example.org") for i in range(8)]
    with capture_logs() as logs:
        result = await record(
            store, received(tenant, "mixed"), report("mixed", proved + forged), publish=False
        )
    assert result.suppressed == tuple(
        [f"signed{i}@example.org" for i in range(8)] + [f"forged{i}@example.org" for i in range(5)]
    )
    assert [v for _, v in result.findings] == [True] * 8 + [False] * 8
    [warning] = [e for e in logs if e["event"] == "unverified_cap_reached"]
    assert warning["left_unsuppressed"] == 3


async def test_soft_bounces_past_the_cap_are_not_counted(store: Store, tenant: TenantRef) -> None:
    # More addresses than one bound list holds (ingest.IN_CHUNK): their histories are
    # read in several queries.
    findings = [bounce(f"full{i}@example.org", Kind.SOFT_BOUNCE) for i in range(1200)]
    await record(store, received(tenant, "soft"), report("soft", findings), publish=False)
    assert await count(store, Event) == 1200
    async with store.read() as session:
        rows = await session.execute(sa.select(AddressState.address, AddressState.soft_bounces))
        counted = sorted(rows.all())
    assert counted == [(f"full{i}@example.org", 1) for i in range(5)]


async def test_an_address_named_twice_takes_one_place_under_the_cap(
    store: Store, tenant: TenantRef
) -> None:
    await policies.put(store, tenant.id, Policy(unverified_suppressions_per_message=2))
    names = ["a", "a", "a", "b", "c"]
    findings = [bounce(f"{n}@example.org") for n in names]
    result = await record(
        store, received(tenant, "twice"), report("twice", findings), publish=False
    )
    assert result.suppressed == ("a@example.org", "b@example.org")
    assert await count(store, Event) == 5
