"""Every bounce fixture, one expectation row per recipient: the behaviour at a glance.

The fixtures under tests/fixtures/bounces/ are written for this project in
the style each MTA really uses (they are not copies of any corpus sample).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from returnpath.parsers import parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"

# file, recipient, kind, reason, status, family
ROWS: list[tuple[str, str, str, str, str | None, str]] = [
    (
        "postfix-dsn-5.1.1.eml",
        "nobody@example.org",
        "hard_bounce",
        "userunknown",
        "5.1.1",
        "rfc3464",
    ),
    (
        "dsn-4.2.2-mailbox-full.eml",
        "full@example.net",
        "soft_bounce",
        "mailboxfull",
        "4.2.2",
        "rfc3464",
    ),
    ("dsn-delayed.eml", "slow@example.com", "delayed", "expired", "4.4.1", "rfc3464"),
    ("dsn-delivered.eml", "happy@example.com", "delivered", "delivered", "2.0.0", "rfc3464"),
    ("exim-dsn-5.0.0.eml", "gone@example.jp", "hard_bounce", "userunknown", "5.1.1", "rfc3464"),
    (
        "dsn-two-recipients.eml",
        "alice@example.com",
        "hard_bounce",
        "userunknown",
        "5.1.10",
        "rfc3464",
    ),
    ("dsn-two-recipients.eml", "bob@example.com", "soft_bounce", "mailboxfull", "5.2.2", "rfc3464"),
    ("global-dsn.eml", "ユーザー@例え.jp", "hard_bounce", "userunknown", "5.1.1", "rfc3464"),
    ("forwarded-dsn.eml", "moved@example.com", "hard_bounce", "hasmoved", "5.1.6", "rfc3464"),
    ("exim-text.eml", "full@example.org", "soft_bounce", "mailboxfull", "5.2.2", "exim"),
    ("exim-text.eml", "nobody@example.org", "hard_bounce", "userunknown", "5.1.1", "exim"),
    ("qmail.eml", "blocked@example.net", "soft_bounce", "blocked", "5.7.1", "qmail"),
    ("sendmail-text.eml", "typo@example.co.jp", "hard_bounce", "hostunknown", "5.1.2", "sendmail"),
    # "User unknown" with no code and no SMTP command: Sisimai calls it a filter's refusal
    ("generic-plain.eml", "someone@example.net", "soft_bounce", "filtered", None, "generic"),
    ("gmail-text.eml", "later@example.com", "delayed", "expired", None, "gmail"),
    (
        "googlegroups.eml",
        "closed-list@googlegroups.com",
        "soft_bounce",
        "rejected",
        None,
        "googlegroups",
    ),
    (
        "exchange2003.eml",
        "left.company@corp.example.com",
        "hard_bounce",
        "userunknown",
        None,
        "exchange",
    ),
    (
        "amazonses-bounce.eml",
        "ghost@example.com",
        "hard_bounce",
        "userunknown",
        "5.1.1",
        "amazonses",
    ),
    ("kddi.eml", "phone-user@ezweb.ne.jp", "soft_bounce", "mailboxfull", None, "kddi"),
    ("james.eml", "5550100@mms.carrier.example", "soft_bounce", "filtered", None, "apachejames"),
    ("domino.eml", "taro@corp.example.jp", "hard_bounce", "userunknown", None, "domino"),
    ("imail.eml", "former@imail.example.net", "hard_bounce", "userunknown", None, "imailserver"),
    ("interscan.eml", "nobody@gw.example.co.jp", "hard_bounce", "userunknown", None, "trendmicro"),
    ("verizon-mms.eml", "5550100199@vzwpix.com", "hard_bounce", "userunknown", None, "verizon"),
    ("orange-dsn.eml", "closed@orange.fr", "soft_bounce", "suspend", "5.5.0", "rfc3464"),
]


@pytest.mark.parametrize(("name", "recipient", "kind", "reason", "status", "family"), ROWS)
def test_fixture_expectation(
    name: str, recipient: str, kind: str, reason: str, status: str | None, family: str
) -> None:
    report = parse((FIXTURES / name).read_bytes())
    found = {f.recipient: f for f in report.findings}
    assert recipient in found, f"{name}: got {sorted(map(str, found))}"
    finding = found[recipient]
    assert (finding.kind.value, finding.reason) == (kind, reason)
    assert finding.status == status
    assert finding.family == family == report.family


@pytest.mark.parametrize("name", ["junk.bin", "not-a-bounce.eml"])
def test_not_a_bounce_yields_nothing(name: str) -> None:
    report = parse((FIXTURES / name).read_bytes())
    assert report.findings == ()
    assert report.kinds == ["unknown"]


def test_every_fixture_has_a_row() -> None:
    covered = {row[0] for row in ROWS} | {"junk.bin", "not-a-bounce.eml"}
    assert {p.name for p in FIXTURES.iterdir()} == covered


def test_recipient_counts_are_exact() -> None:
    """No stray addresses (the original's From:, Message-IDs) become recipients."""
    for name in {row[0] for row in ROWS}:
        report = parse((FIXTURES / name).read_bytes())
        expected = sorted(r[1] for r in ROWS if r[0] == name)
        assert sorted(str(f.recipient) for f in report.findings) == expected, name
