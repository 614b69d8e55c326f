"""Properties of ``parsers.parse``: it never raises and its cost follows the input.

Whatever arrives at the MX ends up here, so every input must give a Report:
arbitrary bytes, DSNs cut off anywhere, broken RFC 2047 words, raw 8-bit
headers, MIME nested deep, a 50 MB body, and inputs shaped to make a regular
expression backtrack. "Linear" is shown without timing assertions (they are
flaky on shared machines): the adversarial inputs below are ones a
backtracking pattern would not finish in the suite's time budget, so the suite
staying fast is the evidence; `bench/mime_layers.py` gives the rates.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returnpath.parsers import parse
from returnpath.parsers.model import Kind, Report

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DSN = b"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: b+gone=example.org@bounces.example.com
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B0"

--B0
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0000

Final-Recipient: rfc822; gone@example.org
Original-Recipient: rfc822;gone@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected

--B0
Content-Type: message/rfc822

Return-Path: <b+gone=example.org@bounces.example.com>
From: news@example.com
To: gone@example.org
Subject: Spring sale
Message-ID: <campaign-42.gone@example.com>

Everything must go.
--B0--
"""

ARF = b"""From: feedback@arf.mail.yahoo.com
To: fbl@example.com
Subject: FW: Spring sale
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F0"

--F0
Content-Type: text/plain

This is an email abuse report.

--F0
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
Original-Rcpt-To: alice@yahoo.example
Source-IP: 198.51.100.7

--F0
Content-Type: message/rfc822

From: news@example.com
To: alice@yahoo.example
Message-ID: <campaign-42.alice@example.com>

Everything must go.
--F0--
"""

VACATION = (
    b"From: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\n"
    b"To: b+t@bounces.example.com\n"
    b"Subject: Automatic reply: Spring sale\n"
    b"Auto-Submitted: auto-replied\n"
    b"Content-Type: text/plain; charset=utf-8\n\n"
    b"Je suis absent.\n"
)

SAMPLES = (DSN, ARF, VACATION)


def _ok(report: object) -> Report:
    assert isinstance(report, Report)
    assert isinstance(report.kinds, list)
    for f in report.findings:
        assert isinstance(f.kind, Kind)
    return report


@FAST
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    _ok(parse(raw))


@FAST
@given(st.binary(max_size=2048), st.sampled_from(["b+x@b.example", None, "+", "@", ""]))
def test_arbitrary_bytes_with_envelope(raw: bytes, envelope: str | None) -> None:
    _ok(parse(raw, envelope_recipient=envelope))


@FAST
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_reports(sample: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(sample)))
    _ok(parse(sample[:cut]))
    _ok(parse(sample[:cut].replace(b"\n", b"\r\n")))
    _ok(parse(sample[:cut].replace(b"\n", b"\r")))


@FAST
@given(st.sampled_from(SAMPLES), st.data())
def test_corrupted_reports(sample: bytes, data: st.DataObject) -> None:
    """Random bytes overwritten somewhere in an otherwise sound report."""
    at = data.draw(st.integers(min_value=0, max_value=len(sample)))
    junk = data.draw(st.binary(min_size=1, max_size=64))
    _ok(parse(sample[:at] + junk + sample[at + len(junk) :]))


BAD_WORDS = [
    "=?utf-8?B?!!!not-base64?=",
    "=?utf-8?Q?=ZZ=?=",
    "=?x-unknown-charset?Q?abc?=",
    "=?utf-8?X?abc?=",
    "=?utf-8?B?",
    "=?=?=?",
    "=?iso-2022-jp?B?GyRCJCIkJBsoQg?=",
    "=?utf-8*ja?Q?x?=",
]


@FAST
@given(
    st.lists(st.sampled_from(BAD_WORDS), min_size=1, max_size=6),
    st.sampled_from(["Subject", "From", "To", "Content-Type", "Auto-Submitted", "Feedback-Type"]),
    st.sampled_from(SAMPLES),
)
def test_mis_encoded_headers(words: list[str], header: str, sample: bytes) -> None:
    value = " ".join(words).encode()
    _ok(parse(f"{header}: ".encode() + value + b"\n" + sample))
    # the same garbage inside the report's machine-readable part
    _ok(parse(sample.replace(b"Version: 1", b"Version: 1\n" + header.encode() + b": " + value)))


@FAST
@given(
    st.binary(min_size=1, max_size=80).map(lambda b: bytes(c | 0x80 for c in b)),
    st.sampled_from(["Subject", "From", "To", "Received", "Content-Type", "X-Autoreply"]),
    st.sampled_from(SAMPLES),
)
def test_eight_bit_headers(value: bytes, header: str, sample: bytes) -> None:
    _ok(parse(header.encode() + b": " + value + b"\n" + sample))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Недоставленное сообщение".encode(), "Недоставленное сообщение"),  # RFC 6532 UTF-8
        ("Unzustellbar: Grüße".encode("cp1252"), "Unzustellbar: Grüße"),  # unannounced 8-bit
        (b"=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
    ],
)
def test_raw_eight_bit_subjects_are_read_as_text(value: bytes, text: str) -> None:
    # header_text used to give U+FFFD for every 8-bit byte
    report = _ok(parse(b"Subject: " + value + b"\n" + DSN.split(b"\n", 1)[1]))
    assert report.subject == text


