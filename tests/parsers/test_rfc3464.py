"""RFC 3464 / RFC 6533 delivery status notifications: every field we rely on."""

from __future__ import annotations

from pathlib import Path

from returnpath.parsers import parse
from returnpath.parsers.families.rfc3464 import FAMILY
from returnpath.parsers.mime import field_blocks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"


def _one(name: str):  # type: ignore[no-untyped-def]
    report = parse((FIXTURES / name).read_bytes())
    assert report.family == "rfc3464"
    assert len(report.findings) == 1
    return report.findings[0]


def test_per_recipient_and_per_message_fields() -> None:
    f = _one("postfix-dsn-5.1.1.eml")
    assert f.recipient == "nobody@example.org"
    assert f.original_recipient is None  # same address, other case: not worth reporting
    assert f.action == "failed"
    assert f.status == "5.1.1"
    assert f.smtp_code == "550"
    assert f.remote_mta == "mx.example.org"
    assert f.reporting_mta == "mx1.sender.example"
    assert f.last_attempt == "Tue,  3 Mar 2026 10:15:02 +0000 (UTC)"
    assert f.diagnostic is not None and f.diagnostic.startswith("550 5.1.1 <nobody@example.org>")
    assert "virtual mailbox table" in f.diagnostic  # folded continuation line kept


def test_original_message_id_from_attached_message() -> None:
    assert _one("postfix-dsn-5.1.1.eml").original_message_id == (
        "<newsletter-2026-03.42@sender.example>"
    )


def test_original_message_id_from_rfc822_headers() -> None:
    assert _one("dsn-4.2.2-mailbox-full.eml").original_message_id == "<order-77@sender.example>"


def test_exim_vague_status_takes_the_reply_code() -> None:
    f = _one("exim-dsn-5.0.0.eml")
    assert (f.status, f.reason, f.kind.value) == ("5.1.1", "userunknown", "hard_bounce")


def test_groups_without_blank_lines_are_split() -> None:
    report = parse((FIXTURES / "dsn-two-recipients.eml").read_bytes())
    assert [f.recipient for f in report.findings] == ["alice@example.com", "bob@example.com"]
    assert [f.reason for f in report.findings] == ["userunknown", "mailboxfull"]


def test_delayed_and_delivered_actions() -> None:
    assert _one("dsn-delayed.eml").kind.value == "delayed"
    assert _one("dsn-delivered.eml").kind.value == "delivered"


def test_global_delivery_status_with_utf8_address() -> None:
    assert _one("global-dsn.eml").recipient == "ユーザー@例え.jp"


def test_dsn_forwarded_inside_another_message() -> None:
    f = _one("forwarded-dsn.eml")
    assert (f.recipient, f.reason) == ("moved@example.com", "hasmoved")


def test_field_blocks_fold_and_split() -> None:
    text = (
        "Reporting-MTA: dns; a.example\n\n"
        "Final-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 no\n  such user\n"
        "Final-Recipient: rfc822; z@y.example\nAction: delayed\n"
    )
    blocks = field_blocks(text)
    assert blocks[0] == {"reporting-mta": "dns; a.example"}
    assert blocks[1]["diagnostic-code"] == "smtp; 550 no such user"
    assert blocks[2] == {"final-recipient": "rfc822; z@y.example", "action": "delayed"}


