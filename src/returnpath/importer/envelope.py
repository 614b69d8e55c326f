"""The envelope a stored message no longer carries, recovered from its headers.

Over SMTP, returnpath knows the envelope recipient (``b+TOKEN@bounces.example.com``):
its token attributes the bounce and its domain is the one the signature is checked
against. A mailbox keeps only the headers the delivering MTA added: ``X-Original-To``
and ``Delivered-To`` (Postfix), ``Envelope-To`` (Exim), ``X-Envelope-To`` (others),
and the report's ``To``. Of these, the first whose domain is a bounce domain of a
tenant wins (that tenant records it); else the first carrying a token; else the
first at all. The choice depends on the message alone, so importing the same
mailbox twice gives the same envelope and the same dedup key (``store.ingest``).

The arrival time is the mailbox's own when it has one (mbox ``From_`` line, IMAP
INTERNALDATE, a Maildir name), else the top ``Received`` header's, else ``Date``:
the policy's soft-bounce window and the token's age are judged at the time the
bounce came, not at the time of the import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import TypeVar

from returnpath.parsers.verp import ENVELOPE_HEADERS, token_of_address

#: where a delivering MTA wrote the envelope recipient, most trustworthy first
RECIPIENT_HEADERS = (*ENVELOPE_HEADERS, "To")
_HEADERS = BytesHeaderParser(policy=compat32)
#: dates before this are a broken clock, not an arrival
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Envelope:
    mail_from: str | None  # Return-Path; "" for the null sender of a bounce
    recipients: tuple[str, ...]  # candidates, most trustworthy first
    arrived: datetime | None  # top Received, else Date


def head_of(raw: bytes) -> bytes:
    """The header block (a message without a body is all header)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(ends)] if ends else raw


def read_envelope(raw: bytes) -> Envelope:
    headers = _HEADERS.parsebytes(head_of(raw) + b"\n\n")
    recipients: list[str] = []
    for name in RECIPIENT_HEADERS:
        values = [str(v) for v in headers.get_all(name) or []]
        for _, address in getaddresses(values):
            address = address.strip()
            if "@" in address and address not in recipients:
                recipients.append(address)
    return_path = headers.get("Return-Path")
    mail_from = None
    if return_path is not None:
        found = getaddresses([str(return_path)])
        mail_from = found[0][1] if found else ""
    received = headers.get_all("Received") or []
    arrived = _received_date(str(received[0])) if received else None
    if arrived is None and headers.get("Date"):
        arrived = plausible(_date(str(headers["Date"])))
    return Envelope(mail_from, tuple(recipients), arrived)


def choose_recipient(
    candidates: Iterable[str], owner: Callable[[str], T | None]
) -> tuple[str | None, T | None]:
    """The envelope recipient, and the tenant owning its domain (``owner``) if any."""
    listed = list(candidates)
    for address in listed:
        tenant = owner(address.rpartition("@")[2].lower())
        if tenant is not None:
            return address, tenant
    for address in listed:
        if token_of_address(address):
            return address, None
    return (listed[0] if listed else None), None


def arrival(*times: datetime | None) -> datetime:
    """The first plausible time given (in that order), else now; never in the future."""
    now = datetime.now(UTC)
    for value in times:
        if value is not None and _EARLIEST <= value <= now:
            return value
    return now


def plausible(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None


def _received_date(value: str) -> datetime | None:
    """RFC 5322 3.6.7: the date follows the last semicolon of a Received header."""
    if ";" not in value:
        return None
    return plausible(_date(value.rpartition(";")[2]))
