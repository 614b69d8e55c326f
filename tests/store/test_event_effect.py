"""Issue 11: every event says what the policy did with it and why (``effect``,
``effect_reason``, ``effect_detail``): in the event row, the outbox's JSON (what
RabbitMQ carries), GET /v1/events (and its ``effect`` filter), GET /v1/events/{id},
the address history and the stage's log line. Over the real listener, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import sqlalchemy as sa
from structlog.testing import capture_logs

from returnpath.parsers import parse
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record_many
from returnpath.store.models import Event, Outbox
from returnpath.store.tenants import DEFAULT_TENANT, ensure_tenant
from tests.conftest import DOMAIN, StartService
from tests.integration.test_smtp_loop import RCPT, send
from tests.messages import arf, dsn
from tests.store.test_unverified_cap import forged_dsn

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "event.v1.json").read_text())
EXIM_TEXT = (ROOT / "tests" / "fixtures" / "bounces" / "exim-text.eml").read_bytes()

# recipient -> (effect, effect_reason, words the detail says)
EXPECTED = {
    # a hard bounce in a standard report: suppressed at once
    "gone@example.com": ("suppressed", "hard_bounce", "suppressed at once"),
    # a test complaint: an ARF report from a feedback loop the tenant did not list
    "complainer@example.com": ("recorded", "feedback_loop_not_listed", "feedback_loop_sources"),
    # a soft bounce, the first: counted, below the threshold of 3 days
    "full@example.net": ("counted", "soft_below_threshold", "1 of 3 days within 14"),
    # an Exim text bounce, unverified: the default trusts only RFC 3464 reports
    "full@example.org": ("recorded", "unverified_not_rfc3464", "rfc3464_only"),
    "nobody@example.org": ("recorded", "unverified_not_rfc3464", "rfc3464_only"),
    # an unverified report naming 7: the first 5 suppress, the rest are past the cap
    **{
        f"victim{i}@example.org": ("suppressed", "hard_bounce", "suppressed at once")
        for i in range(5)
    },
    "victim5@example.org": ("recorded", "unverified_cap_reached", "recorded only"),
    "victim6@example.org": ("recorded", "unverified_cap_reached", "recorded only"),
}


def _effect(item: dict[str, object]) -> tuple[object, object]:
    return item["effect"], item["effect_reason"]


MESSAGES = (
    dsn("gone@example.com", message_id="<eff-1@mx>"),
    arf("complainer@example.com"),
    dsn(
        "full@example.net",
        status="4.2.2",
        diagnostic="452 4.2.2 <{r}>: mailbox full",
        message_id="<eff-2@mx>",
    ),
    EXIM_TEXT,
    forged_dsn(7),
)
WANT = {address: (effect, why) for address, (effect, why, _) in EXPECTED.items()}


async def test_every_event_says_its_effect_and_why(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    with capture_logs() as logs:
        for raw in MESSAGES:
            await send(svc.smtp_port, raw)
        await svc.settle()
    want = WANT

    async with svc.store.read() as session:
        rows = list((await session.execute(sa.select(Event))).scalars())
    assert {e.recipient: (e.effect, e.effect_reason) for e in rows} == want
    for e in rows:
        assert e.recipient is not None and e.effect_detail is not None
        assert EXPECTED[e.recipient][2] in e.effect_detail, e.effect_detail

    page = (await svc.api.get("/v1/events", params={"limit": 100})).json()["items"]
    assert {e["recipient"]: _effect(e) for e in page} == want
    one = (await svc.api.get(f"/v1/events/{page[1]['id']}")).json()
    assert _effect(one) == want[one["recipient"]]
    assert one["effect_detail"] == page[1]["effect_detail"]
    recorded = (await svc.api.get("/v1/events", params={"effect": "recorded"})).json()["items"]
    assert {e["recipient"] for e in recorded} == {
        a for a, (effect, _) in want.items() if effect == "recorded"
    }
    assert (await svc.api.get("/v1/events", params={"effect": "ignored"})).status_code == 422

    for address in ("complainer@example.com", "full@example.net", "gone@example.com"):
        history = (await svc.api.get(f"/v1/suppressions/{address}/history")).json()
        [event] = [h for h in history if h["what"] == "event"]
        assert _effect(event) == want[address]
        assert EXPECTED[address][2] in event["effect_detail"]
        assert all(h["effect"] is None for h in history if h["what"] != "event")

    # the stage's line per message lists its events' effects, in order
    lines = [e for e in logs if e["event"] == "message_recorded"]
    assert [line["effects"] for line in lines] == [
        ["suppressed:hard_bounce"],
        ["recorded:feedback_loop_not_listed"],
        ["counted:soft_below_threshold"],
        ["recorded:unverified_not_rfc3464"] * 2,
        ["suppressed:hard_bounce"] * 5 + ["recorded:unverified_cap_reached"] * 2,
    ]


async def test_one_group_publishes_the_same_effects(database_url: str) -> None:
    """The same messages recorded as one group (one transaction, as the stage groups
    them): each event is inserted once, already with its effect, and its outbox JSON
    (what RabbitMQ carries) says the same, valid against the schema, minor 2."""
    store = Store(database_url)
    try:
        await store.create_schema()
        tenant = await ensure_tenant(store, DEFAULT_TENANT, [DOMAIN])
        items = [
            (
                Received(tenant=tenant, raw=raw, peer=None, mail_from="", rcpt_tos=(RCPT,)),
                parse(raw),
            )
            for raw in MESSAGES
        ]
        results = await record_many(store, items, publish=True)
        assert [r.effects for r in results] == [
            ("suppressed:hard_bounce",),
            ("recorded:feedback_loop_not_listed",),
            ("counted:soft_below_threshold",),
            ("recorded:unverified_not_rfc3464",) * 2,
            ("suppressed:hard_bounce",) * 5 + ("recorded:unverified_cap_reached",) * 2,
        ]
        async with store.read() as session:
            rows = list((await session.execute(sa.select(Event))).scalars())
            outbox = (await session.execute(sa.select(Outbox))).scalars()
            bodies = [json.loads(o.body) for o in outbox]
        assert {e.recipient: (e.effect, e.effect_reason) for e in rows} == WANT
        assert {b["recipient"]: _effect(b) for b in bodies} == WANT
        for body in bodies:
            jsonschema.validate(body, SCHEMA)
            assert body["minor"] == 2
            assert EXPECTED[body["recipient"]][2] in body["effect_detail"]
    finally:
        await store.close()
