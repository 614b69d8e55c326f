"""Complaint reports: ARF (RFC 5965, RFC 6650, RFC 6591) and forwarded originals.

Two shapes reach us from feedback loops:

* **ARF**: ``multipart/report; report-type=feedback-report`` with a
  ``message/feedback-report`` part (Yahoo CFL, AOL, Comcast, Validity/Return
  Path FBLs, DMARC failure reports of RFC 6591). The complained-about
  recipient is in ``Original-Rcpt-To`` (one field per recipient) or, for
  ``opt-out`` reports, ``Removal-Recipient``.
* **Forwarded original**: the report is an ordinary message with the original
  attached as ``message/rfc822`` — Microsoft JMRP (Hotmail/Outlook), old AOL
  "Client TOS Notification" mails, small providers forwarding to abuse@. We
  accept these only from a known feedback-loop sender or with an abuse-report
  subject, because people forward mail as attachments all the time.

Every Feedback-Type yields kind ``complaint`` with reason ``feedback``: that is
how the labelled corpus (Sisimai's vocabulary) classes all of them, ``opt-out``
included. The suppression policy can still tell them apart by
``feedback_type``, which is kept lower case.

Recipient, in order of trust: the report's ``Original-Rcpt-To`` /
``Removal-Recipient``; provider markers inside the attached original
(``X-HmXmrOriginalRecipient`` of JMRP, ``X-Apparently-To`` of Yahoo); the
original's ``To:``; else None (FBLs often redact it; the return-path token may
still name the recipient later). ``remote_mta`` is ARF ``Source-IP`` — the
peer the reporter received the message from, i.e. which of *our* sending IPs
drew the complaint — and ``reporting_mta`` is ``Reporting-MTA``.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import replace
from email.message import Message
from email.utils import collapse_rfc2231_value

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family
from returnpath.parsers.families._signals import sender_local
from returnpath.parsers.fastparse import message_from_bytes
from returnpath.parsers.mime import (
    all_parts,
    attached_originals,
    first_address,
    header_text,
    leaf_text,
)
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.vocabulary import Reason

NAME = "arf"
REASON = Reason.FEEDBACK

# Feedback-Type (RFC 5965 §7.3 registry, RFC 6591, RFC 6650) -> kind.
# All map to complaint, following the corpus; the table exists so that a
# tenant policy or a future label set can split one off in one place.
FEEDBACK_KINDS: dict[str, Kind] = {
    "abuse": Kind.COMPLAINT,
    "fraud": Kind.COMPLAINT,
    "virus": Kind.COMPLAINT,
    "not-spam": Kind.COMPLAINT,
    "auth-failure": Kind.COMPLAINT,
    "other": Kind.COMPLAINT,
    "opt-out": Kind.COMPLAINT,
    "dkim": Kind.COMPLAINT,  # pre-RFC 6591 drafts of DKIM failure reports
}

# Spellings seen in the wild, mapped to the registered name.
FEEDBACK_ALIASES: dict[str, str] = {
    "complaint": "abuse",
    "spam": "abuse",
    "opt-out-list": "opt-out",
    "optout": "opt-out",
    "unsubscribe": "opt-out",
    "notspam": "not-spam",
    "auth_failure": "auth-failure",
}

# Fields of the machine-readable part naming the complained-about recipient.
RECIPIENT_FIELDS: tuple[str, ...] = ("Original-Rcpt-To", "Removal-Recipient")

# Headers that feedback loops add to the attached original to name the
# recipient whose complaint it was (JMRP, Yahoo).
ORIGINAL_RECIPIENT_HEADERS: tuple[str, ...] = (
    "X-HmXmrOriginalRecipient",
    "X-Apparently-To",
)

# Senders of non-ARF feedback-loop mail (exact addresses, lower case).
FBL_SENDERS: frozenset[str] = frozenset(
    {
        "staff@hotmail.com",  # Microsoft JMRP
        "abuse@outlook.com",
        "scomp@aol.net",  # AOL FBL before it spoke ARF
        "feedback@arf.mail.yahoo.com",  # Yahoo CFL
        "fbl@comcast.net",
        "feedbackloop@comcastfbl.senderscore.net",
        "complaints@email-abuse.amazonses.com",
        "fbl@fbl.mail.ru",
    }
)

# Apple Mail's "Unsubscribe" button mails the List-Unsubscribe mailto: address
# with this header; the labelled corpus (Sisimai) reads it as an ARF opt-out
# by the sender, so it is a complaint of type opt-out here, not an
# ``unsubscribe`` finding — both suppress permanently.
APPLE_UNSUBSCRIBE_HEADER = "X-Apple-Unsubscribe"
APPLE_FEEDBACK_TYPE = "opt-out"

# Headers on a non-ARF report that name a feedback loop (AOL's loop marker).
FBL_REPORT_HEADERS: dict[str, re.Pattern[str]] = {
    "X-Loop": re.compile(r"scomp", re.IGNORECASE),
}

# Headers a provider adds to the original it sends back (Microsoft JMRP);
# present only in feedback-loop copies, so they identify one by themselves.
FBL_ORIGINAL_MARKERS: tuple[str, ...] = ("X-HmXmrOriginalRecipient",)

# Subjects of non-ARF complaint reports.
FBL_SUBJECTS: re.Pattern[str] = re.compile(
    r"complaint\s+about\s+message|abuse\s+report|spam\s+report|"
    r"feedback\s+(?:loop|report)|client\s+tos\s+notification|"
    r"email\s+feedback\s+report|reported\s+as\s+spam|spam\s+complaint",
    re.IGNORECASE,
)

# The body text of an ARF report is short; keep at most this much as diagnostic.
DIAGNOSTIC_CHARS = 300
MAX_TOP_PARTS = 8


def _is_apple_unsubscribe(msg: Msg) -> bool:
    return header_text(msg, APPLE_UNSUBSCRIBE_HEADER).lower() == "true"


def _is_forwarded_complaint(msg: Msg) -> bool:
    """A non-ARF complaint: an original attached, plus a feedback-loop signature.

    Signatures: a known FBL sender, an abuse-report subject, an FBL loop
    header on the report, or a provider's marker header on the original.
    """
    if not msg.is_multipart() or sender_local(msg) in ("mailer-daemon", "postmaster"):
        return False
    originals = attached_originals(msg)
    if not originals:
        return False
    sender = (first_address(header_text(msg, "From")) or "").lower()
    if sender in FBL_SENDERS or FBL_SUBJECTS.search(header_text(msg, "Subject")):
        return True
    if any(p.search(header_text(msg, name)) for name, p in FBL_REPORT_HEADERS.items()):
        return True
    return any(o.get(name) is not None for o in originals for name in FBL_ORIGINAL_MARKERS)


def _report_container(msg: Msg) -> Msg:
    """The multipart that holds the ``message/feedback-report`` part.

    An abuse desk may forward an ARF report inside another message; reading
    from the container keeps the original, the text and the fields together
    instead of picking up the wrapper's own attachments.
    """
    for part in all_parts(msg):
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list) and any(
            isinstance(c, Message) and c.get_content_type() == "message/feedback-report"
            for c in children
        ):
            return part
    return msg


def _feedback_fields(msg: Msg) -> Msg | None:
    """The ``message/feedback-report`` part's fields, parsed as a header block."""
    for part in all_parts(msg):
        if part.get_content_type() != "message/feedback-report":
            continue
        payload = part.get_payload()
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            if encoding not in ("base64", "quoted-printable"):
                return payload[0]  # compat32 parses message/* as an embedded message
            # Encoded (RFC 2046 forbids it, FBLs do it): the "message" parsed
            # above is the encoded text; decode it ourselves.
            text = _decode(payload[0].as_bytes(), encoding)
        else:
            raw = part.get_payload(decode=True)
            text = raw if isinstance(raw, bytes) else str(payload).encode("utf-8", "replace")
        return message_from_bytes(text.lstrip())
    return None


