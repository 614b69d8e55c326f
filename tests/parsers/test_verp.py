"""Return-path tokens: where they are found and how they are decoded."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy

import pytest

from returnpath.parsers import parse, verp
from returnpath.parsers.verp import Token, decode_token, find_token, token_of_address


def _msg(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=policy.compat32)


@pytest.mark.parametrize(
    ("address", "token"),
    [
        ("b+abc123@bounces.example.com", "abc123"),
        ("<b+abc123@bounces.example.com>", "abc123"),
        ("b+user=example.org@bounces.example.com", "user=example.org"),
        ("b+a+b=example.org@bounces.example.com", "a+b=example.org"),  # '+' in the user part
        ("list-bounces-user=example.org@lists.example.com", None),  # qmail '-': ambiguous
        ("no-reply@example.com", None),  # a hyphen alone is not a token
        ("b@bounces.example.com", None),
        ("b+@bounces.example.com", None),
    ],
)
def test_token_of_address(address: str, token: str | None) -> None:
    assert token_of_address(address) == token


@pytest.mark.parametrize(
    ("token", "recipient"),
    [
        ("user=example.org", "user@example.org"),
        ("first.last=Sub.Example.ORG", "first.last@sub.example.org"),
        ("a=b=example.org", "a=b@example.org"),  # the last '=' splits
        ("opaque-token", None),
        ("user=localhost", None),  # not a domain
        ("=example.org", None),
    ],
)
def test_classic_verp_decoding(token: str, recipient: str | None) -> None:
    decoded = decode_token(token)
    assert (decoded.recipient if decoded else None) == recipient


def test_envelope_recipient_wins() -> None:
    msg = _msg(b"Delivered-To: b+fromheader@x.example\nSubject: x\n\n")
    assert find_token(msg, "b+fromenvelope@x.example") == "fromenvelope"
    # An envelope without a token (a fixed feedback-loop address) falls back to the message.
    assert find_token(msg, "fbl@x.example") == "fromheader"
    assert find_token(_msg(b"Subject: x\n\n"), "fbl@x.example") is None


def test_trace_headers_when_no_envelope() -> None:
    msg = _msg(b"X-Original-To: b+first@x.example\nDelivered-To: b+second@x.example\n\n")
    assert find_token(msg, None) == "first"


DSN_WITH_ORIGINAL = b"""From: MAILER-DAEMON@mx.example.net
To: bounces@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

failed

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1

--B
Content-Type: %s

%s
From: news@example.com
To: gone@example.org
Subject: hi

--B--
"""


@pytest.mark.parametrize("ctype", [b"message/rfc822", b"text/rfc822-headers"])
@pytest.mark.parametrize(
    ("hint", "token"),
    [
        (b"Return-Path: <b+gone=example.org@bounces.example.com>", "gone=example.org"),
        (b"X-Envelope-From: <b+t0k@bounces.example.com>", "t0k"),
        (
            b"Received: from out.example.com by mx.example.net\n"
            b" (envelope-from <b+t1k@bounces.example.com>); Mon, 2 Mar 2026 10:00:00 +0000",
            "t1k",
        ),
    ],
)
def test_token_from_the_attached_original(ctype: bytes, hint: bytes, token: str) -> None:
    raw = DSN_WITH_ORIGINAL % (ctype, hint)
    assert find_token(_msg(raw), None) == token


@pytest.fixture
def signed_decoder() -> Iterator[None]:
    def decode(token: str) -> Token | None:
        if not token.startswith("s1."):
            return None
        recipient, message_id = token[3:].rsplit(".", 1)
        return Token(recipient=recipient.replace("~", "@"), message_id=message_id, scheme="s1")

    verp.register_decoder("s1", decode)
    yield
    verp.unregister_decoder("s1")


def test_decoders_are_pluggable(signed_decoder: None) -> None:
    assert decode_token("s1.ann~example.org.m42") == Token("ann@example.org", "m42", "s1")
    assert decode_token("ann=example.org") == Token("ann@example.org", None, "verp")


def test_a_failing_decoder_is_skipped() -> None:
    def broken(token: str) -> Token | None:
        raise ValueError(token)

    verp.register_decoder("broken", broken)
    try:
        assert decode_token("ann=example.org") == Token("ann@example.org", None, "verp")
    finally:
        verp.unregister_decoder("broken")


def test_parse_names_the_recipient_from_the_token(signed_decoder: None) -> None:
    raw = b"From: Someone <someone@example.org>\nSubject: Out of Office\n\nBack soon.\n"
    report = parse(raw, envelope_recipient="b+s1.ann~example.org.m42@bounces.example.com")
    (finding,) = report.findings
    assert finding.token == "s1.ann~example.org.m42"
    assert finding.recipient == "someone@example.org"  # the message's own word wins
    assert finding.original_message_id == "m42"  # the token fills what the message lacks
