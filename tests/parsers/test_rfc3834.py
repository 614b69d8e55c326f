"""Auto-replies: what counts as one, in which languages, and what never does.

The rule a reader should take away: headers prove an auto-reply, a vacation
subject does too, and anything that looks like a delivery report is refused
even when it carries ``Auto-Submitted: auto-replied`` (DSNs do, by RFC 3834).
"""

from __future__ import annotations

import email
import json
from email import policy
from email.header import Header
from pathlib import Path

import pytest

from returnpath.parsers import parse
from returnpath.parsers.families import rfc3834
from returnpath.parsers.model import Kind

FIXTURES = Path(__file__).parents[1] / "fixtures" / "autoreply"
CORPUS = Path(__file__).parents[3] / "shared" / "corpus"

# fixture -> (kind, reason, recipient); the recipient is the From: of the reply
CASES: dict[str, tuple[Kind, str, str]] = {
    "auto-submitted-vacation.eml": (Kind.AUTO_REPLY, "vacation", "alice@example.net"),
    "outlook-automatic-reply.eml": (Kind.AUTO_REPLY, "vacation", "bob@corp.example"),
    "x-autoreply-german.eml": (Kind.AUTO_REPLY, "vacation", "juergen@firma.example"),
    "precedence-auto-reply-japanese.eml": (Kind.AUTO_REPLY, "vacation", "yamada@example.jp"),
    "lotus-out-of-office.eml": (Kind.AUTO_REPLY, "vacation", "carol.jones@bank.example"),
    # "this inbox is no longer in use": a retired mailbox, counted as a soft bounce
    "retired-mailbox.eml": (Kind.SOFT_BOUNCE, "suspend", "noreply@shop.example"),
}

# Delivery reports dressed like auto-replies: never ours.
NOT_AUTOREPLIES = [
    "not-autoreply-dsn.eml",
    "not-autoreply-plain-bounce.eml",
    "not-autoreply-exchange-ndr.eml",
]


def _msg(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=policy.compat32)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_findings(name: str) -> None:
    report = parse((FIXTURES / name).read_bytes())
    assert [(f.kind, f.reason, f.recipient) for f in report.findings] == [CASES[name]]
    assert report.findings[0].family == "rfc3834"


def test_in_reply_to_names_the_original() -> None:
    (finding,) = parse((FIXTURES / "auto-submitted-vacation.eml").read_bytes()).findings
    assert finding.original_message_id == "<campaign-42.alice@example.com>"


@pytest.mark.parametrize("name", NOT_AUTOREPLIES)
def test_delivery_reports_are_refused(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert not rfc3834.FAMILY.detect(_msg(raw))
    assert Kind.AUTO_REPLY not in {f.kind for f in parse(raw).findings}


VACATION_SUBJECTS = [
    "Out of Office: Spring sale",
    "Automatic reply: Spring sale",
    "Auto-Reply: I'm out of office",
    "AW: Abwesenheitsnotiz",
    "Automatische Antwort: Frühlingsangebot",
    "Réponse automatique : Soldes de printemps",
    "Message d'absence",
    "Respuesta automática: Rebajas",
    "Fuera de la oficina",
    "Risposta automatica: Saldi",
    "Fuori ufficio",
    "Resposta automática: Promoção",
    "Automatisch antwoord: Voorjaarsuitverkoop",
    "Afwezig",
    "自動応答: 春のセール",
    "自动回复：春季促销",
    "Автоответ: Весенняя распродажа",
    "Automatyczna odpowiedź: Wyprzedaż",
]


def _plain(subject: str, **headers: str) -> bytes:
    lines = [
        "From: Someone <someone@example.org>",
        "To: b+t@bounces.example.com",
        f"Subject: {Header(subject, 'utf-8').encode()}",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Back soon.",
        "",
    ]
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize("subject", VACATION_SUBJECTS)
def test_vacation_subjects_in_many_languages(subject: str) -> None:
    (finding,) = parse(_plain(subject)).findings
    assert (finding.kind, finding.reason, finding.recipient) == (
        Kind.AUTO_REPLY,
        "vacation",
        "someone@example.org",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-replied (vacation)"},
        {"Auto_Submitted": "auto-generated"},  # any automaton that is not a bounce
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Autoresponder"},
        {"Precedence": "auto_reply"},
        {"X_Apple_Action": "vacation"},
    ],
)
def test_auto_reply_headers_alone_suffice(headers: dict[str, str]) -> None:
    (finding,) = parse(_plain("Re: Spring sale", **headers)).findings
    assert finding.kind is Kind.AUTO_REPLY


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Auto_Submitted": "no"},
        {"X_Auto_Response_Suppress": "All"},  # Exchange sets it on ordinary mail too
        {"X_Autoreply": "no"},
        {"Precedence": "bulk"},
    ],
)
def test_ordinary_replies_are_not_auto_replies(headers: dict[str, str]) -> None:
    assert not rfc3834.FAMILY.detect(_msg(_plain("Re: Spring sale", **headers)))


