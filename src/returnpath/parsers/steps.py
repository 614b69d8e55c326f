"""The evidence of the verdicts no rule table made: the family steps.

Most findings get ``decided_by`` (and ``evidence``) from ``base.make_finding``: the
reason table's row, the provider's row, the status code's entry, the fallback. A few
families decide by their format alone and build their findings themselves: an ARF
report is a complaint because it is one (RFC 5965), an RFC 3834 auto-reply says so in
a header, an unsubscribe request is addressed to the unsubscribe mailbox. For those,
``name_steps`` (called by ``parsers.parse`` for every finding) names the step,
``family.<family>.<step>``, and the header or field that decided, read again from the
message with the family's own published signals. A family may also change a reason
after the table decided (rfc3464 reads PowerMTA's bounce category when the words say
nothing); the finding's ``decided_by`` then no longer names what set its reason, and is
replaced by the family's step.

The families stay as they are: everything here reads their public tables.
"""

from __future__ import annotations

from dataclasses import replace

from returnpath.parsers._types import Msg
from returnpath.parsers.families import rfc3834, unsubscribe
from returnpath.parsers.mime import first_address, header_text
from returnpath.parsers.model import Finding
from returnpath.parsers.providers import PROVIDERS
from returnpath.parsers.reason_rules import (
    LATE_RULES,
    RULES,
    STATUS_REASONS,
    SUBJECT_REASONS,
    status_id,
    subject_id,
)
from returnpath.parsers.vocabulary import Reason

#: every table id -> the reason its row gives (a finding whose reason differs was changed
#: after the table decided)
REASON_OF: dict[str, Reason] = {
    **{rule.id: rule.reason for rule in RULES + LATE_RULES},
    **{pid: reason for p in PROVIDERS for pid, (_, reason) in zip(p.ids, p.rules, strict=True)},
    **{status_id(code): reason for code, reason in STATUS_REASONS.items()},
    **{subject_id(code): reason for code, reason in SUBJECT_REASONS.items()},
    **{f"fallback.{r.value}": r for r in Reason},
}

#: families that change a reason after the table: the step's name and what decided
OVERRIDES: dict[str, tuple[str, str]] = {
    "rfc3464": ("bounce-category", "X-PowerMTA-BounceCategory"),
}

_CAP = 200


def _header(msg: Msg, name: str) -> str | None:
    value = header_text(msg, name)
    return f"{name}: {' '.join(value.split())}"[:_CAP] if value else None


def _arf(finding: Finding, msg: Msg) -> tuple[str, str | None]:
    if finding.feedback_type:
        return "family.arf.feedback-type", f"Feedback-Type: {finding.feedback_type}"[:_CAP]
    return "family.arf.forwarded", _header(msg, "Subject")


def _amazonses(finding: Finding, msg: Msg) -> tuple[str, str | None]:
    return "family.amazonses.complaint", (
        f"notificationType: Complaint, complaintFeedbackType: {finding.feedback_type}"
    )


def _rfc3834(finding: Finding, msg: Msg) -> tuple[str, str | None]:
    if finding.reason != Reason.VACATION:
        for pattern, _, reason in rfc3834.RETIRED_MAILBOX:
            m = pattern.search(finding.diagnostic or "") if reason == finding.reason else None
            if m is not None:
                return "family.rfc3834.retired-mailbox", m.group(0)[:_CAP]
        return "family.rfc3834.retired-mailbox", None
    for name, pattern in rfc3834.STRONG_HEADERS.items():
        value = header_text(msg, name) if msg.get(name) is not None else ""
        if value and pattern.search(value):
            return "family.rfc3834.header", _header(msg, name)
    return "family.rfc3834.subject", _header(msg, "Subject")


def _unsubscribe(finding: Finding, msg: Msg) -> tuple[str, str | None]:
    for name in unsubscribe.RECIPIENT_HEADERS:
        for value in msg.get_all(name) or []:
            addr = first_address(str(value))
            if addr and unsubscribe.UNSUBSCRIBE_LOCAL.match(addr.rsplit("@", 1)[0]):
                return "family.unsubscribe.mailbox", f"{name}: {value}"[:_CAP]
    return "family.unsubscribe.subject", _header(msg, "Subject")


_STEPS = {
    "arf": _arf,
    "amazonses": _amazonses,
    "rfc3834": _rfc3834,
    "unsubscribe": _unsubscribe,
}


def _step(finding: Finding, msg: Msg) -> Finding:
    """``finding`` with the family step that decided it (see the module docstring)."""
    if finding.decided_by is None:
        step = _STEPS.get(finding.family)
        decided_by, evidence = (
            step(finding, msg) if step is not None else (f"family.{finding.family}", None)
        )
        return replace(finding, decided_by=decided_by, evidence=evidence)
    name, field = OVERRIDES.get(finding.family, ("override", None))
    return replace(
        finding,
        decided_by=f"family.{finding.family}.{name}",
        evidence=field or f"reason set by the family after {finding.decided_by}",
    )


def name_steps(findings: list[Finding], msg: Msg) -> list[Finding]:
    """Every finding with ``decided_by`` set (the family's step where no row decided, or
    where the family changed the reason its row gave)."""
    out = findings
    for i, f in enumerate(findings):
        if f.decided_by is None or (
            (implied := REASON_OF.get(f.decided_by)) is not None and implied != f.reason
        ):
            if out is findings:
                out = list(findings)
            out[i] = _step(f, msg)
    return out
