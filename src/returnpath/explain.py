"""``returnpath explain FILE``: how a message was recognised and why each finding got its
kind and reason, in words, and what the default policy would do with each finding (the
``effect`` its event would say). Pure: bytes in, a dict or lines of text out (no I/O here).

The words come from what the parsers record: the family that read the message, and
per finding its ``decided_by`` (a rule row's id, a status code's entry, a provider's
row, a family's step, a fallback) and ``evidence`` (what that row matched). The rows'
source comments are not available at run time; the id names the row in
``parsers/reason_rules.py`` or ``parsers/providers.py`` where its source is cited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message
from typing import Any

from returnpath.parsers import parse_message
from returnpath.parsers.fastparse import message_from_bytes
from returnpath.parsers.mime import header_text
from returnpath.parsers.model import Finding, Report
from returnpath.parsers.vocabulary import REASONS
from returnpath.store.policy import (
    NO_HISTORY,
    NO_RECIPIENT_WORDS,
    Outcome,
    Policy,
    Seen,
    Why,
    decide,
)

#: one line per family: what the format is and what recognises it
FAMILIES: dict[str, str] = {
    "arf": "a feedback-loop complaint (ARF, RFC 5965): a multipart/report of report-type "
    "feedback-report, a message/feedback-report part, or a forwarded complaint",
    "amazonses": "an Amazon SES notification (JSON: notificationType / eventType)",
    "rfc3464": "a standard delivery status notification (RFC 3464): a multipart/report of "
    "report-type delivery-status with per-recipient fields",
    "rfc3834": "an automatic reply (RFC 3834): Auto-Submitted, X-Autoreply and kindred "
    "headers, or an out-of-office subject, and not a delivery report",
    "unsubscribe": "an unsubscribe request mailed to the List-Unsubscribe address, or with "
    "an unsubscribe subject",
    "googlegroups": "a Google Groups refusal: from Google's mailer-daemon about a "
    "googlegroups.com address",
    "gmail": "a Gmail notice: from Google's mailer-daemon, 'Technical details of ... failure'",
    "exchange": "a Microsoft Exchange 5.5-2003 plain-text non-delivery report ('did not "
    "reach the following recipient(s)')",
    "apachejames": "an Apache James bounce ('Error message below:', 'Message details:')",
    "kddi": "an au one net (KDDI) notice ('Could not be delivered to:')",
    "ezweb": "an au EZweb gateway notice ('rejected by a remote mail server')",
    "domino": "an IBM/Lotus Domino non-delivery notice ('was not delivered to: ... because')",
    "imailserver": "an Ipswitch IMail Server notice ('Undeliverable Mail')",
    "trendmicro": "a Trend Micro InterScan notice ('Unable to deliver message to')",
    "verizon": "a Verizon Wireless MMS gateway notice",
    "fml": "an fml mailing-list manager's error notice to the list's admin",
    "postfix": "a Postfix bounce: 'This is the mail system at host' (bounce template)",
    "exim": "an Exim bounce: 'This message was created automatically by mail delivery "
    "software', X-Failed-Recipients",
    "sendmail": "a Sendmail bounce: 'The original message was received at', a transcript",
    "qmail": "a qmail bounce: 'Hi. This is the qmail-send program', 'Below this line is a "
    "copy of the message'",
    "courier": "a Courier mail server notice ('running the Courier mail server')",
    "opensmtpd": "an OpenSMTPD bounce ('This is the MAILER-DAEMON, please DO NOT REPLY')",
    "generic": "a plain-text bounce of another MTA: a mailer-daemon sender, a bounce "
    "subject or X-Failed-Recipients, read with the common patterns",
    "fallback": "a delivery failure no family could read: one finding from its status and "
    "words, the recipient named by the return-path token",
    "unknown": "nothing recognised it: not a report returnpath reads",
}

#: the headers that recognise families (shown when present)
SIGNAL_HEADERS = (
    "Content-Type",
    "From",
    "Subject",
    "Auto-Submitted",
    "X-Failed-Recipients",
    "X-Autoreply",
    "Precedence",
    "Feedback-Type",
)

#: the fallbacks of ``parsers.reasons.decide``, in words
FALLBACKS: dict[str, str] = {
    "delivered": "the report says the message was delivered",
    "mailererror": "the diagnostic type is x-unix: a local program failed",
    "expired": "a temporary failure reported as final: the MTA gave up retrying",
    "blocked": "the remote host refused the connection or the greeting",
    "onhold": "no row matched the words or the codes: the cause is not said",
    "undefined": "the report gives no words and no code",
}


def _signals(msg: Message) -> list[str]:
    out = []
    for name in SIGNAL_HEADERS:
        value = header_text(msg, name) if msg.get(name) is not None else ""
        if value:
            out.append(f"{name}: {' '.join(value.split())[:120]}")
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/feedback-report", "message/rfc822"):
            out.append(f"a {ctype} part")
    return list(dict.fromkeys(out))


def decided_in_words(f: Finding) -> str:
    """``decided_by`` and ``evidence`` as a sentence."""
    by, ev = f.decided_by or "", f.evidence
    if by.startswith(("rules.", "late.")):
        table = "reason table" if by.startswith("rules.") else "late reason table"
        if ev is not None and ev == f.status:
            what = f"status {ev}, which the row lists"
        elif ev is not None and ev == f.smtp_code:
            what = f"reply code {ev}, which the row lists"
        else:
            what = f"phrase '{ev}' in the diagnostic"
        return f"row {by} of the {table}: {what}"
    if by.startswith("status."):
        return f"the enhanced status code {by[7:]} alone (RFC 3463 table)"
    if by.startswith("subject."):
        return f"the status code's subject X.{by[8:]}.X (RFC 3463), as nothing more was said"
    if by.startswith("provider."):
        name = by.split(".")[1]
        return f"{name}'s own error table (row {by}): '{ev}' in the diagnostic"
    if by.startswith("fallback."):
        said = FALLBACKS.get(by[9:], by)
        return f"{by}: {said}" + (f" ({ev})" if ev else "")
    if by.startswith("family."):
        parts = by.split(".")
        step = ".".join(parts[2:]) or "its format"
        return f"the {parts[1]} family's step {step}" + (f": {ev}" if ev else "")
    return by or "nothing recorded"


#: families whose reports carry a status field per recipient (RFC 3464 Status:, SES's
#: bouncedRecipients[].status); make_finding reads the diagnostic only when the field
#: says no more than the class (5.0.0)
_STATUS_FIELD_FAMILIES = frozenset({"rfc3464", "amazonses"})


def _status_from(f: Finding) -> str | None:
    if not f.status:
        return None
    in_diagnostic = bool(f.diagnostic and f.status in f.diagnostic)
    if f.family in _STATUS_FIELD_FAMILIES:
        return "the report's status field" + (", also in the diagnostic" if in_diagnostic else "")
    return "read from the diagnostic" if in_diagnostic else "given by the family"


#: any instant: with no history, ``decide`` compares times only with this one
_AT = datetime(2026, 1, 1, tzinfo=UTC)


def policy_effects(f: Finding, report: Report) -> dict[str, dict[str, str]]:
    """What the default policy would do with the finding, as the event's ``effect`` says it:
    for the first finding about its address, without and with a valid signed return path.

    Only an estimate: ``explain`` reads a file, not a tenant, so it knows neither the
    tenant's policy, nor its signing keys (whether the return path verifies), nor what
    happened to the address before (soft bounces counted, a suppression standing).
    """
    out = {}
    for label, verified in (("unverified", False), ("signed", True)):
        if not f.recipient:
            outcome, code, words = Outcome.RECORDED, Why.NO_RECIPIENT, NO_RECIPIENT_WORDS
        else:
            seen = Seen(
                kind=f.kind.value,
                reason=f.reason.value,
                at=_AT,
                verified=verified,
                family=report.family,
                sender=report.sender,
            )
            d = decide(seen, NO_HISTORY, Policy())
            outcome, code, words = d.outcome, d.code, d.why
        out[label] = {"effect": outcome.value, "effect_reason": code.value, "effect_detail": words}
    return out


def explain_report(report: Report, msg: Message | None) -> dict[str, Any]:
    """What ``explain`` says about a parsed message, as data (``--json``)."""
    return {
        "family": report.family,
        "recognised_as": FAMILIES.get(report.family, f"the {report.family} family"),
        "signals": _signals(msg) if msg is not None else [],
        "error": report.error,
        "findings": [
            {
                "recipient": f.recipient,
                "kind": f.kind.value,
                "reason": f.reason.value,
                "reason_means": REASONS[f.reason].description if f.reason in REASONS else "",
                "decided_by": f.decided_by,
                "evidence": f.evidence,
                "why": decided_in_words(f),
                "status": f.status,
                "status_from": _status_from(f),
                "smtp_code": f.smtp_code,
                "diagnostic": f.diagnostic,
                "policy": policy_effects(f, report),
            }
            for f in report.findings
        ],
    }


def explain_bytes(raw: bytes) -> dict[str, Any]:
    """Parse ``raw`` and explain it (see ``explain_report``)."""
    try:
        msg: Message | None = message_from_bytes(raw)
    except Exception:  # parse() reports the same failure as its error
        msg = None
    report = parse_message(msg) if msg is not None else Report(error="unreadable message")
    return explain_report(report, msg)


def as_text(name: str, data: dict[str, Any]) -> str:
    """The explanation in lines of text (what ``returnpath explain`` prints)."""
    lines = [name, f"  recognised as {data['family']}: {data['recognised_as']}"]
    if data["signals"]:
        lines.append("  signals present:")
        lines += [f"    {s}" for s in data["signals"]]
    if data["error"]:
        lines.append(f"  note: {data['error']}")
    for n, f in enumerate(data["findings"], 1):
        lines.append(f"  finding {n}: {f['recipient'] or '(recipient not named)'}")
        lines.append(f"    {f['kind']} / {f['reason']}: {f['reason_means']}")
        lines.append(f"    decided by {f['why']}")
        codes = []
        if f["status"]:
            codes.append(f"status {f['status']} ({f['status_from']})")
        if f["smtp_code"]:
            codes.append(f"reply code {f['smtp_code']}")
        if codes:
            lines.append(f"    {'; '.join(codes)}")
        if f["diagnostic"]:
            lines.append(f"    diagnostic: {f['diagnostic'][:300]}")
        lines.append("    the default policy, for a first finding about the address:")
        for label, said in (
            ("unverified", f["policy"]["unverified"]),
            ("with a valid signed return path", f["policy"]["signed"]),
        ):
            lines.append(
                f"      {label}: {said['effect']} ({said['effect_reason']}): {said['effect_detail']}"
            )
    return "\n".join(lines)
