"""Japanese carriers' notices (au/KDDI)."""

from __future__ import annotations

from parsers.families.japan import FAMILY
from tests.parsers.bounce_helpers import load


def test_kddi_full_mailbox() -> None:
    msg = load("kddi.eml")
    assert FAMILY.detect(msg)
    [f] = FAMILY.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == ("phone-user@ezweb.ne.jp", "mailboxfull",
                                                     "soft_bounce")


def test_needs_its_marker() -> None:
    assert not FAMILY.detect(load("exim-text.eml"))