def _nest(leaf: bytes, depth: int, kinds: list[str]) -> bytes:
    """Wrap ``leaf`` in ``depth`` multipart (or message/rfc822) layers."""
    body = leaf
    for level in range(depth):
        kind = kinds[level % len(kinds)]
        if kind == "rfc822":
            body = b"Content-Type: message/rfc822\n\n" + body
        else:
            b = f"L{level}".encode()
            body = (
                b"Content-Type: multipart/"
                + kind.encode()
                + b'; boundary="'
                + b
                + b'"\n\n--'
                + b
                + b"\nContent-Type: text/plain\n\npreamble part\n\n--"
                + b
                + b"\n"
                + body
                + b"\n--"
                + b
                + b"--\n"
            )
    return b"From: someone@example.org\nSubject: nested\nMIME-Version: 1.0\n" + body


@FEW
@given(
    st.sampled_from(SAMPLES),
    st.integers(min_value=1, max_value=10),
    st.lists(st.sampled_from(["mixed", "report", "alternative", "rfc822"]), min_size=1),
)
def test_mime_nested_ten_levels(sample: bytes, depth: int, kinds: list[str]) -> None:
    _ok(parse(_nest(sample, depth, kinds)))


def test_mime_nested_far_deeper_than_anyone_should() -> None:
    # deep enough to exhaust a recursive walk: must end as a Report, not a crash
    _ok(parse(_nest(DSN, 400, ["mixed", "rfc822"])))


def test_complaint_survives_ten_levels_of_wrapping() -> None:
    for kinds in (["mixed"], ["rfc822", "mixed"]):
        report = _ok(parse(_nest(ARF, 10, kinds)))
        (finding,) = report.findings  # a forwarded report is still read, from its own parts
        assert finding.recipient == "alice@yahoo.example"
        assert finding.original_message_id == "<campaign-42.alice@example.com>"


ADVERSARIAL = [
    b"Subject: " + b"out of " * 20000 + b"\n",
    b"Subject: " + b"=?" * 50000 + b"\n",
    b"From: " + b"a@" * 50000 + b"\n",
    b"From: " + b"<" * 50000 + b"\n",
    # address characters without an '@': quadratic for a one-regex address scan
    b"From: " + b"x" * 20000 + b"\n",
    b"Delivered-To: " + b"x" * 20000 + b"\n",
    b"To: " + b"unsubscribe-" * 20000 + b"@x.example\n",
    b"Auto-Submitted: " + b"auto-" * 50000 + b"\n",
    b"Subject: " + b" " * 200000 + b"x\n",
    b"Content-Type: multipart/mixed; boundary=" + b"-" * 100000 + b"\n",
    b"Received: " + b"envelope-from <" * 20000 + b"\n",
]


def test_adversarial_lines_do_not_backtrack() -> None:
    for line in ADVERSARIAL:
        _ok(parse(line + b"\n" + b"body\n"))
        _ok(parse(line + DSN))


def test_a_200_kb_header_line_without_an_at_sign_parses() -> None:
    # first_address once scanned such a line with a backtracking regex:
    # quadratic, a 40 kB From: took ~5 s; it now scans outwards from each '@' (linear).
    for name in (b"From", b"Reply-To", b"To", b"X-Failed-Recipients"):
        _ok(parse(name + b": " + b"x" * 200_000 + b"\n" + DSN))
    # textbounce read X-Failed-Recipients with an unanchored address regex: 200 kB took over
    # a minute (on the event loop); a match may now only start where a local part starts.
    bounce = b"From: MAILER-DAEMON@mx.example\nSubject: Mail delivery failed\n"
    _ok(parse(bounce + b"X-Failed-Recipients: " + b"x" * 200_000 + b"\n\n550 5.1.1 unknown user\n"))


def test_many_parts() -> None:
    parts = b"".join(
        b"--P\nContent-Type: message/rfc822\n\nFrom: x@example.org\n\nhi\n" for _ in range(5000)
    )
    raw = (
        b'From: a@example.org\nContent-Type: multipart/mixed; boundary="P"\n\n' + parts + b"--P--\n"
    )
    _ok(parse(raw))


def test_fifty_megabyte_body() -> None:
    """A huge attachment must still give a Report (no timing assertion: see bench/)."""
    line = b"Everything must go, everything must go, everything must go.\n"
    body = line * (50 * 1024 * 1024 // len(line))
    raw = DSN.replace(b"Everything must go.\n", body)
    assert len(raw) > 50 * 1000 * 1000
    report = _ok(parse(raw))
    assert report.findings
