"""Suppression policy on a real SQLite store, with an injected clock (no sleeps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.signing import make_return_path
from returnpath.parsers.verp import token_of_address
from returnpath.store import policies, signing_keys, suppressions
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record
from returnpath.store.policy import Effect, Policy, effect_of
from returnpath.store.tenants import DEFAULT_TENANT, TenantRef, ensure_tenant

DAY0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
ADDR = "someone@example.org"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    await s.create_schema()
    yield s
    await s.close()


@pytest.fixture
async def tenant(store: Store) -> TenantRef:
    return await ensure_tenant(store, DEFAULT_TENANT, ["bounces.example.com"])


_n = 0


async def deliver(
    store: Store,
    tenant: TenantRef,
    at: datetime,
    kind: Kind,
    reason: str,
    *,
    family: str = "rfc3464",
    recipient: str = ADDR,
    sender: str | None = None,
) -> tuple[str, ...]:
    """Record one report with one finding at time ``at``; returns the addresses it suppressed."""
    global _n
    _n += 1
    report = Report(
        findings=(Finding(kind=kind, reason=reason, recipient=recipient, family=family),),
        family=family,
        message_id=f"<m{_n}@test>",
        sender=sender,
    )
    received = Received(
        tenant=tenant,
        raw=f"message {_n}".encode(),
        peer=None,
        mail_from="",
        rcpt_tos=("b@bounces.example.com",),
        received_at=at,
    )
    return (await record(store, received, report, publish=False)).suppressed


async def active(
    store: Store, tenant: TenantRef, address: str = ADDR, stream: str | None = None
) -> list:
    return await suppressions.get_active(store, tenant.id, address, stream)


async def test_three_soft_bounces_on_one_day_do_not_suppress(
    store: Store, tenant: TenantRef
) -> None:
    for hours in (0, 1, 2, 3):
        assert (
            await deliver(
                store, tenant, DAY0 + timedelta(hours=hours), Kind.SOFT_BOUNCE, "mailboxfull"
            )
            == ()
        )
    assert await active(store, tenant) == []


async def test_three_distinct_days_inside_the_window_suppress_for_a_while(
    store: Store, tenant: TenantRef
) -> None:
    base = datetime.now(UTC) - timedelta(days=20)
    assert await deliver(store, tenant, base, Kind.SOFT_BOUNCE, "systemerror") == ()
    assert (
        await deliver(store, tenant, base + timedelta(days=6), Kind.SOFT_BOUNCE, "systemerror")
        == ()
    )
    third = base + timedelta(days=13)
    assert await deliver(store, tenant, third, Kind.SOFT_BOUNCE, "systemerror") == (ADDR,)
    [row] = await active(store, tenant)
    assert row.kind == "soft_bounce" and row.expires_at == third + timedelta(days=30)


async def test_window_edges_are_inclusive_at_exactly_n_days(
    store: Store, tenant: TenantRef
) -> None:
    base = datetime.now(UTC) - timedelta(days=20)
    await deliver(store, tenant, base, Kind.SOFT_BOUNCE, "systemerror")
    await deliver(store, tenant, base + timedelta(days=7), Kind.SOFT_BOUNCE, "systemerror")
    # Exactly 14 days after the first: still inside the window.
    assert await deliver(
        store, tenant, base + timedelta(days=14), Kind.SOFT_BOUNCE, "systemerror"
    ) == (ADDR,)


async def test_a_bounce_one_second_past_the_window_does_not_count(
    store: Store, tenant: TenantRef
) -> None:
    other = "late@example.org"
    base = datetime.now(UTC) - timedelta(days=20)
    await deliver(store, tenant, base, Kind.SOFT_BOUNCE, "systemerror", recipient=other)
    await deliver(
        store, tenant, base + timedelta(days=7), Kind.SOFT_BOUNCE, "systemerror", recipient=other
    )
    late = base + timedelta(days=14, seconds=1)
    assert (
        await deliver(store, tenant, late, Kind.SOFT_BOUNCE, "systemerror", recipient=other) == ()
    )


async def test_soft_suppression_expires_and_the_address_is_mailable_again(
    store: Store, tenant: TenantRef
) -> None:
    base = datetime.now(UTC) - timedelta(days=60)
    for day in (0, 1, 2):
        await deliver(store, tenant, base + timedelta(days=day), Kind.SOFT_BOUNCE, "systemerror")
    # Suppressed on day 2 for 30 days: over by now (day 60).
    assert await active(store, tenant) == []


async def test_long_holds_for_suspended_mailboxes(store: Store, tenant: TenantRef) -> None:
    base = datetime.now(UTC) - timedelta(days=5)
    for day in (0, 1, 2):
        await deliver(store, tenant, base + timedelta(days=day), Kind.SOFT_BOUNCE, "suspend")
    [row] = await active(store, tenant)
    assert row.expires_at == base + timedelta(days=2 + 90)


async def test_a_delivery_report_resets_the_count(store: Store, tenant: TenantRef) -> None:
    base = datetime.now(UTC) - timedelta(days=10)
    await deliver(store, tenant, base, Kind.SOFT_BOUNCE, "mailboxfull")
    await deliver(store, tenant, base + timedelta(days=1), Kind.SOFT_BOUNCE, "mailboxfull")
    await deliver(store, tenant, base + timedelta(days=2), Kind.DELIVERED, "delivered")
    assert (
        await deliver(store, tenant, base + timedelta(days=3), Kind.SOFT_BOUNCE, "mailboxfull")
        == ()
    )
    assert (
        await deliver(store, tenant, base + timedelta(days=4), Kind.SOFT_BOUNCE, "mailboxfull")
        == ()
    )
    assert await deliver(
        store, tenant, base + timedelta(days=5), Kind.SOFT_BOUNCE, "mailboxfull"
    ) == (ADDR,)


async def test_a_manual_removal_resets_the_count(store: Store, tenant: TenantRef) -> None:
    base = datetime.now(UTC) - timedelta(days=10)
    for day in (0, 1, 2):
        await deliver(store, tenant, base + timedelta(days=day), Kind.SOFT_BOUNCE, "mailboxfull")
    assert (
        await suppressions.remove(store, tenant.id, ADDR, "", actor="test", reason="fixed") is True
    )
    # Only bounces after the removal count now.
    assert (
        await deliver(store, tenant, base + timedelta(days=3), Kind.SOFT_BOUNCE, "mailboxfull")
        == ()
    )


@pytest.mark.parametrize(
    "reason",
    ["blocked", "badreputation", "authfailure", "requireptr", "ratelimited", "spamdetected"],
)
async def test_sender_side_reasons_never_count(
    store: Store, tenant: TenantRef, reason: str
) -> None:
    base = datetime.now(UTC) - timedelta(days=10)
    for day in range(5):
        assert (
            await deliver(store, tenant, base + timedelta(days=day), Kind.SOFT_BOUNCE, reason) == ()
        )
    assert await active(store, tenant) == []
    assert effect_of("soft_bounce", reason) is Effect.RECORD


async def test_hard_bounce_upgrades_a_soft_suppression_to_permanent(
    store: Store, tenant: TenantRef
) -> None:
    base = datetime.now(UTC) - timedelta(days=5)
    for day in (0, 1, 2):
        await deliver(store, tenant, base + timedelta(days=day), Kind.SOFT_BOUNCE, "mailboxfull")
    assert await deliver(
        store, tenant, base + timedelta(days=3), Kind.HARD_BOUNCE, "userunknown"
    ) == (ADDR,)
    [row] = await active(store, tenant)
    assert (row.kind, row.expires_at) == ("hard_bounce", None)


async def test_unverified_hard_bounces_follow_the_tenants_trust_setting(
    store: Store, tenant: TenantRef
) -> None:
    now = datetime.now(UTC)
    # Default: standard RFC 3464 reports are trusted, odd formats are not.
    assert await deliver(store, tenant, now, Kind.HARD_BOUNCE, "userunknown", family="rfc3464") == (
        ADDR,
    )
    assert (
        await deliver(
            store,
            tenant,
            now,
            Kind.HARD_BOUNCE,
            "userunknown",
            family="qmail",
            recipient="odd@example.org",
        )
        == ()
    )
    await policies.put(store, tenant.id, Policy(unverified_hard_bounces="never"))
    assert (
        await deliver(
            store, tenant, now, Kind.HARD_BOUNCE, "userunknown", recipient="strict@example.org"
        )
        == ()
    )
    await policies.put(store, tenant.id, Policy(unverified_hard_bounces="suppress"))
    assert await deliver(
        store,
        tenant,
        now,
        Kind.HARD_BOUNCE,
        "userunknown",
        family="qmail",
        recipient="lenient@example.org",
    ) == ("lenient@example.org",)


async def test_auto_replies_and_delays_never_suppress(store: Store, tenant: TenantRef) -> None:
    now = datetime.now(UTC)
    for day in range(4):
        assert (
            await deliver(store, tenant, now - timedelta(days=day), Kind.AUTO_REPLY, "vacation")
            == ()
        )
        assert (
            await deliver(store, tenant, now - timedelta(days=day), Kind.DELAYED, "expired") == ()
        )
    assert await active(store, tenant) == []


async def test_unsubscribe_suppresses_at_once_only_with_its_token(
    store: Store, tenant: TenantRef
) -> None:
    """Issue 16, item 3: a From header proves nothing; the return-path token does."""
    now = datetime.now(UTC)
    assert await deliver(store, tenant, now, Kind.UNSUBSCRIBE, "mailto", family="unsubscribe") == ()
    assert await active(store, tenant) == []
    key = await signing_keys.current_key(store, tenant.id)
    rp = make_return_path(
        secret=key.secret, key_id=key.key_id, domain="bounces.example.com", recipient=ADDR
    )
    finding = Finding(
        kind=Kind.UNSUBSCRIBE,
        reason="mailto",
        recipient=ADDR,
        token=token_of_address(rp),
        family="unsubscribe",
    )
    report = Report(findings=(finding,), family="unsubscribe", message_id="<unsub@test>")
    received = Received(
        tenant=tenant, raw=b"unsubscribe", peer=None, mail_from="", rcpt_tos=(rp,), received_at=now
    )
    assert (await record(store, received, report, publish=False)).suppressed == (ADDR,)
