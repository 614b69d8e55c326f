"""DSNs the bounce factory's MTAs wrote, kept as fixtures: the parsers must read them right.

tests/fixtures/factory/ holds a dozen DSNs written by Postfix, Exim and
OpenSMTPD (``bench/factory.py --fixtures`` regenerates them), named
``MTA-SCENARIO[-ROW].eml``; expected.json says what the remote server was told
to answer and so what each must give. These run without any MTA.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from returnpath.parsers import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "factory"
EXPECTED: dict[str, dict[str, object]] = json.loads((FIXTURES / "expected.json").read_text())

#: fixture -> what the parsers get wrong today; xfail(strict=True) until the rules learn it
KNOWN_MISSES: dict[str, str] = {}


def test_every_fixture_has_an_expectation_and_every_expectation_a_fixture() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)
    assert len(EXPECTED) <= 12


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            id=n,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[n])]
            if n in KNOWN_MISSES
            else [],
        )
        for n in sorted(EXPECTED)
    ],
)
def test_a_factory_dsn_reads_as_the_reply_the_sink_gave(name: str) -> None:
    expected = EXPECTED[name]
    reasons = expected["reasons"]
    assert isinstance(reasons, list)
    # as returnpath's listener passes it: OpenSMTPD's DSN names the return path only in its own
    # To: header (the returned headers carry no Return-Path), where no token is looked for
    report = parse(
        (FIXTURES / name).read_bytes(), envelope_recipient=expected["envelope_recipient"]
    )
    assert len(report.findings) == 1, report
    [finding] = report.findings
    assert finding.token is not None  # the DSN went back to the signed return path
    got = (finding.kind.value, finding.reason.value)
    assert got[0] == expected["kind"] and got[1] in reasons, (got, expected)
