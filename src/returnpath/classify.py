"""Classify a bare SMTP reply or a bounce text without headers: what ``returnpath
classify`` and ``POST /v1/classify`` answer.

A sending relay's synchronous refusal ("550 5.1.1 <a@example.org>: Recipient address
rejected: User unknown"), a line of an MTA's log, the text a customer pasted into a
support ticket: none is a message the parsers could read, but each is exactly what a
bounce's diagnostic holds. So the text is judged as one: by ``parsers.base.make_finding``,
the same decision a parsed bounce gets (the status and reply code read from the text,
the provider tables, the reason table), with the same evidence. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from returnpath.parsers.base import make_finding
from returnpath.parsers.vocabulary import REASONS, Reason

#: the longest text judged: a reason is decided from the first 4,000 characters anyway
#: (``phrase_index.TEXT_CAP``); a pasted bounce with its original message is cut here
MAX_TEXT = 20_000

#: SMTP commands a caller may name (RFC 5321; CONN is the greeting, as the parsers say)
COMMANDS = frozenset({"CONN", "HELO", "EHLO", "MAIL", "RCPT", "DATA"})

Fault = Literal["recipient", "sender", "network", "unknown"]

#: neither the address nor our sending: the path to the receiver or its own systems
#: (transient by nature; a later attempt may succeed)
NETWORK_REASONS: frozenset[Reason] = frozenset(
    {
        Reason.NETWORKERROR,
        Reason.EXPIRED,
        Reason.SYSTEMERROR,
        Reason.SYSTEMFULL,
        Reason.MAILERERROR,
        Reason.FAILEDSTARTTLS,
    }
)
#: a verdict that names nobody's fault: the cause is not said, or nothing failed
UNKNOWN_REASONS: frozenset[Reason] = frozenset(
    {Reason.ONHOLD, Reason.UNDEFINED, Reason.DELIVERED, Reason.VACATION}
)


def fault_of(reason: Reason) -> Fault:
    """Whose fault: ``sender`` for the vocabulary's sender-side reasons (the ones the
    policy never counts against a recipient: ``vocabulary.SENDER_SIDE_REASONS``),
    ``network`` for the path or the receiving system, ``unknown`` when the verdict does
    not say, else ``recipient`` (the address, its mailbox or its domain)."""
    if REASONS[reason].sender_side:
        return "sender"
    if reason in NETWORK_REASONS:
        return "network"
    if reason in UNKNOWN_REASONS:
        return "unknown"
    return "recipient"


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str
    reason: str
    status: str | None
    smtp_code: str | None
    fault: Fault
    decided_by: str
    evidence: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify_text(
    text: str, status: str | None = None, command: str | None = None
) -> Classification:
    """The verdict on ``text`` (a reply or a bounce's words). ``status``: an enhanced
    status code known from elsewhere (a log's ``dsn=`` field); ``command``: the SMTP
    command the reply answered, when the caller knows it (``RCPT``, ``DATA``, ...)."""
    cmd = command.strip().upper() if command else None
    if cmd == "EHLO":
        cmd = "HELO"
    finding = make_finding(
        "classify",
        None,
        text[:MAX_TEXT],
        status=status,
        command=cmd if cmd in COMMANDS else None,
    )
    return Classification(
        kind=finding.kind.value,
        reason=finding.reason.value,
        status=finding.status,
        smtp_code=finding.smtp_code,
        fault=fault_of(finding.reason),
        decided_by=finding.decided_by or "fallback.undefined",  # make_finding always sets it
        evidence=finding.evidence,
    )
