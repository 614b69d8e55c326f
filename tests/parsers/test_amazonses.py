"""Amazon SES events mailed by SNS."""

from __future__ import annotations

import json

from returnpath.parsers.families.amazonses import FAMILY
from tests.parsers.bounce_helpers import load, message


def test_bounce_event() -> None:
    msg = load("amazonses-bounce.eml")
    assert FAMILY.detect(msg)
    [f] = FAMILY.extract(msg)
    assert (f.recipient, f.kind.value, f.reason, f.status) == (
        "ghost@example.com",
        "hard_bounce",
        "userunknown",
        "5.1.1",
    )
    assert f.original_message_id == "<ses-msg-1@sender.example>"


def _event(body: dict[str, object]) -> str:
    return "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification\n\n" + json.dumps(body)


def test_complaint_and_delivery_events() -> None:
    complaint = message(
        _event(
            {
                "notificationType": "Complaint",
                "complaint": {
                    "complainedRecipients": [{"emailAddress": "angry@example.com"}],
                    "complaintFeedbackType": "abuse",
                },
                "mail": {},
            }
        )
    )
    [c] = FAMILY.extract(complaint)
    assert (c.recipient, c.kind.value, c.feedback_type) == (
        "angry@example.com",
        "complaint",
        "abuse",
    )
    delivery = message(
        _event(
            {
                "notificationType": "Delivery",
                "delivery": {"recipients": ["ok@example.com"], "smtpResponse": "250 2.0.0 OK"},
                "mail": {},
            }
        )
    )
    [d] = FAMILY.extract(delivery)
    assert (d.recipient, d.kind.value) == ("ok@example.com", "delivered")


def test_sns_envelope_and_folded_lines() -> None:
    inner = json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Transient",
                "bouncedRecipients": [
                    {
                        "emailAddress": "full@example.com",
                        "diagnosticCode": "smtp; 452 4.2.2 Mailbox full",
                    }
                ],
            },
            "mail": {},
        }
    )
    body = json.dumps({"Type": "Notification", "Message": inner})
    folded = body[:60] + "!\n " + body[60:]
    [f] = FAMILY.extract(message("From: no-reply@sns.amazonaws.com\n\n" + folded))
    assert (f.recipient, f.reason, f.kind.value) == (
        "full@example.com",
        "mailboxfull",
        "soft_bounce",
    )


def test_broken_json_still_names_the_recipient() -> None:
    msg = message(
        'From: no-reply@sns.amazonaws.com\n\n{"notificationType":"Bounce",'
        '"emailAddress":"cut@example.com", "diagnosticCode": "550 5.1.1 user unkn'
    )
    assert [f.recipient for f in FAMILY.extract(msg)] == ["cut@example.com"]
