"""Postfix, Exim, Sendmail, qmail, Courier and OpenSMTPD: who wrote a plain-text bounce.

Each is recognised by the words of its own bounce template and read exactly
as the generic reader reads any plain-text bounce: the family names the MTA,
every other field is what ``generic`` gives. Their RFC 3464 reports stay
``rfc3464`` (the store's ``rfc3464_only`` policy trusts that family).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from returnpath.parsers import parse, parse_message
from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.registry import FAMILIES
from tests.parsers.bounce_helpers import FIXTURES, message

MTAS = ("postfix", "exim", "sendmail", "qmail", "courier", "opensmtpd")

_HEAD = "From: MAILER-DAEMON@mx.sender.example\nTo: shop@sender.example\nSubject: {subject}\n\n"
WRITTEN = {
    "postfix": (
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host mx.sender.example.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "<gone@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1\n"
        "    <gone@example.org>: Recipient address rejected: User unknown\n",
    ),
    "courier": (
        "NOTICE: mail delivery status.",
        "This is a delivery status notification from mx.sender.example,\n"
        "running the Courier mail server, version 1.1.\n\n"
        "<gone@example.org>:\n    550 5.1.1 <gone@example.org>: User unknown\n",
    ),
    "opensmtpd": (
        "Delivery status notification: error",
        "Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
        "An error has occurred while attempting to deliver a message for\n"
        "the following list of recipients:\n\n"
        "gone@example.org: 550 5.1.1 <gone@example.org>: User unknown\n",
    ),
}
FIXTURE_FILES = {"exim": "exim-text.eml", "sendmail": "sendmail-text.eml", "qmail": "qmail.eml"}


def _raw(mta: str) -> bytes:
    if mta in FIXTURE_FILES:
        return (FIXTURES / FIXTURE_FILES[mta]).read_bytes()
    subject, body = WRITTEN[mta]
    return (_HEAD.format(subject=subject) + body).encode()


@pytest.mark.parametrize("mta", MTAS)
def test_a_plain_text_bounce_is_named_after_the_mta_that_wrote_it(mta: str) -> None:
    report = parse(_raw(mta))
    assert report.family == mta
    assert report.findings and {f.family for f in report.findings} == {mta}


@pytest.mark.parametrize("mta", MTAS)
def test_the_mta_family_reads_exactly_what_generic_reads(mta: str) -> None:
    msg = message(_raw(mta).decode("utf-8", "replace"))
    family = next(f for f in FAMILIES if f.name == mta)
    assert family.detect(msg) and GENERIC.detect(msg)
    assert family.extract(msg) == [replace(f, family=mta) for f in GENERIC.extract(msg)]


@pytest.mark.parametrize(
    "path",
    [
        FIXTURES / "postfix-dsn-5.1.1.eml",
        FIXTURES / "exim-dsn-5.0.0.eml",
        *sorted((FIXTURES.parent / "mta").glob("*.eml")),
    ],
    ids=lambda p: Path(p).name,
)
def test_an_rfc_3464_report_from_these_mtas_stays_rfc3464(path: Path) -> None:
    assert parse(path.read_bytes()).family == "rfc3464"


def test_template_words_alone_from_a_person_are_no_bounce() -> None:
    # a person quoting Postfix's greeting is not a daemon: no sign but the words
    raw = "From: ann@example.org\nSubject: look at this\n\nThis is the mail system at host x.\n"
    assert parse_message(message(raw)).family == "unknown"


def test_the_mta_families_sit_just_before_generic() -> None:
    names = [f.name for f in FAMILIES]
    assert names[names.index("generic") - len(MTAS) : names.index("generic")] == list(MTAS)
    assert names[-2:] == ["generic", "fallback"]