def _decode(data: bytes, encoding: str) -> bytes:
    try:
        if encoding == "base64":
            return base64.b64decode(b"".join(data.split()), validate=False)
        return quopri.decodestring(data)
    except (ValueError, binascii.Error):
        return data


def _field(fields: Msg | None, name: str) -> str | None:
    if fields is None:
        return None
    value = header_text(fields, name)
    return value or None


def _feedback_type(fields: Msg | None) -> str:
    """Lower-case Feedback-Type; a forwarded original without ARF counts as abuse."""
    raw = (_field(fields, "Feedback-Type") or "abuse").strip().lower()
    raw = raw.split(";", 1)[0].strip()
    return FEEDBACK_ALIASES.get(raw, raw)


def _report_recipients(fields: Msg | None) -> list[str | None]:
    if fields is None:
        return []
    found: list[str | None] = []
    for name in RECIPIENT_FIELDS:
        for value in fields.get_all(name) or []:
            addr = first_address(str(value))
            if addr:
                found.append(addr)
    return found


def _recipient_of_original(original: Msg) -> str | None:
    """The recipient an attached original names, provider markers first."""
    for name in (*ORIGINAL_RECIPIENT_HEADERS, "To"):
        addr = first_address(header_text(original, name))
        if addr:
            return addr
    return None


