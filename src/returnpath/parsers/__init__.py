"""Pure parsing: raw message bytes in, a Report out. No I/O, never raises.

    >>> from parsers import parse
    >>> report = parse(raw_bytes, envelope_recipient="b+tok@bounces.example.com")

The families in ``parsers.registry.FAMILIES`` are tried in order; the first
one that recognises the message and extracts findings wins.

A bounce that names no recipient at all (a DSN without Final-Recipient, a
plain "failure notice" that only says "550 5.1.1 mailbox does not exist")
is still a bounce: when no family found anything and the message is clearly
a delivery failure report, one finding without a recipient is made from
its status and diagnostic (family ``fallback``), and the return-path token
then names the recipient. Complaints, read receipts, auto-replies and
ordinary mail never get one.
"""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any

from returnpath.parsers import mime
from returnpath.parsers._types import Msg
from returnpath.parsers.base import first_address, header_text, make_finding, strip_diagnostic_type
from returnpath.parsers.families import _hints
from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.families.rfc3834 import SYSTEM_NOTICES
from returnpath.parsers.fastparse import message_from_bytes
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.registry import FAMILIES
from returnpath.parsers.textbounce import section_of
from returnpath.parsers.verp import decode_token, find_token

__all__ = ["Finding", "Kind", "Report", "parse", "parse_message"]


def parse(raw: Any, envelope_recipient: Any = None) -> Report:
    """Parse one message. Bad input yields a Report of kind ``unknown``.

    ``raw`` is the message's bytes (any buffer: bytearray, memoryview) and
    ``envelope_recipient`` a str or None. Typed ``Any`` on purpose: compiled
    by mypyc (hatch_build.py), a declared ``bytes`` would be checked on entry
    and a bytearray refused with a TypeError, where plain Python parses it and
    anything else still gets its Report.
    """
    try:
        msg = message_from_bytes(raw)
    except Exception as exc:  # the stdlib is lenient, but never trust that
        return Report(family="unknown", error=f"unreadable message: {exc!r}")
    report = parse_message(msg, envelope_recipient)
    _release(msg)
    return report


#: per-message memos (mime, _hints, fastparse.parsed_text): they hold the message's own
#: parts, so every parsed tree was a reference cycle left to the cycle collector
_MEMOS = ("_returnpath_cache", "_returnpath_hints", "_returnpath_parsed")


def _release(msg: Msg) -> None:
    """Drop the memos of a tree nobody else holds, so that reference counting frees it
    at once (about 50,000 objects per corpus round no longer wait for, and cost, the
    cycle collector). Never raises: nothing depends on it but memory."""
    try:
        stack: list[Any] = [msg]
        while stack:
            part = stack.pop()
            found = part.__dict__
            parsed = found.get("_returnpath_parsed")
            if parsed:
                stack.extend(parsed.values())
            for key in _MEMOS:
                found.pop(key, None)
            payload = found.get("_payload")
            if isinstance(payload, list):
                stack.extend(p for p in payload if isinstance(p, Message))
    except Exception:
        return


def parse_message(msg: Any, envelope_recipient: Any = None) -> Report:
    """``parse`` for a Message tree (``Any``: never a TypeError on entry, see ``parse``)."""
    try:
        return _parse(msg, envelope_recipient)
    except Exception as exc:  # a parser bug must not lose the message
        return Report(
            family="unknown",
            message_id=_safe(msg, "Message-ID"),
            subject=_safe(msg, "Subject"),
            error=f"parser error: {exc!r}",
        )


def _safe(msg: Msg, name: str) -> str | None:
    try:
        return header_text(msg, name) or None
    except Exception:
        return None


def _parse(msg: Msg, envelope_recipient: str | None) -> Report:
    token = find_token(msg, envelope_recipient)
    findings: list[Finding] = []
    family_name = "unknown"
    for family in FAMILIES:
        if family.detect(msg):
            findings = family.extract(msg)
            if findings:
                family_name = family.name
                break
    if not findings:
        findings = _recipientless_bounce(msg)
        if findings:
            family_name = FALLBACK
    if token is not None:
        findings = _attribute(findings, token)
    return Report(
        findings=tuple(findings),
        family=family_name,
        message_id=header_text(msg, "Message-ID") or None,
        subject=header_text(msg, "Subject") or None,
        sender=first_address(header_text(msg, "From")),
        error=None if findings else "no finding",
    )


