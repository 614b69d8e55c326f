"""``record_many`` on a group gives exactly what ``record`` gives one message at a time.

Two stores on the same backend (SQLite files, or two fresh PostgreSQL databases) get
the same history, then the same mixed messages: one store as one group, the other
one by one. Every table is then compared row by row (surrogate ids replaced by their
rank, random uids left out), and so are the answers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.signing import make_return_path
from returnpath.parsers.vocabulary import Reason
from returnpath.store import policies
from returnpath.store.db import Store
from returnpath.store.ingest import Received, Recorded, record, record_many
from returnpath.store.models import (
    AddressState,
    Event,
    Message,
    Outbox,
    Suppression,
    SuppressionAudit,
)
from returnpath.store.policy import Policy
from returnpath.store.signing_keys import current_key
from returnpath.store.tenants import DEFAULT_TENANT, TenantRef, ensure_tenant
from tests.conftest import fresh_postgres_database

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOMAIN = "bounces.example.com"


@pytest.fixture(params=["sqlite", "postgres"])
async def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Store]]:
    async with contextlib.AsyncExitStack() as stack:
        urls = []
        for name in ("group", "single"):
            if request.param == "sqlite":
                urls.append(f"sqlite+aiosqlite:///{tmp_path / name}.db")
            else:
                urls.append(await stack.enter_async_context(fresh_postgres_database()))
        stores = [Store(url) for url in urls]
        for store in stores:
            stack.push_async_callback(store.close)
            await store.create_schema()
        yield stores[0], stores[1]


class Mail:
    """Builds the scenario's messages for one store (its own signing key)."""

    def __init__(self, tenant: TenantRef, secret: bytes, key_id: int) -> None:
        self.tenant, self.secret, self.key_id = tenant, secret, key_id

    def token(self, recipient: str, stream: str | None = None) -> str:
        rp = make_return_path(
            secret=self.secret,
            key_id=self.key_id,
            domain=DOMAIN,
            recipient=recipient,
            stream=stream,
            now=DAY0,
        )
        return rp.partition("+")[2].partition("@")[0]

    def message(
        self,
        name: str,
        day: float,
        findings: Sequence[tuple[Kind, str, str | None]],
        *,
        family: str = "rfc3464",
        sender: str | None = None,
        signed: str | None = None,  # the stream of a signed return path, "" for none
    ) -> tuple[Received, Report]:
        report = Report(
            findings=tuple(
                Finding(
                    kind=kind,
                    reason=reason,
                    recipient=recipient,
                    family=family,
                    status="5.1.1" if kind == Kind.HARD_BOUNCE else None,
                    diagnostic=f"diagnostic of {name}",
                    token=(
                        self.token(recipient, signed or None)
                        if signed is not None and recipient
                        else None
                    ),
                )
                for kind, reason, recipient in findings
            ),
            family=family,
            message_id=f"<{name}@mx.example.net>",
            sender=sender,
        )
        received = Received(
            tenant=self.tenant,
            raw=f"the bytes of {name}".encode(),
            peer="192.0.2.7",
            mail_from="",
            rcpt_tos=(f"b@{DOMAIN}",),
            received_at=DAY0 + timedelta(days=day),
        )
        return received, report


H, S, C, D, A, U = (
    Kind.HARD_BOUNCE,
    Kind.SOFT_BOUNCE,
    Kind.COMPLAINT,
    Kind.DELIVERED,
    Kind.AUTO_REPLY,
    Kind.UNSUBSCRIBE,
)


def history(mail: Mail) -> list[tuple[Received, Report]]:
    """What both stores hold before the group."""
    return [
        mail.message("old-soft", -1, [(S, Reason.MAILBOXFULL, "soft@example.org")]),
        mail.message("old-hard", -2, [(H, Reason.USERUNKNOWN, "gone@example.org")]),
        mail.message("old-full", -1, [(S, Reason.MAILBOXFULL, "reset@example.org")]),
    ]


