"""Complaint reports: ARF in every Feedback-Type, JMRP, AOL, forwarded originals.

Each row is an example: the fixture, then what ``parsers.parse`` must say
about each complained-about recipient.
"""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest

from returnpath.parsers import parse
from returnpath.parsers.families import arf
from returnpath.parsers.model import Kind

FIXTURES = Path(__file__).parents[1] / "fixtures" / "arf"
CORPUS = Path(__file__).parents[3] / "shared" / "corpus"

# fixture -> [(recipient, feedback_type, original_message_id)], all complaint/feedback
CASES: dict[str, list[tuple[str | None, str, str | None]]] = {
    "yahoo-cfl-abuse.eml": [("alice@yahoo.example", "abuse", "<campaign-42.alice@example.com>")],
    "opt-out-removal-recipient.eml": [("Bob@Isp.Example", "opt-out", "<digest-7.bob@example.com>")],
    "multiple-recipients.eml": [
        ("one@example.net", "abuse", "<multi-1@example.com>"),
        ("two@example.net", "abuse", "<multi-1@example.com>"),
    ],
    "redacted-recipient.eml": [(None, "abuse", "<redacted-1@example.com>")],
    # Original-Rcpt-To absent: the original's To:, not an X-Original-To of some hop.
    "dmarc-auth-failure.eml": [
        ("carol@receiver.example", "auth-failure", "<spoof-1@elsewhere.example>")
    ],
    # JMRP: the provider's marker header beats the (alias) To:.
    "jmrp-hotmail.eml": [("dave@hotmail.example", "abuse", "<campaign-42.dave@example.com>")],
    # no known sender or subject: Microsoft's marker on the original suffices
    "jmrp-marker-only.eml": [("kim@outlook.example", "abuse", "<campaign-42.kim@example.com>")],
    "aol-client-tos.eml": [("erin@aol.example", "abuse", "<campaign-42.erin@example.com>")],
    # Apple Mail's unsubscribe button: the corpus labels it an ARF opt-out by the sender.
    "apple-unsubscribe.eml": [("ivan@icloud.example", "opt-out", None)],
    # fields base64-encoded, original as (misspelt) text/rfc822-header
    "base64-feedback-fields.eml": [("judy@isp.example", "fraud", "<campaign-42.judy@example.com>")],
    "forwarded-abuse-subject.eml": [
        ("frank@smallisp.example", "abuse", "<campaign-42.frank@example.com>")
    ],
}


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_findings(name: str) -> None:
    report = parse(_load(name))
    got = [(f.recipient, f.feedback_type, f.original_message_id) for f in report.findings]
    assert got == CASES[name]
    assert {(f.kind, f.reason, f.family) for f in report.findings} == {
        (Kind.COMPLAINT, "feedback", "arf")
    }


def test_source_ip_is_remote_mta_and_reporting_mta_is_kept() -> None:
    (finding,) = parse(_load("yahoo-cfl-abuse.eml")).findings
    assert finding.remote_mta == "198.51.100.7"
    assert finding.reporting_mta == "mta1.feedback.yahoo.example"
    assert finding.diagnostic and finding.diagnostic.startswith("This is an email abuse report")


def test_token_found_without_envelope() -> None:
    (finding,) = parse(_load("aol-client-tos.eml")).findings
    assert finding.token == "erin=aol.example"  # from the original's Return-Path
    assert finding.recipient == "erin@aol.example"


def test_envelope_token_does_not_override_named_recipient() -> None:
    report = parse(
        _load("redacted-recipient.eml"), envelope_recipient="b+zoe=example.org@b.example"
    )
    (finding,) = report.findings
    assert finding.recipient == "zoe@example.org"  # nothing else named one
    report = parse(_load("yahoo-cfl-abuse.eml"), envelope_recipient="b+zoe=example.org@b.example")
    assert report.findings[0].recipient == "alice@yahoo.example"


def test_forwarded_attachment_from_a_person_is_not_a_complaint() -> None:
    raw = _load("not-a-complaint-forward.eml")
    assert not arf.FAMILY.detect(email.message_from_bytes(raw, policy=policy.compat32))
    assert Kind.COMPLAINT not in {f.kind for f in parse(raw).findings}


def _arf(feedback_type: str) -> bytes:
    return f"""From: fbl@isp.example
To: fbl@example.com
Subject: report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="x"

--x
Content-Type: text/plain

report

--x
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
Version: 1
Original-Rcpt-To: <someone@isp.example>

--x--
""".encode()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("abuse", "abuse"),
        ("fraud", "fraud"),
        ("virus", "virus"),
        ("not-spam", "not-spam"),
        ("auth-failure", "auth-failure"),
        ("other", "other"),
        ("opt-out", "opt-out"),
        ("Abuse", "abuse"),  # lower-cased
        ("opt-out-list", "opt-out"),  # alias seen in the wild
        ("x-made-up", "x-made-up"),  # unknown types are kept, still a complaint
    ],
)
def test_every_feedback_type_is_a_complaint(written: str, expected: str) -> None:
    (finding,) = parse(_arf(written)).findings
    assert (finding.kind, finding.reason) == (Kind.COMPLAINT, "feedback")
    assert finding.feedback_type == expected
    assert finding.recipient == "someone@isp.example"


def test_delivery_status_report_is_never_a_complaint() -> None:
    raw = _arf("abuse").replace(b"report-type=feedback-report", b"report-type=delivery-status")
    raw = raw.replace(b"message/feedback-report", b"message/delivery-status")
    assert not arf.FAMILY.detect(email.message_from_bytes(raw, policy=policy.compat32))


def _corpus_rows(families: set[str]) -> list[dict[str, object]]:
    path = CORPUS / "ground_truth.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["family"] in families]


@pytest.mark.corpus
def test_corpus_arf_recipients_and_types() -> None:
    rows = _corpus_rows({"arf"})
    if not rows:
        pytest.skip("corpus absent")
    expected: dict[str, list[tuple[str | None, str | None]]] = {}
    for r in rows:
        rcpt = r["recipient"]
        expected.setdefault(str(r["file"]), []).append(
            (str(rcpt).lower() if rcpt else None, r["feedbacktype"])  # type: ignore[arg-type]
        )
    for file, want in expected.items():
        report = parse((CORPUS / file).read_bytes())
        got = [((f.recipient or "").lower() or None, f.feedback_type) for f in report.findings]
        assert sorted(got, key=str) == sorted(want, key=str), file
        assert all(f.kind is Kind.COMPLAINT for f in report.findings), file