def _message_id(original: Msg | None) -> str | None:
    if original is None:
        return None
    value = header_text(original, "Message-ID").strip()
    return value or None


def _strip_type(value: str | None) -> str | None:
    """``dns; mx.example.net`` -> ``mx.example.net``."""
    if not value:
        return None
    return value.split(";", 1)[-1].strip() or None


def _diagnostic(msg: Msg) -> str | None:
    """The report's own human-readable text part (not the original's), squeezed."""
    children = msg.get_payload() if msg.is_multipart() else [msg]
    if not isinstance(children, list):
        return None
    for part in children[:MAX_TOP_PARTS]:
        if isinstance(part, Message) and part.get_content_type() == "text/plain":
            text = " ".join(leaf_text(part, DIAGNOSTIC_CHARS * 4).split())
            return text[:DIAGNOSTIC_CHARS] or None
    return None


def _unique(items: list[str | None]) -> list[str | None]:
    seen: set[str] = set()
    out: list[str | None] = []
    for item in items:
        key = (item or "").lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out


class Arf:
    """ARF reports and forwarded complaints."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        """ARF by structure; forwarded originals by sender or subject plus an attachment."""
        if msg.get_content_type() == "multipart/report":
            param = msg.get_param("report-type")
            report_type = collapse_rfc2231_value(param).lower() if param else ""
            if report_type == "feedback-report":
                return True
            if report_type and report_type != "feedback-report":
                return False  # a DSN or MDN: never a complaint
        if any(p.get_content_type() == "message/feedback-report" for p in all_parts(msg)):
            return True
        return _is_apple_unsubscribe(msg) or _is_forwarded_complaint(msg)

    def extract(self, msg: Msg) -> list[Finding]:
        """One finding per complained-about recipient (one with recipient None if unnamed)."""
        msg = _report_container(msg)
        fields = _feedback_fields(msg)
        originals = attached_originals(msg)
        if fields is None and _is_apple_unsubscribe(msg):
            return [
                Finding(
                    kind=FEEDBACK_KINDS[APPLE_FEEDBACK_TYPE],
                    reason=REASON,
                    recipient=first_address(header_text(msg, "From")),
                    feedback_type=APPLE_FEEDBACK_TYPE,
                    diagnostic=header_text(msg, "Subject") or None,
                    family=NAME,
                )
            ]
        if fields is None and not originals:
            return []
        feedback_type = _feedback_type(fields)
        original = originals[0] if originals else None
        source_ip = _field(fields, "Source-IP")
        reporting = _field(fields, "Reporting-MTA")
        template = Finding(
            kind=FEEDBACK_KINDS.get(feedback_type, Kind.COMPLAINT),
            reason=REASON,
            feedback_type=feedback_type,
            remote_mta=source_ip,
            reporting_mta=_strip_type(reporting),
            diagnostic=_diagnostic(msg),
            family=NAME,
        )
        if fields is None and len(originals) > 1:
            # A forwarded report with several originals: one complaint each.
            return [
                replace(
                    template,
                    recipient=_recipient_of_original(o),
                    original_message_id=_message_id(o),
                )
                for o in originals
            ]
        recipients = _report_recipients(fields)
        if not recipients:
            recipients = [_recipient_of_original(original) if original is not None else None]
        message_id = _message_id(original) if original is not None else None
        if message_id is None and fields is not None:
            message_id = _field(fields, "Message-ID")
        return [
            replace(template, recipient=r, original_message_id=message_id)
            for r in _unique(recipients)
        ]


FAMILY: Family = Arf()
