"""Domino, IMail, InterScan and Verizon MMS notices: directory verdicts."""

from __future__ import annotations

import pytest

from parsers.families.appliances import DOMINO, IMAIL, INTERSCAN, VERIZON
from parsers.textbounce import TextFamily
from tests.parsers.bounce_helpers import load

CASES = [
    (DOMINO, "domino.eml", "taro@corp.example.jp"),
    (IMAIL, "imail.eml", "former@imail.example.net"),
    (INTERSCAN, "interscan.eml", "nobody@gw.example.co.jp"),
    (VERIZON, "verizon-mms.eml", "5550100199@vzwpix.com"),
]


@pytest.mark.parametrize(("family", "name", "recipient"), CASES)
def test_unknown_user_is_hard(family: TextFamily, name: str, recipient: str) -> None:
    msg = load(name)
    assert family.detect(msg)
    [f] = family.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (recipient, "userunknown", "hard_bounce")


@pytest.mark.parametrize("family", [c[0] for c in CASES])
def test_other_bounces_are_not_theirs(family: TextFamily) -> None:
    assert not family.detect(load("exim-text.eml"))
    assert not family.detect(load("not-a-bounce.eml"))


def test_imail_expiry_is_not_an_unknown_user() -> None:
    from tests.parsers.bounce_helpers import message

    msg = message(
        'From: "Postmaster" <postmaster@imail.example.net>\nSubject: Undeliverable Mail\n\n'
        "Delivery failed 20 attempts: slow@example.org\n\nOriginal message follows.\n\nhi\n"
    )
    [f] = IMAIL.extract(msg)
    assert (f.recipient, f.reason) == ("slow@example.org", "expired")