def _attribute(findings: list[Finding], token: str) -> list[Finding]:
    """Attach the return-path token; name the recipient from it when nothing else does."""
    decoded = decode_token(token)
    out = []
    for f in findings:
        recipient = f.recipient or (decoded.recipient if decoded else None)
        message_id = f.original_message_id or (decoded.message_id if decoded else None)
        out.append(
            Finding(
                **{
                    **{k: getattr(f, k) for k in f.__slots__},
                    "recipient": recipient,
                    "original_message_id": message_id,
                    "token": token,
                }
            )
        )
    return out


#: family name of the findings made for bounces that name no recipient
FALLBACK = "fallback"
_BOUNCE_KINDS = frozenset({Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE, Kind.DELAYED})
#: report types that are not delivery reports (complaints, read receipts)
_OTHER_REPORTS = frozenset(
    {
        "message/feedback-report",
        "message/disposition-notification",
        "message/global-disposition-notification",
    }
)


def _recipientless_bounce(msg: Msg) -> list[Finding]:
    """One finding without a recipient for a bounce no family could read, else []."""
    dsn = _clearly_dsn(msg)
    if not dsn and not _clearly_text_bounce(msg):
        return []
    text = mime.report_text(msg)
    section = section_of(GENERIC, text)
    status = action = diagnostic = diag_type = remote = None
    reporting = None
    if dsn:
        fields = mime.delivery_status_text(msg) or ""
        blocks = mime.field_blocks(fields)
        for block in blocks:
            reporting = reporting or block.get("reporting-mta")
        about = next(
            (b for b in blocks if "status" in b or "diagnostic-code" in b),
            next((b for b in blocks if "action" in b), {}),
        )
        status = (about.get("status") or "").strip().split(" ")[0] or None
        action = (about.get("action") or "").strip().lower() or None
        raw_diag = about.get("diagnostic-code") or ""
        diag_type = raw_diag.split(";", 1)[0].strip() if ";" in raw_diag else None
        diagnostic = strip_diagnostic_type(raw_diag)
        remote = about.get("remote-mta")
    finding = make_finding(
        FALLBACK,
        None,
        diagnostic or section,
        status=status,
        action=action,
        diagnostic_type=diag_type,
        context=section,
        remote_mta=_mta(remote),
        reporting_mta=_mta(reporting),
        original_message_id=mime.original_message_id(msg),
    )
    return [finding] if finding.kind in _BOUNCE_KINDS else []


def _mta(value: str | None) -> str | None:
    """``dns; mx.example.net`` -> ``mx.example.net``."""
    if not value:
        return None
    return value.split(";", 1)[-1].strip() or None


def _clearly_dsn(msg: Msg) -> bool:
    """A delivery status notification by its MIME structure."""
    if any(ctype in _OTHER_REPORTS for _, ctype in mime.typed_parts(msg)):
        return False
    if msg.get_content_type() == "multipart/report":
        param = msg.get_param("report-type")
        report_type = collapse_rfc2231_value(param).lower() if param else ""
        if report_type and report_type != "delivery-status":
            return False
    return any(ctype in mime.DSN_TYPES for _, ctype in mime.typed_parts(msg))


def _clearly_text_bounce(msg: Msg) -> bool:
    """A plain-text bounce by its headers: only an MTA writes X-Failed-Recipients;
    otherwise a daemon sender *and* a bounce subject (one alone is too weak:
    ``root`` sends cron mail, people write "not delivered" in subjects)."""
    if msg.get_content_type() == "multipart/report":
        return False  # a report of another type (complaint, read receipt)
    if any(p.get_content_type() in _OTHER_REPORTS for p in _hints.parts(msg)):
        return False
    if any(msg.get(h) is not None for h in _hints.BOUNCE_HEADERS):
        return True
    subject = _hints.header_text(msg, "Subject")
    if SYSTEM_NOTICES.search(subject) or not _hints.BOUNCE_SUBJECTS.search(subject):
        return False
    return _hints.sender_local(msg) in _hints.BOUNCE_SENDER_LOCALS or bool(
        _hints.BOUNCE_SENDER_NAMES.search(_hints.header_text(msg, "From"))
    )
