"""Japanese carriers' notices (au/KDDI)."""

from __future__ import annotations

from returnpath.parsers.families.kddi import FAMILY
from tests.parsers.bounce_helpers import load


def test_kddi_full_mailbox() -> None:
    msg = load("kddi.eml")
    assert FAMILY.detect(msg)
    [f] = FAMILY.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (
        "phone-user@ezweb.ne.jp",
        "mailboxfull",
        "soft_bounce",
    )


def test_needs_its_marker() -> None:
    assert not FAMILY.detect(load("exim-text.eml"))


def test_ezweb_domain_filter_without_transcript_is_filtered() -> None:
    from returnpath.parsers.families.ezweb import FAMILY as EZWEB
    from tests.parsers.bounce_helpers import message

    msg = message(
        "From: <Postmaster@ezweb.ne.jp>\nSubject: Mail System Error - Returned Mail\n\n"
        "<someone@ezweb.ne.jp>\n"
        "Each of the following recipients was rejected by a remote mail server.\n"
    )
    assert EZWEB.detect(msg)
    [f] = EZWEB.extract(msg)
    assert (f.recipient, f.reason) == ("someone@ezweb.ne.jp", "filtered")


def test_ezweb_transcript_decides_when_present() -> None:
    from returnpath.parsers.families.ezweb import FAMILY as EZWEB
    from tests.parsers.bounce_helpers import message

    msg = message(
        "From: Postmaster@ezweb.ne.jp\nSubject: Mail System Error - Returned Mail\n\n"
        "Each of the following recipients was rejected by a remote\nmail server.\n"
        "    Recipient: <gone@ezweb.ne.jp>\n    >>> RCPT TO:<gone@ezweb.ne.jp>\n"
        "    <<< 550 <gone@ezweb.ne.jp>: User unknown\n"
    )
    [f] = EZWEB.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (
        "gone@ezweb.ne.jp",
        "userunknown",
        "hard_bounce",
    )
