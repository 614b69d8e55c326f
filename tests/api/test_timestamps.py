"""One timestamp format everywhere: RFC 3339 in UTC with ``Z``, in every answer of the
API (fast path, FastAPI models, bulk answers written by the database, exports) and in
the published event."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from returnpath.store.event_body import FIELDS, event_body
from returnpath.store.models import rfc3339
from tests.conftest import StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn

LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z\Z")


def times(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if LOOKS_LIKE_TIME.match(value) else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in times(v)]
    if isinstance(value, list):
        return [t for v in value for t in times(v)]
    return []


def test_rfc3339_writes_utc_with_z() -> None:
    assert rfc3339(datetime(2026, 12, 3, 16, 0, tzinfo=UTC)) == "2026-12-03T16:00:00Z"
    plus_two = timezone(timedelta(hours=2))
    assert rfc3339(datetime(2026, 12, 3, 18, 0, 0, 5, tzinfo=plus_two)) == (
        "2026-12-03T16:00:00.000005Z"
    )
    assert rfc3339(datetime(2026, 12, 3, 16, 0)) == "2026-12-03T16:00:00Z"  # the database's UTC
    body = event_body(
        {"uid": "e1", "created_at": datetime(2026, 12, 3, tzinfo=UTC), **dict.fromkeys(FIELDS)},
        "default",
        "m1",
    )
    assert body["created_at"] == "2026-12-03T00:00:00Z"


async def test_every_answer_writes_times_the_same_way(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    await send(svc.smtp_port, dsn("gone@example.org"))
    await svc.settle()
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = await svc.api.put("/v1/suppressions/held@example.org", json={"expires_at": until})
    assert r.status_code in (200, 201), r.text
    answers: dict[str, Any] = {}
    for url in (
        "/v1/suppressions/gone@example.org",
        "/v1/suppressions/held@example.org",
        "/v1/suppressions/held@example.org?x=1",  # FastAPI's route, not the fast path
        "/v1/suppressions",
        "/v1/suppressions/gone@example.org/history",
        "/v1/events",
        "/v1/tenants",
        "/v1/keys",
        "/v1/stats",
    ):
        r = await svc.api.get(url)
        assert r.status_code == 200, (url, r.text)
        answers[url] = r.json()
    event = answers["/v1/events"]["items"][0]
    answers["event"] = (await svc.api.get(f"/v1/events/{event['id']}")).json()
    both = ["gone@example.org", "held@example.org", "free@example.org"]
    answers["check"] = (
        await svc.api.post("/v1/suppressions/check", json={"addresses": both})
    ).json()
    ndjson = (await svc.api.get("/v1/suppressions/export?format=ndjson")).text
    answers["ndjson"] = [json.loads(line) for line in ndjson.splitlines() if line]
    exported = (await svc.api.get("/v1/suppressions/export?format=csv")).text
    answers["csv"] = list(csv.DictReader(io.StringIO(exported)))
    found = {url: times(body) for url, body in answers.items()}
    for url in ("/v1/suppressions/held@example.org", "check", "ndjson", "csv", "event"):
        assert found[url], f"{url}: no timestamps seen, the test reads the wrong fields"
    wrong = {url: [t for t in ts if not RFC3339_Z.match(t)] for url, ts in found.items()}
    assert not any(wrong.values()), wrong
