"""The importer's pieces without a database: mbox splitting, the recovered envelope,
server URLs, the progress line. Examples of each rule, read top to bottom."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from returnpath.importer.envelope import arrival, choose_recipient, read_envelope
from returnpath.importer.mbox import MboxSource
from returnpath.importer.progress import Progress, line
from returnpath.importer.remote import masked, parse_url
from returnpath.importer.sources import Total

MBOX = (
    b"From MAILER-DAEMON Mon Nov 23 10:00:01 2026\n"
    b"Subject: one\n\nbody\n>From the escaped line\n>>From twice escaped\n"
    b"From a line not after an empty one stays in the body\n\n"
    b"From someone@example.org Tue Nov 24 11:30:00 2026\n"
    b"Subject: two\n\nsecond\n\n"
    b"From x Wed Nov 25 12:00:00 2026\n"
    b"Subject: three\n\nthird\n"
)


def _read(path: Path, resume: str | None = None) -> list[tuple[bytes, str, datetime | None]]:
    source = MboxSource(path)
    source.open(resume)
    return [(i.raw, i.position, i.arrived) for g in source.groups(2, 1 << 20) for i in g]


def test_an_mbox_splits_at_from_lines_after_an_empty_line_and_unescapes_mboxrd(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.mbox"
    path.write_bytes(MBOX)
    (one, _, at), (two, _, _), (three, end, _) = _read(path)
    assert one == (
        b"Subject: one\n\nbody\nFrom the escaped line\n>From twice escaped\n"
        b"From a line not after an empty one stays in the body\n"
    )
    assert two == b"Subject: two\n\nsecond\n"
    assert three == b"Subject: three\n\nthird\n"
    assert at == datetime(2026, 11, 23, 10, 0, 1, tzinfo=UTC)  # the From_ line's date
    assert int(end) == len(MBOX)


def test_an_mbox_resumes_at_a_checkpoint_unless_the_file_was_rewritten_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.mbox"
    path.write_bytes(MBOX)
    source = MboxSource(path)
    source.open(None)
    first = next(iter(source.messages()))
    checkpoint = source.checkpoint(first)
    assert [raw[:13] for raw, _, _ in _read(path, checkpoint)] == [
        b"Subject: two\n",
        b"Subject: thre",
    ]
    path.write_bytes(MBOX.replace(b"body", b"BODY"))  # compacted, edited: offsets mean nothing
    assert len(_read(path, checkpoint)) == 3


HEADERS = (
    b"Return-Path: <>\r\n"
    b"Delivered-To: archive@mail.example.net\r\n"
    b"X-Original-To: b+tok@bounces.example.com\r\n"
    b"Received: from mx (mx [192.0.2.1]) by mail; Mon, 23 Nov 2026 10:00:05 +0100\r\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    b"To: someone-else@example.org\r\n\r\nbody\r\n"
)


def test_the_envelope_recipient_is_the_header_address_on_a_tenant_domain() -> None:
    envelope = read_envelope(HEADERS)
    assert envelope.mail_from == ""
    assert envelope.recipients == (
        "b+tok@bounces.example.com",
        "archive@mail.example.net",
        "someone-else@example.org",
    )
    assert envelope.arrived == datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)  # top Received
    tenants = {"mail.example.net": "archive-tenant"}
    assert choose_recipient(envelope.recipients, tenants.get) == (
        "archive@mail.example.net",
        "archive-tenant",
    )
    # no tenant's domain: the address carrying a token, for no tenant in particular
    assert choose_recipient(envelope.recipients, {}.get) == ("b+tok@bounces.example.com", None)
    assert choose_recipient((), {}.get) == (None, None)


def test_the_arrival_is_the_first_plausible_time_never_the_future() -> None:
    old = datetime(2025, 1, 2, tzinfo=UTC)
    assert arrival(None, old) == old
    assert arrival(datetime(1970, 1, 1, tzinfo=UTC), old) == old
    assert arrival(datetime(2999, 1, 1, tzinfo=UTC)) <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("imap://u@h/INBOX", ("imap", "tls", "u", "h", 993, "INBOX")),
        ("imaps://u@h:1993", ("imap", "tls", "u", "h", 1993, "INBOX")),
        ("imap+starttls://u@h/Bounces%2FOld", ("imap", "starttls", "u", "h", 143, "Bounces/Old")),
        ("imap+plain://u@h", ("imap", "plain", "u", "h", 143, "INBOX")),
        ("pop3://u@example.com@h", ("pop3", "tls", "u@example.com", "h", 995, "INBOX")),
        ("pop3+starttls://u@h:2110", ("pop3", "starttls", "u", "h", 2110, "INBOX")),
    ],
)
def test_server_urls_say_protocol_tls_user_host_port_and_folder(
    url: str, expected: tuple[object, ...]
) -> None:
    r = parse_url(url)
    assert (r.protocol, r.tls, r.user, r.host, r.port, r.folder) == expected


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("imap://u:pw@h/INBOX", "never put the password in the URL"),
        ("imap://h/INBOX", "needs a user"),
        ("pop3://u@h/INBOX", "no folder"),
        ("ftp://u@h", "unknown scheme"),
    ],
)
def test_a_bad_server_url_says_what_to_do(url: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_url(url)
    assert "pw" not in masked(url)


def test_the_progress_line_tells_messages_rate_share_and_eta() -> None:
    assert line("mbox a", 500, 10.0, 250, Total(1000, "bytes")) == (
        "mbox a: 500 messages, 50/s [######..................] 25% ETA 30s"
    )
    assert line("imap x", 30, 2.0, None, Total(None, "messages")) == "imap x: 30 messages, 15/s"


def test_progress_is_a_log_line_every_ten_seconds_when_not_on_a_terminal() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = Progress("eml d", Total(100, "messages"), out, clock=lambda: now[0])
    for _ in range(30):
        now[0] += 1.0
        progress.update(2, None)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # at 10 s, 20 s, 30 s, and the end
    assert lines[-1].startswith("eml d: 60 messages, 2/s [")
