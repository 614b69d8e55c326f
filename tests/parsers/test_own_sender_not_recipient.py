"""The bounce's own sender is not a failed recipient (issue 17).

A transcript quotes the returned message's sender ("<<< 250 2.1.0 <sender>... Sender
ok"), and notices name the reporting host's daemon; beside the real recipient they are
not failures. Alone, an address is still reported (mail to oneself bounces too).
"""

from __future__ import annotations

from returnpath.parsers import parse

_TRANSCRIPT = """\
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.a.example>
To: b+tok@bounces.a.example
Subject: Returned mail: see transcript for details
Content-Type: text/plain

The original message was received at Thu, 3 Dec 2026 10:00:00 +0100
from relay.a.example [192.0.2.10]

   ----- The following addresses had permanent fatal errors -----
<rcpt@b.example>
    (reason: 550 5.1.1 <rcpt@b.example>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx.b.example.:
{sender}>>> RCPT To:<rcpt@b.example>
<<< 550 5.1.1 <rcpt@b.example>... User unknown
{daemon}
   ----- Original message follows -----
Return-Path: <b+tok@bounces.a.example>
From: Newsletter <newsletter@a.example>
To: rcpt@b.example
Subject: news

hello
"""


def _recipients(raw: str) -> list[str | None]:
    return [f.recipient for f in parse(raw.encode()).findings]


def test_the_original_sender_quoted_in_a_transcript_is_not_a_failed_recipient() -> None:
    sender = (
        ">>> MAIL From:<newsletter@a.example> SIZE=1234\n"
        "<<< 250 2.1.0 <newsletter@a.example>... Sender ok\n"
    )
    assert _recipients(_TRANSCRIPT.format(sender=sender, daemon="")) == ["rcpt@b.example"]


def test_the_reporting_hosts_daemon_is_not_a_failed_recipient() -> None:
    text = _TRANSCRIPT.format(sender="", daemon="<mdaemon@mx.b.example>: 550 see the transcript")
    assert _recipients(text) == ["rcpt@b.example"]
