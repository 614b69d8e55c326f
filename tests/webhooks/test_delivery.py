"""Webhooks end to end: a real serve, events over SMTP, a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from standardwebhooks import Webhook

from returnpath.store.models import WebhookEndpoint
from tests.conftest import StartService
from tests.webhooks.helpers import add_endpoint, attempts, bounce, start, wait_for_attempts
from tests.webhooks.receiver import Answer, Received, receiver


async def test_a_delivery_is_signed_as_standard_webhooks_and_carries_the_event(
    database_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, database_url)
    async with receiver() as rec:
        hook = await add_endpoint(svc, rec.url, description="crm")
        assert hook["secret"].startswith("whsec_")
        listed = (await svc.api.get(f"/v1/webhooks/{hook['id']}")).json()
        assert "secret" not in listed  # shown once
        event_id = await bounce(svc)
        await rec.wait_for(1)
        [got] = rec.requests
        assert got.headers["webhook-id"] == event_id
        # A consumer's library accepts it (and refuses it with another secret).
        payload = Webhook(hook["secret"]).verify(got.body, got.headers)
        assert payload["id"] == event_id and payload["kind"] == "hard_bounce"
        assert payload["version"] == 1 and payload["tenant"] == "default"
        [tried] = await wait_for_attempts(svc, hook["id"], 1)
        assert tried["outcome"] == "delivered" and tried["response_code"] == 200
        assert tried["response_body"] == "ok" and tried["webhook_id"] == event_id
        assert tried["delivery_state"] == "delivered"


async def test_retries_after_a_500_and_a_timeout_with_the_same_id_then_410_disables(
    database_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, database_url, webhook_timeout=0.5)
    script = [Answer(500, b"x" * 5000), Answer(hang=True), Answer(200)]

    def answer(_r: Received) -> Answer:
        return script.pop(0) if script else Answer(410, b"gone")

    async with receiver() as rec:
        rec.answer = answer
        hook = await add_endpoint(svc, rec.url)
        event_id = await bounce(svc)
        await rec.wait_for(3)
        assert {r.headers["webhook-id"] for r in rec.requests} == {event_id}
        tried = await wait_for_attempts(svc, hook["id"], 3)
        assert [t["outcome"] for t in reversed(tried)] == ["http_error", "timeout", "delivered"]
        assert tried[-1]["response_code"] == 500
        assert len(tried[-1]["response_body"]) == 1024  # the first 1 KB of the answer
        # A 410 disables the endpoint: no retry of that delivery, and no more deliveries.
        await bounce(svc)
        await wait_for_attempts(svc, hook["id"], 4)
        endpoint = (await svc.api.get(f"/v1/webhooks/{hook['id']}")).json()
        assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
        [last, *_] = await attempts(svc, hook["id"])
        assert last["response_code"] == 410 and last["delivery_state"] == "failed"


async def test_an_endpoint_failing_for_three_days_is_disabled(
    database_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, database_url)
    async with receiver() as rec:
        rec.answer = lambda _r: Answer(503)
        hook = await add_endpoint(svc, rec.url)
        await bounce(svc)
        await wait_for_attempts(svc, hook["id"], 1)
        async with svc.store.write() as session:  # as if it had failed since three days ago
            await session.execute(
                sa.update(WebhookEndpoint)
                .where(WebhookEndpoint.id == hook["id"])
                .values(failing_since=datetime.now(UTC) - timedelta(days=3, seconds=1))
            )
        for _ in range(200):
            endpoint = (await svc.api.get(f"/v1/webhooks/{hook['id']}")).json()
            if not endpoint["enabled"]:
                break
            await asyncio.sleep(0.05)
        assert endpoint["enabled"] is False and endpoint["disabled_reason"] == "failing for 3 days"
        # Enabling it again clears the record and resumes the pending delivery.
        rec.answer = lambda _r: Answer(204, b"")
        r = await svc.api.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True})
        assert r.json()["enabled"] is True and r.json()["failing_since"] is None
        async with asyncio.timeout(30):
            while (await attempts(svc, hook["id"]))[0]["outcome"] != "delivered":
                await asyncio.sleep(0.05)


async def test_rotation_signs_with_both_secrets_and_replay_resends_the_same_ids(
    database_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, database_url)
    async with receiver() as rec:
        hook = await add_endpoint(svc, rec.url, kinds=["hard_bounce"])
        first = await bounce(svc)
        await rec.wait_for(1)
        r = await svc.api.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
        assert r.status_code == 200
        new_secret = r.json()["secret"]
        assert new_secret != hook["secret"]
        second = await bounce(svc)
        await rec.wait_for(2)
        signed = rec.requests[1]
        assert signed.headers["webhook-id"] == second
        assert len(signed.headers["webhook-signature"].split()) == 2
        for secret in (hook["secret"], new_secret):  # a consumer holding either one verifies
            Webhook(secret).verify(signed.body, signed.headers)
        # Replay: the stored events again, with their ids and bodies.
        r = await svc.api.post(f"/v1/webhooks/{hook['id']}/replay", json={})
        assert r.status_code == 202 and r.json() == {"queued": 2}
        await rec.wait_for(4)
        replayed = rec.requests[2:]
        assert {q.headers["webhook-id"] for q in replayed} == {first, second}
        originals = {q.headers["webhook-id"]: q.body for q in rec.requests[:2]}
        for q in replayed:
            assert json.loads(q.body) == json.loads(originals[q.headers["webhook-id"]])
        # A window with nothing in it queues nothing; a kind the endpoint filters out neither.
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        r = await svc.api.post(f"/v1/webhooks/{hook['id']}/replay", json={"since": future})
        assert r.json() == {"queued": 0}
        r = await svc.api.post(f"/v1/webhooks/{hook['id']}/replay", json={"kinds": ["complaint"]})
        assert r.json() == {"queued": 0}


async def test_a_slow_endpoint_never_delays_another(
    database_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, database_url, webhook_concurrency=2, webhook_timeout=30)
    async with receiver() as slow, receiver() as fast:
        slow.answer = lambda _r: Answer(hang=True)  # holds every request until released
        await add_endpoint(svc, slow.url)
        await add_endpoint(svc, fast.url)
        ids = [await bounce(svc) for _ in range(6)]
        await fast.wait_for(6)
        assert {r.headers["webhook-id"] for r in fast.requests} == set(ids)
        # The slow one has its two slots taken, and no more than two.
        await slow.wait_for(2)
        assert len(slow.requests) == 2 and slow.hanging == 2
        slow.release.set()