def group(mail: Mail) -> list[tuple[Received, Report]]:
    """A mixed group, in arrival order (comments: what one-by-one recording does)."""
    hard = mail.message("hard", 0, [(H, Reason.USERUNKNOWN, "hard@example.org")])
    return [
        hard,  # suppresses
        mail.message("soft-1", 0, [(S, Reason.MAILBOXFULL, "soft@example.org")]),
        mail.message("soft-2", 0, [(S, Reason.MAILBOXFULL, "soft@example.org")]),  # counts twice
        mail.message(
            "complaint", 0, [(C, Reason.FEEDBACK, "angry@example.org")], sender="fbl@fbl.example"
        ),
        mail.message("delivered", 0, [(D, Reason.DELIVERED, "reset@example.org")]),  # resets
        mail.message("after-reset", 0.1, [(S, Reason.MAILBOXFULL, "reset@example.org")]),
        mail.message("vacation", 0, [(A, Reason.VACATION, "away@example.org")]),
        hard,  # the same message again in the same group: a duplicate of the first
        mail.message("old-hard", -2, [(H, Reason.USERUNKNOWN, "gone@example.org")]),  # stored
        mail.message("nobody", 0, []),  # an unknown message: one event, no address
        mail.message("hard-again", 0, [(H, Reason.USERUNKNOWN, "hard@example.org")]),  # stands
        # Three days of soft bounces within the group: the third suppresses for a while,
        # then a hard bounce makes it permanent (the same address twice in one upsert).
        *(
            mail.message(f"three-{d}", d, [(S, Reason.SUSPEND, "three@example.org")])
            for d in (1, 2, 3)
        ),
        mail.message("three-hard", 3, [(H, Reason.USERUNKNOWN, "three@example.org")]),
        mail.message("sender-side", 0, [(S, Reason.BLOCKED, "blocked@example.org")]),
        mail.message("qmail", 0, [(H, Reason.USERUNKNOWN, "qmail@example.org")], family="qmail"),
        mail.message("signed", 0, [(H, Reason.USERUNKNOWN, "signed@example.org")], signed=""),
        mail.message(
            "signed-complaint",
            0,
            [(C, Reason.FEEDBACK, "gone@example.org")],  # renews the expired one in "news"
            family="arf",
            signed="news",
        ),
        mail.message("unsubscribe", 0, [(U, Reason.MAILTO, "leave@example.org")]),
        mail.message(
            "two-in-one",
            0,
            [
                (H, Reason.USERUNKNOWN, "x1@example.org"),
                (H, Reason.USERUNKNOWN, "x1@example.org"),
                (S, Reason.MAILBOXFULL, "x2@example.org"),
            ],
        ),
        # More unverified addresses than one message may suppress (the default cap, 5).
        mail.message(
            "forged", 0, [(H, Reason.USERUNKNOWN, f"list{i}@example.org") for i in range(8)]
        ),
    ]


async def setup(store: Store) -> Mail:
    tenant = await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])
    await policies.put(store, tenant.id, Policy(feedback_loop_sources=["fbl.example"]))
    key = await current_key(store, tenant.id)
    mail = Mail(tenant, key.secret, key.key_id)
    for received, report in history(mail):
        await record(store, received, report, publish=True)
    # An expired suppression in one stream: the group's signed complaint renews it.
    async with store.write_core() as conn:
        await conn.execute(
            sa.insert(Suppression),
            {
                "tenant_id": tenant.id,
                "address": "gone@example.org",
                "stream": "news",
                "kind": "soft_bounce",
                "reason": "mailboxfull",
                "source": "bounce",
                "verified": False,
                "created_at": DAY0 - timedelta(days=40),
                "expires_at": DAY0 - timedelta(days=10),
            },
        )
    return mail


TABLES: list[tuple[type, str]] = [
    (Message, "message"),
    (Event, "event"),
    (Suppression, "suppression"),
    (SuppressionAudit, "suppression_audit"),
    (AddressState, "address_state"),
    (Outbox, "outbox"),
]


