"""The parsers' output contract: what every other part of returnpath reads.

A ``Report`` is what one received message says; a ``Finding`` is what it says
about one recipient. These are plain frozen dataclasses (not pydantic) because
parsing runs thousands of times per second and the store and API translate
them into their own models anyway.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from returnpath.parsers.vocabulary import Reason


class Kind(StrEnum):
    """The coarse class the sending side acts on (see DESIGN.md)."""

    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    AUTO_REPLY = "auto_reply"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Finding:
    """One verdict about one recipient.

    ``recipient`` is None only when the message names nobody and no
    return-path token identifies them (then the finding still records that
    *something* bounced, for the operator).
    """

    kind: Kind
    reason: Reason
    recipient: str | None = None
    status: str | None = None  # RFC 3463 enhanced code, e.g. "5.1.1"
    smtp_code: str | None = None  # RFC 5321 reply code, e.g. "550"
    diagnostic: str | None = None  # the remote host's own words
    remote_mta: str | None = None
    reporting_mta: str | None = None
    action: str | None = None  # RFC 3464 Action, lower case
    feedback_type: str | None = None  # ARF Feedback-Type, lower case
    original_message_id: str | None = None
    original_recipient: str | None = None  # RFC 3464 Original-Recipient if it differs
    token: str | None = None  # return-path token (the part after '+'), undecoded
    last_attempt: str | None = None  # Last-Attempt-Date as written
    family: str = "unknown"  # which parser module produced this finding
    #: the id of the table row or family step that set ``kind`` and ``reason``
    #: (``returnpath explain`` prints it in words); None only before issue 17's
    #: evidence work fills it everywhere
    decided_by: str | None = None
    #: the text that row matched (a phrase of the diagnostic, a status code, a header)
    evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the parsers learned from one message.

    ``error`` is set when the message could not be read as intended; the
    Report is then still usable (kind ``unknown``) so that nothing is lost.
    """

    findings: tuple[Finding, ...] = ()
    family: str = "unknown"
    message_id: str | None = None  # Message-ID of the report itself
    subject: str | None = None
    sender: str | None = None  # From: of the report
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def kinds(self) -> list[str]:
        return sorted({f.kind.value for f in self.findings}) or [Kind.UNKNOWN.value]
