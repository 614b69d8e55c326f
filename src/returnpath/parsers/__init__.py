"""Pure parsing: raw message bytes in, a Report out. No I/O, never raises.

    >>> from parsers import parse
    >>> report = parse(raw_bytes, envelope_recipient="b+tok@bounces.example.com")

The families in ``parsers.registry.FAMILIES`` are tried in order; the first
one that recognises the message and extracts findings wins. The last of them,
``fallback``, makes one finding without a recipient for a delivery failure no
other family could read; the return-path token then names the recipient.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from returnpath.parsers._types import Msg
from returnpath.parsers.fastparse import message_from_bytes
from returnpath.parsers.mime import MEMO, first_address, header_text
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.registry import FAMILIES
from returnpath.parsers.steps import name_steps
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


#: per-message memos (mime's, fastparse.parsed_text's): they hold the message's own
#: parts, so every parsed tree was a reference cycle left to the cycle collector
_MEMOS = (MEMO, "_returnpath_parsed")


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
            if part.is_multipart():
                stack.extend(p for p in part.get_payload() if isinstance(p, Message))
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
    findings = name_steps(findings, msg)
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
