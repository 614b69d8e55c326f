"""Exchange 2003-era plain-text non-delivery reports."""

from __future__ import annotations

from parsers.families.exchange import FAMILY
from tests.parsers.bounce_helpers import load, message


def test_recipient_is_the_unreached_one_not_the_original_to() -> None:
    msg = load("exchange2003.eml")
    assert FAMILY.detect(msg)
    [f] = FAMILY.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (
        "left.company@corp.example.com", "userunknown", "hard_bounce")


def test_x400_gateway_address() -> None:
    msg = message(
        "From: postmaster@corp.example\nSubject: Undeliverable: hi\n\n"
        "Your message\n  To: x\ndid not reach the following recipient(s):\n\n"
        "c=US;a= ;p=Corp;o=Gw;dda:SMTP=old.user@corp.example; on Fri, 4 Oct 2002\n"
        "    The recipient name is not recognized\n"
    )
    assert [f.recipient for f in FAMILY.extract(msg)] == ["old.user@corp.example"]
