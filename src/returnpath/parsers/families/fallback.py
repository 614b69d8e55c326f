"""Last of all: a delivery failure that no family could read.

A bounce that names no recipient at all (a DSN without Final-Recipient, a
plain "failure notice" that only says "550 5.1.1 mailbox does not exist")
is still a bounce: when the message is clearly a delivery failure report,
one finding without a recipient is made from its status and diagnostic, and
the return-path token then names the recipient (``parsers.parse``).
Complaints, read receipts, auto-replies and ordinary mail never get one:
"clearly" means a delivery-status part, or an MTA's own header, or a
daemon's sender together with a bounce subject.
"""

from __future__ import annotations

from email.utils import collapse_rfc2231_value

from returnpath.parsers import mime
from returnpath.parsers._types import Msg
from returnpath.parsers.base import make_finding, strip_diagnostic_type
from returnpath.parsers.families import _signals
from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.families.rfc3834 import SYSTEM_NOTICES
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.textbounce import section_of

NAME = "fallback"
_BOUNCE_KINDS = frozenset({Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE, Kind.DELAYED})
#: report types that are not delivery reports (complaints, read receipts)
_OTHER_REPORTS = frozenset(
    {
        "message/feedback-report",
        "message/disposition-notification",
        "message/global-disposition-notification",
    }
)


class Fallback:
    """One finding without a recipient for a bounce no family could read."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        return _clearly_dsn(msg) or _clearly_text_bounce(msg)

    def extract(self, msg: Msg) -> list[Finding]:
        dsn = _clearly_dsn(msg)
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
            NAME,
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
    if any(p.get_content_type() in _OTHER_REPORTS for p in mime.all_parts(msg)):
        return False
    if any(msg.get(h) is not None for h in _signals.BOUNCE_HEADERS):
        return True
    subject = mime.header_text(msg, "Subject")
    if SYSTEM_NOTICES.search(subject) or not _signals.BOUNCE_SUBJECTS.search(subject):
        return False
    return _signals.sender_local(msg) in _signals.BOUNCE_SENDER_LOCALS or bool(
        _signals.BOUNCE_SENDER_NAMES.search(mime.header_text(msg, "From"))
    )


FAMILY: Fallback = Fallback()
