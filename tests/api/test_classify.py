"""POST /v1/classify: a bare SMTP reply or bounce text in, the verdict and its evidence
out. Over the real server; the same decision as ``returnpath.classify`` (pure)."""

from __future__ import annotations

import httpx
import pytest

from returnpath.classify import MAX_TEXT, classify_text, fault_of
from returnpath.parsers.vocabulary import REASONS, Reason
from tests.conftest import StartService

# (text, kind, reason, fault, decided_by, evidence)
REPLIES = [
    (
        "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in virtual "
        "mailbox table",
        "hard_bounce",
        "userunknown",
        "recipient",
        "rules.userunknown.user-unknown",
        "recipient address rejected: user",
    ),
    (
        "452 4.2.2 The email account that you tried to reach is over quota",
        "soft_bounce",
        "mailboxfull",
        "recipient",
        "rules.mailboxfull.mailbox-full",
        "over quota",
    ),
    (
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "soft_bounce",
        "blocked",
        "sender",
        "rules.blocked.blocked-using",
        "blocked using",
    ),
    (
        "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
        "soft_bounce",
        "expired",
        "network",
        "late.expired.connection-timed-out",
        "connection timed out",
    ),
]


@pytest.mark.parametrize(("text", "kind", "reason", "fault", "decided_by", "evidence"), REPLIES)
def test_a_bare_reply_gets_its_verdict_and_evidence(
    text: str, kind: str, reason: str, fault: str, decided_by: str, evidence: str
) -> None:
    got = classify_text(text)
    assert (got.kind, got.reason, got.fault, got.decided_by, got.evidence) == (
        kind,
        reason,
        fault,
        decided_by,
        evidence,
    )


def test_a_status_and_command_from_elsewhere_count() -> None:
    got = classify_text("Requested action not taken: mailbox unavailable", status="5.2.2")
    assert (got.reason, got.status, got.decided_by, got.evidence) == (
        "mailboxfull",
        "5.2.2",
        "rules.mailboxfull.mailbox-full",
        "5.2.2",
    )
    assert classify_text("421 closing", command="ehlo").reason == "blocked"  # refused at HELO
    nothing = classify_text("")
    assert (nothing.reason, nothing.fault, nothing.decided_by) == (
        "undefined",
        "unknown",
        "fallback.undefined",
    )


def test_whose_fault_follows_the_vocabulary() -> None:
    for reason, info in REASONS.items():
        if info.sender_side:
            assert fault_of(reason) == "sender"
        else:
            assert fault_of(reason) != "sender"
    assert fault_of(Reason.USERUNKNOWN) == "recipient"
    assert fault_of(Reason.NETWORKERROR) == "network"
    assert fault_of(Reason.ONHOLD) == "unknown"


async def test_the_route_answers_what_the_module_says(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    for text, *_ in REPLIES:
        r = await svc.api.post("/v1/classify", json={"text": text})
        assert r.status_code == 200, r.text
        assert r.json() == classify_text(text).to_dict()
    r = await svc.api.post(
        "/v1/classify", json={"text": "mailbox unavailable", "status": "5.2.2", "command": "RCPT"}
    )
    assert (r.json()["reason"], r.json()["status"]) == ("mailboxfull", "5.2.2")


async def test_the_route_is_authenticated_and_bounded(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    base = str(svc.api.base_url)
    async with httpx.AsyncClient(base_url=base, timeout=30) as anonymous:
        r = await anonymous.post("/v1/classify", json={"text": "550 user unknown"})
        assert r.status_code == 401
    read = (await svc.api.post("/v1/keys", json={"tenant": "default", "read_only": True})).json()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {read['key']}"}, timeout=30
    ) as reader:
        r = await reader.post("/v1/classify", json={"text": "550 5.1.1 user unknown"})
        assert r.status_code == 200 and r.json()["reason"] == "userunknown"
    for bad in ({"text": ""}, {"text": "x", "command": "QUIT"}, {"status": "5.1.1"}):
        r = await svc.api.post("/v1/classify", json=bad)
        assert r.status_code == 422, (bad, r.text)
    r = await svc.api.post("/v1/classify", json={"text": "x" * (MAX_TEXT + 1)})
    assert r.status_code == 422
    r = await svc.api.post("/v1/classify", json={"text": "x" * 100_000})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
