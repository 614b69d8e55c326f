"""Pure parsing: raw message bytes in, a Report out. No I/O, never raises.

    >>> from parsers import parse
    >>> report = parse(raw_bytes, envelope_recipient="b+tok@bounces.example.com")

The families in ``parsers.registry.FAMILIES`` are tried in order; the first
one that recognises the message and extracts findings wins.
"""

from __future__ import annotations

from email.message import Message

from parsers.base import first_address, header_text
from parsers.fastparse import message_from_bytes
from parsers.model import Finding, Kind, Report
from parsers.registry import FAMILIES
from parsers.verp import decode_token, find_token

__all__ = ["Finding", "Kind", "Report", "parse", "parse_message"]


def parse(raw: bytes, envelope_recipient: str | None = None) -> Report:
    """Parse one message. Bad input yields a Report of kind ``unknown``."""
    try:
        msg = message_from_bytes(raw)
    except Exception as exc:  # the stdlib is lenient, but never trust that
        return Report(family="unknown", error=f"unreadable message: {exc!r}")
    return parse_message(msg, envelope_recipient)


def parse_message(msg: Message, envelope_recipient: str | None = None) -> Report:
    try:
        return _parse(msg, envelope_recipient)
    except Exception as exc:  # a parser bug must not lose the message
        return Report(
            family="unknown",
            message_id=_safe(msg, "Message-ID"),
            subject=_safe(msg, "Subject"),
            error=f"parser error: {exc!r}",
        )


def _safe(msg: Message, name: str) -> str | None:
    try:
        return header_text(msg, name) or None
    except Exception:
        return None


def _parse(msg: Message, envelope_recipient: str | None) -> Report:
    token = find_token(msg, envelope_recipient)
    findings: list[Finding] = []
    family_name = "unknown"
    for family in FAMILIES:
        if family.detect(msg):
            findings = family.extract(msg)
            if findings:
                family_name = family.name
                break
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
