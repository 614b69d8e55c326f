"""Apache James bounces."""

from __future__ import annotations

from returnpath.parsers.families.james import FAMILY
from tests.parsers.bounce_helpers import load


def test_rcpt_to_of_the_envelope_echo_is_the_recipient() -> None:
    msg = load("james.eml")
    assert FAMILY.detect(msg)
    [f] = FAMILY.extract(msg)
    assert f.recipient == "5550100@mms.carrier.example"
    assert f.smtp_code == "550"
    assert f.reason == "filtered"


def test_needs_its_marker() -> None:
    assert not FAMILY.detect(load("qmail.eml"))
