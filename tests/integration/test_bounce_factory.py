"""The bounce factory's CI slice: real Postfix, Exim and OpenSMTPD write their own DSNs.

    submit --> MTA --RCPT/DATA: a scripted real-world reply--> sink (plays the remote server)
                |
                +-- its own DSN to b+TOKEN@bounces.example.com --> sink (plays returnpath)

Each case's truth is known by construction: the sink was told which reply to
give (tests/factory/replies.py) or which failure to play (refused, timeout,
TLS required, NXDOMAIN, null MX, SERVFAIL: tests/factory/scenarios.py). A slice of the reply table
(every 8th row at RCPT, every 16th at DATA) runs through the three MTAs at
once, in about a minute; bench/factory.py runs the whole matrix.

With CI=true a missing MTA fails these tests (scripts/ensure-services.sh and
scripts/side-mtas.sh install them); elsewhere they skip.

Known misses of the parsers at the time of writing are marked xfail
(strict) one by one in ``KNOWN_MISSES``: when the parser rules learn them,
the xfail turns into a failure and the entry must go.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.factory.mtas import MTA_CLASSES, missing
from tests.factory.replies import REPLIES
from tests.factory.scenarios import Case, Outcome, Run, cases, run

MTAS = sorted(MTA_CLASSES)
RCPT_ROWS = REPLIES[::8]
DATA_ROWS = REPLIES[3::16]
CASES = cases(MTAS, RCPT_ROWS, DATA_ROWS)

#: per MTA, the least share of cases whose hard/soft class must be right (measured at the
#: last commit; raise it when the parsers improve)
CLASS_ACCURACY: dict[str, float] = {"exim": 0.98, "opensmtpd": 0.97, "postfix": 0.98}

#: case id -> what the parsers say today (expected in brackets); xfail(strict=True).
#: OpenSMTPD writes no SMTP command into its reports, so a user-unknown reply reads as a
#: filter's (the Sisimai convention the corpus is labelled with: "filtered" unless the
#: reply is tied to RCPT TO). bench/results/factory.txt has the full list over every row.
KNOWN_MISSES: dict[str, str] = {
    "exim.rcpt.ex-malformed-header": "soft_bounce/onhold (expected soft_bounce/notcompliantrfc)",
    "exim.rcpt.sm-greet-pause": "soft_bounce/onhold (expected soft_bounce/rejected)",
    "exim.rcpt.g-security-content": "soft_bounce/policyviolation (expected soft_bounce/virusdetected)",
    "exim.rcpt.ms-server-busy": "soft_bounce/systemerror (expected soft_bounce/expired|ratelimited)",
    "exim.rcpt.ms-not-authorized": "soft_bounce/securityerror (expected soft_bounce/rejected)",
    "exim.rcpt.rfc-5.7.11": "soft_bounce/failedstarttls (expected soft_bounce/securityerror)",
    "exim.rcpt.rfc-450": "soft_bounce/mailboxfull (expected soft_bounce/expired|systemerror)",
    "exim.rcpt.rfc-554": "soft_bounce/systemerror (expected soft_bounce/rejected)",
    "exim.data.g-no-from": "soft_bounce/securityerror (expected soft_bounce/notcompliantrfc)",
    "exim.data.gmx-unknown": "soft_bounce/filtered (expected hard_bounce/userunknown)",
    "opensmtpd.rcpt.ex-malformed-header": "soft_bounce/onhold (expected soft_bounce/notcompliantrfc)",
    "opensmtpd.rcpt.sm-greet-pause": "soft_bounce/onhold (expected soft_bounce/rejected)",
    "opensmtpd.rcpt.g-security-content": "soft_bounce/policyviolation (expected soft_bounce/virusdetected)",
    "opensmtpd.rcpt.ms-not-authorized": "soft_bounce/securityerror (expected soft_bounce/rejected)",
    "opensmtpd.rcpt.mr-user-not-found": "soft_bounce/filtered (expected hard_bounce/userunknown)",
    "opensmtpd.rcpt.rfc-5.7.11": "soft_bounce/failedstarttls (expected soft_bounce/securityerror)",
    "opensmtpd.rcpt.rfc-554": "soft_bounce/systemerror (expected soft_bounce/rejected)",
    "opensmtpd.data.g-no-from": "soft_bounce/securityerror (expected soft_bounce/notcompliantrfc)",
    "opensmtpd.data.gmx-unknown": "soft_bounce/filtered (expected hard_bounce/userunknown)",
    "postfix.rcpt.ex-malformed-header": "soft_bounce/onhold (expected soft_bounce/notcompliantrfc)",
    "postfix.rcpt.sm-greet-pause": "soft_bounce/onhold (expected soft_bounce/rejected)",
    "postfix.rcpt.g-security-content": "soft_bounce/policyviolation (expected soft_bounce/virusdetected)",
    "postfix.rcpt.ms-server-busy": "soft_bounce/systemerror (expected soft_bounce/expired|ratelimited)",
    "postfix.rcpt.ms-not-authorized": "soft_bounce/securityerror (expected soft_bounce/rejected)",
    "postfix.rcpt.rfc-5.7.11": "soft_bounce/failedstarttls (expected soft_bounce/securityerror)",
    "postfix.rcpt.rfc-450": "hard_bounce/userunknown (expected soft_bounce/expired|systemerror)",
    "postfix.rcpt.rfc-554": "soft_bounce/systemerror (expected soft_bounce/rejected)",
    "postfix.data.g-no-from": "soft_bounce/securityerror (expected soft_bounce/notcompliantrfc)",
    "postfix.data.gmx-unknown": "soft_bounce/filtered (expected hard_bounce/userunknown)",
}

#: MTAs whose slice holds a false hard bounce on a temporary failure today (xfail strict)
KNOWN_FALSE_HARD: dict[str, str] = {}


@pytest.fixture(scope="module")
def factory() -> Iterator[Run]:
    for name in MTAS:
        why = missing(name)
        if why:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{name} is needed in CI: {why}")
            pytest.skip(f"{name}: {why}")
    yield run(CASES)


def outcome_of(factory: Run, case: Case) -> Outcome:
    [out] = [o for o in factory.outcomes if o.case == case]
    if out.dsn is None:
        pytest.fail(
            f"{case.id}: no DSN came back\n--- {case.mta} log ---\n{factory.logs[case.mta]}"
        )
    return out


def _param(case: Case) -> object:
    marks = []
    if case.id in KNOWN_MISSES:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[case.id]))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_the_mta_s_own_dsn_reads_as_the_reply_it_was_given(factory: Run, case: Case) -> None:
    out = outcome_of(factory, case)
    assert out.verified, "the DSN did not come back to the signed return path"
    got = (out.kind, out.reason)
    assert out.kind_ok and out.reason_ok, (
        f"{case.id}: expected {case.expected_kind.value}/{sorted(case.expected_reasons)},"
        f" got {got} (status {out.status}, decided_by {out.decided_by}, family {out.family})"
    )


@pytest.mark.parametrize(
    "mta",
    [
        pytest.param(
            m,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FALSE_HARD[m])]
            if m in KNOWN_FALSE_HARD
            else [],
        )
        for m in MTAS
    ],
)
def test_no_false_hard_bounce_where_the_failure_was_temporary(factory: Run, mta: str) -> None:
    temporary = [o for o in factory.outcomes if o.case.mta == mta and o.case.temporary]
    assert temporary  # 4xx rows, connection refused, timeout
    wrong = [(o.case.id, o.kind, o.reason, o.warnings) for o in temporary if o.false_hard]
    assert wrong == []


@pytest.mark.parametrize("mta", MTAS)
def test_class_accuracy_per_mta(factory: Run, mta: str) -> None:
    outs = [o for o in factory.outcomes if o.case.mta == mta]
    right = sum(
        (o.kind == "hard_bounce") == (o.case.expected_kind.value == "hard_bounce")
        and o.kind in ("hard_bounce", "soft_bounce", "delayed")
        for o in outs
    )
    assert right / len(outs) >= CLASS_ACCURACY[mta], f"{mta}: {right}/{len(outs)}"
