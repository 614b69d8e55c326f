"""Amazon SES notifications delivered by e-mail (SNS topic subscriptions).

SES does not bounce in SMTP terms to the sender: it publishes a JSON event
("notificationType": "Bounce" | "Complaint" | "Delivery") to an SNS topic, and
an e-mail subscription turns it into a plain-text mail whose body *is* the
JSON. The SNS mailer folds long lines with ``!`` + newline + space, which
must be undone before decoding. Recipients, status and diagnostic come
straight from the JSON; the reason is judged by the common tables.
"""

from __future__ import annotations

import json
import re
from typing import Any

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family, make_finding
from returnpath.parsers.gates import gated_search
from returnpath.parsers.mime import first_address, report_head, report_text
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.vocabulary import Reason

NAME = "amazonses"

_MARK_RE = re.compile(
    r'\\?"(?:notificationType|eventType)\\?"\s*:\s*\\?"(?:Bounce|Complaint|Delivery)'
)
_FOLD_RE = re.compile(r"!\n ")
_EMAIL_RE = re.compile(r'"emailAddress"\s*:\s*"([^"]+)"')


def _load(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    if start < 0:
        return None
    for candidate in (text[start:], _FOLD_RE.sub("", text[start:])):
        try:
            obj, _ = json.JSONDecoder().raw_decode(candidate)
        except ValueError:
            continue
        if isinstance(obj, dict):
            # an SNS envelope carries the SES event as a string in "Message"
            inner = obj.get("Message")
            if isinstance(inner, str) and inner.lstrip().startswith("{"):
                return _load(inner) or obj
            return obj
    return None


class AmazonSES:
    """SES bounce, complaint and delivery events in JSON."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        keys = msg.keys()
        # one substring test over all names before the per-name check
        if "x-amz-sns-" in "\n".join(keys).lower() and any(
            k.lower().startswith("x-amz-sns-") for k in keys
        ):
            return True
        head, low = report_head(msg)
        head = head[:4096]
        # every mark names a *Type
        return (
            "Type" in head
            and gated_search(_MARK_RE, head, None if low is None else low[:4096]) is not None
        )

    def extract(self, msg: Msg) -> list[Finding]:
        text = report_text(msg)
        event = _load(text)
        if event is None:
            # undecodable JSON: still name who bounced, judged by the words around
            return [
                make_finding(NAME, a, text[:2000])
                for a in dict.fromkeys(_EMAIL_RE.findall(_FOLD_RE.sub("", text)))
            ]
        kind = str(event.get("notificationType") or event.get("eventType") or "")
        mail = event.get("mail") or {}
        message_id = None
        for header in mail.get("headers") or []:
            if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
                message_id = header.get("value")
        if kind == "Bounce":
            return self._bounces(event.get("bounce") or {}, message_id)
        if kind == "Complaint":
            complaint = event.get("complaint") or {}
            ftype = complaint.get("complaintFeedbackType") or "abuse"
            return [
                Finding(
                    kind=Kind.COMPLAINT,
                    reason=Reason.FEEDBACK,
                    recipient=first_address(str(r.get("emailAddress", ""))),
                    feedback_type=str(ftype).lower(),
                    family=NAME,
                    original_message_id=message_id,
                )
                for r in complaint.get("complainedRecipients") or []
                if isinstance(r, dict)
            ]
        if kind == "Delivery":
            delivery = event.get("delivery") or {}
            return [
                make_finding(
                    NAME,
                    first_address(str(r)),
                    delivery.get("smtpResponse"),
                    status="2.0.0",
                    action="delivered",
                    original_message_id=message_id,
                    remote_mta=delivery.get("remoteMtaIp"),
                )
                for r in delivery.get("recipients") or []
            ]
        return []

    def _bounces(self, bounce: dict[str, Any], message_id: str | None) -> list[Finding]:
        transient = str(bounce.get("bounceType", "")).lower() == "transient"
        out = []
        for r in bounce.get("bouncedRecipients") or []:
            if not isinstance(r, dict):
                continue
            diag = str(r.get("diagnosticCode") or "")
            diag = re.sub(r"^\s*smtp\s*;\s*", "", diag, flags=re.I)
            status = r.get("status")
            if not status and transient:
                status = "4.0.0"
            out.append(
                make_finding(
                    NAME,
                    first_address(str(r.get("emailAddress", ""))),
                    diag or None,
                    status=status,
                    action=r.get("action"),
                    original_message_id=message_id,
                )
            )
        return out


FAMILY: Family = AmazonSES()