def test_fields_pasted_into_plain_text_are_read() -> None:
    raw = (
        b"From: MAILER-DAEMON@gw.example\nSubject: failure\n\n"
        b"Your message could not be delivered.\n\n"
        b"Final-Recipient: rfc822; lost@example.com\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    )
    report = parse(raw)
    assert report.family == "rfc3464"
    assert [(f.recipient, f.reason) for f in report.findings] == [
        ("lost@example.com", "userunknown")
    ]


def test_bad_status_and_missing_fields_never_raise() -> None:
    raw = (
        b"From: MAILER-DAEMON@gw.example\nContent-Type: multipart/report; boundary=B\n\n"
        b"--B\nContent-Type: message/delivery-status\n\n"
        b"Final-Recipient: rfc822; odd@example.com\nStatus: 5\nAction: \n\n"
        b"Final-Recipient: nonsense\n\n--B--\n"
    )
    report = parse(raw)
    assert report.error is None
    assert [f.recipient for f in report.findings] == ["odd@example.com"]
    assert report.findings[0].status is None


def test_detects_only_reports() -> None:
    import email
    from email import policy

    msg = email.message_from_bytes(
        (FIXTURES / "not-a-bounce.eml").read_bytes(), policy=policy.compat32
    )
    assert not FAMILY.detect(msg)


_NOTE_DSN = (
    "From: MAILER-DAEMON@mta.example\nTo: s@sender.example\nSubject: failure\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
    "--b\nContent-Type: text/plain\n\nDelivery failed.\n\n"
    "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mta.example\n\n"
    "Final-Recipient: rfc822;a@example.org\nAction: failed\n{status}\n{diag}\n"
    "--b--\n"
)


def test_status_note_is_the_reporting_mta_verdict() -> None:
    # PowerMTA comments the code; the remote's "User Unknown" at 5.2.1 is a disabled box
    raw = _NOTE_DSN.format(
        status="Status: 5.2.1 (mailbox disabled, not accepting messages)",
        diag="Diagnostic-Code: smtp;550 5.2.1 <a@example.org>... User Unknown",
    )
    [f] = parse(raw.encode()).findings
    assert (f.status, f.reason, f.kind.value) == ("5.2.1", "suspend", "soft_bounce")


def test_status_note_without_a_diagnostic() -> None:
    raw = _NOTE_DSN.format(
        status="Action: delayed\nStatus: 4.0.0 (example.org: host name lookup failure)", diag=""
    )
    [f] = parse(raw.replace("Action: failed\n", "").encode()).findings
    assert (f.status, f.reason) == ("4.0.0", "networkerror")


def test_class_only_notes_are_ignored() -> None:
    raw = _NOTE_DSN.format(
        status="Status: 5.1.1 (permanent failure)",
        diag="Diagnostic-Code: smtp; 550 5.1.1 unknown user",
    )
    [f] = parse(raw.encode()).findings
    assert f.diagnostic == "550 5.1.1 unknown user"


def test_without_a_diagnostic_the_notice_explains() -> None:
    # au/EZweb: no Diagnostic-Code; the notice says why above the SMTP detail
    raw = _NOTE_DSN.format(status="Status: 5.0.0", diag="").replace(
        "Delivery failed.",
        "The user(s) account is disabled.\n\n"
        "<a@example.org>: 550 user unknown (in reply to RCPT TO command)",
    )
    [f] = parse(raw.encode()).findings
    assert (f.reason, f.kind.value) == ("suspend", "soft_bounce")


def test_powermta_category_when_the_reply_says_nothing() -> None:
    raw = _NOTE_DSN.format(
        status="Status: 5.0.0",
        diag="Diagnostic-Code: smtp;550 sorry\nX-PowerMTA-BounceCategory: quota-issues",
    )
    [f] = parse(raw.encode()).findings
    assert (f.reason, f.kind.value) == ("mailboxfull", "soft_bounce")


def test_powermta_category_does_not_override_the_words() -> None:
    raw = _NOTE_DSN.format(
        status="Status: 5.0.0",
        diag="Diagnostic-Code: smtp;550 5.7.1 blocked using zen.spamhaus.org\n"
        "X-PowerMTA-BounceCategory: bad-mailbox",
    )
    [f] = parse(raw.encode()).findings
    assert f.reason == "blocked"


def test_without_a_remote_host_the_reporting_providers_table_applies() -> None:
    raw = _NOTE_DSN.format(
        status="Status: 5.5.0",
        diag="Diagnostic-Code: smtp;550 Requested action not taken: "
        "mailbox unavailable (-0000:2222:-0000)",
    ).replace("Reporting-MTA: dns; mta.example", "Reporting-MTA: dns;BAY004-MC1.hotmail.com")
    [f] = parse(raw.encode()).findings
    assert (f.reason, f.kind.value) == ("userunknown", "hard_bounce")


def test_the_same_words_from_anyone_else_name_no_command() -> None:
    raw = _NOTE_DSN.format(
        status="Status: 5.5.0",
        diag="Diagnostic-Code: smtp;550 Requested action not taken: mailbox unavailable",
    )
    [f] = parse(raw.encode()).findings
    assert (f.reason, f.kind.value) == ("filtered", "soft_bounce")