async def dump(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row, ids replaced by rank, random uids left out (events keep their rank)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    async with store.read() as session:
        for model, name in TABLES:
            table: sa.Table = model.__table__  # type: ignore[attr-defined]
            order = list(table.primary_key.columns)
            rows = (await session.execute(sa.select(table).order_by(*order))).mappings().all()
            tables[name] = [dict(r) for r in rows]
    rank = {
        name: {row["id"]: i for i, row in enumerate(tables[name])} for name in ("message", "event")
    }
    event_rank = {row["uid"]: i for i, row in enumerate(tables["event"])}
    for name in ("message", "event", "suppression", "suppression_audit", "outbox"):
        for i, row in enumerate(tables[name]):
            row["id"] = i
            row.pop("uid", None)
    for row in tables["event"]:
        row["message_id"] = rank["message"][row["message_id"]]
    for row in tables["suppression"]:
        row["event_id"] = rank["event"].get(row["event_id"])
    for row in tables["outbox"]:
        row["event_uid"] = event_rank[row["event_uid"]]
        body = json.loads(row["body"])
        body["id"], body["message"] = "-", "-"
        row["body"] = body
    return tables


async def answers(store: Store, results: list[Recorded]) -> list[tuple[Any, ...]]:
    """The answers with uids replaced by the rank of the row they name."""
    async with store.read() as session:
        messages = (await session.execute(sa.select(Message.uid).order_by(Message.id))).scalars()
        message_rank = {uid: i for i, uid in enumerate(messages)}
        events = (await session.execute(sa.select(Event.uid).order_by(Event.id))).scalars()
        event_rank = {uid: i for i, uid in enumerate(events)}
    return [
        (
            message_rank[r.message_uid],
            r.duplicate,
            [event_rank[u] for u in r.event_uids],
            r.suppressed,
            r.findings,
        )
        for r in results
    ]


async def test_a_group_gives_what_one_by_one_gives(two_stores: tuple[Store, Store]) -> None:
    grouped, single = two_stores
    mail_g, mail_s = await setup(grouped), await setup(single)

    results_g = await record_many(grouped, group(mail_g), publish=True)
    results_s = [await record(single, r, p, publish=True) for r, p in group(mail_s)]

    assert await answers(grouped, results_g) == await answers(single, results_s)
    tables_g, tables_s = await dump(grouped), await dump(single)
    for _, name in TABLES:
        assert tables_g[name] == tables_s[name], name

    # And what they both say is what the policy says (not merely the same mistake twice).
    by_name = {p.message_id: out for (_, p), out in zip(group(mail_g), results_g, strict=True)}
    hard_1, hard_2 = results_g[0], results_g[7]
    assert hard_1.suppressed == ("hard@example.org",) and not hard_1.duplicate
    assert hard_2.duplicate and hard_2.message_uid == hard_1.message_uid
    assert results_g[8].duplicate and not results_g[8].event_uids
    assert by_name["<hard-again@mx.example.net>"].suppressed == ()
    assert by_name["<three-3@mx.example.net>"].suppressed == ("three@example.org",)
    assert by_name["<three-hard@mx.example.net>"].suppressed == ("three@example.org",)
    assert by_name["<old-hard@mx.example.net>"].duplicate
    assert by_name["<qmail@mx.example.net>"].suppressed == ()
    assert by_name["<signed@mx.example.net>"].findings == (("hard_bounce", True),)
    assert by_name["<two-in-one@mx.example.net>"].suppressed == ("x1@example.org",)
    assert len(by_name["<forged@mx.example.net>"].suppressed) == 5
    states = {row["address"]: row for row in tables_g["address_state"]}
    assert states["soft@example.org"]["soft_bounces"] == 3  # one before the group, two in it
    assert states["reset@example.org"]["soft_bounces"] == 1
    assert states["reset@example.org"]["soft_reset_at"] == DAY0
    assert states["three@example.org"]["soft_bounces"] == 3
    [renewed] = [
        s
        for s in tables_g["suppression"]
        if s["address"] == "gone@example.org" and s["stream"] == "news"
    ]
    assert (renewed["expires_at"], renewed["kind"]) == (None, "complaint")


async def test_a_group_of_duplicates_reads_their_uids_back(two_stores: tuple[Store, Store]) -> None:
    store, _ = two_stores
    mail = await setup(store)
    first = await record_many(store, group(mail), publish=False)
    again = await record_many(store, group(mail), publish=False)
    assert all(r.duplicate and not r.event_uids for r in again)
    assert [r.message_uid for r in again] == [r.message_uid for r in first]


async def test_an_empty_group_writes_nothing(two_stores: tuple[Store, Store]) -> None:
    store, _ = two_stores
    assert await record_many(store, [], publish=True) == []


async def test_a_replayed_group_keeps_the_uids_its_250s_named(
    two_stores: tuple[Store, Store],
) -> None:
    """The spool gives each message its uid before the 250; after a crash the stage
    records the same group again, and every message is a duplicate of itself."""
    store, _ = two_stores
    mail = await setup(store)
    items = [(replace(r, uid=f"{i:032x}"), p) for i, (r, p) in enumerate(group(mail))]
    first = await record_many(store, items, publish=True)
    assert first[0].message_uid == f"{0:032x}" and first[7].message_uid == f"{0:032x}"
    again = await record_many(store, items, publish=True)
    assert all(r.duplicate and not r.event_uids for r in again)
    assert [r.message_uid for r in again] == [r.message_uid for r in first]
