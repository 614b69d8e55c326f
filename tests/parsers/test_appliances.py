"""Domino, IMail, InterScan and Verizon MMS notices: directory verdicts."""

from __future__ import annotations

import pytest

from returnpath.parsers.families.domino import FAMILY as DOMINO
from returnpath.parsers.families.fml import FAMILY as FML
from returnpath.parsers.families.imail import FAMILY as IMAIL
from returnpath.parsers.families.interscan import FAMILY as INTERSCAN
from returnpath.parsers.families.verizon import FAMILY as VERIZON
from returnpath.parsers.textbounce import TextFamily
from tests.parsers.bounce_helpers import load, message

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


_FML = (
    "From: list-admin@ml.example.jp\nTo: list-admin@ml.example.jp\n"
    "Subject: Loop Alert: Duplicated Message-ID (list ML)\n"
    "Message-Id: <201704292334.FMLFFF00002.list@ml.example.jp>\n"
    "X-MLServer: fml [fml 4.0.3 release]\n\n"
    "{body}\nOriginal mail as follows:\n   From: <sender@example.org>\n"
    "   To: <list@ml.example.jp>\n"
)


def test_fml_loop_alert_names_the_list() -> None:
    msg = message(_FML.format(body="Duplicated Message-ID in <list@ml.example.jp>."))
    assert FML.detect(msg)
    [f] = FML.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (
        "list@ml.example.jp",
        "systemerror",
        "soft_bounce",
    )


def test_fml_refuses_non_members() -> None:
    msg = message(
        _FML.format(body="You are not a member of this mailing list <list@ml.example.jp>.")
    )
    [f] = FML.extract(msg)
    assert f.reason == "rejected"


def test_fml_header_alone_is_not_a_bounce() -> None:
    # every post of an fml list carries X-MLServer
    post = (
        "From: someone@example.org\nTo: list@ml.example.jp\nSubject: hello\n"
        "X-MLServer: fml [fml 4.0.3 release]\n\nDuplicated Message-ID? no, just chat\n"
    )
    assert not FML.detect(message(post))