def test_system_notices_are_not_replies() -> None:
    raw = _plain("*** SECURITY information for host ***", Auto_Submitted="auto-generated")
    assert not rfc3834.FAMILY.detect(_msg(raw))


def test_vacation_phrase_mid_subject_needs_a_header() -> None:
    subject = "Question about the office party"  # "office" alone is nothing
    assert not rfc3834.FAMILY.detect(_msg(_plain(subject)))
    lotus = "Carol is out of the office."
    assert not rfc3834.FAMILY.detect(_msg(_plain(lotus)))
    assert rfc3834.FAMILY.detect(_msg(_plain(lotus, X_Auto_Response_Suppress="OOF")))


def test_our_subject_quoted_back_does_not_make_a_bounce() -> None:
    raw = _plain("Automatic reply: Your delivery status update", Auto_Submitted="auto-replied")
    assert [f.kind for f in parse(raw).findings] == [Kind.AUTO_REPLY]
    ndr = _plain("Undeliverable: Automatic reply: Spring sale", Auto_Submitted="auto-replied")
    assert not rfc3834.FAMILY.detect(_msg(ndr))


def test_mailer_daemon_with_vacation_subject_is_a_bounce() -> None:
    raw = _plain("Automatic reply: x", Auto_Submitted="auto-replied").replace(
        b"someone@example.org", b"MAILER-DAEMON@example.org"
    )
    assert not rfc3834.FAMILY.detect(_msg(raw))


@pytest.mark.corpus
def test_corpus_auto_replies() -> None:
    path = CORPUS / "ground_truth.jsonl"
    if not path.exists():
        pytest.skip("corpus absent")
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    rows = [r for r in rows if r["family"] == "rfc3834"]
    for r in rows:
        report = parse((CORPUS / r["file"]).read_bytes())
        (finding,) = report.findings
        assert finding.recipient == r["recipient"], r["file"]
        assert finding.reason == r["reason"], r["file"]
        assert finding.kind.value == r["class"], r["file"]


def test_an_out_of_office_quoting_an_error_is_not_a_bounce() -> None:
    # Apache James' body marker ("Error message below:") alone once made this
    # a hard bounce of bob@example.net; auto-replies are now tried before the
    # text families that trust body markers.
    raw = (
        b"From: Ann Example <ann@example.org>\n"
        b"To: news@example.com\n"
        b"Subject: Out of office: Spring sale\n"
        b"Auto-Submitted: auto-replied\n"
        b"In-Reply-To: <campaign-42@example.com>\n"
        b"\n"
        b"I am away until Monday. The last error I saw was:\n\n"
        b"Error message below:\n550 5.1.1 mailbox unavailable\n\n"
        b"Message details:\n  RCPT TO: bob@example.net\n"
    )
    report = parse(raw)
    assert report.family == "rfc3834"
    (finding,) = report.findings
    assert finding.kind is Kind.AUTO_REPLY
    assert finding.recipient == "ann@example.org"
