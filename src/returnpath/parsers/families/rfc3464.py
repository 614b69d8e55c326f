"""RFC 3464 delivery status notifications (and RFC 6533 global ones).

A DSN is ``multipart/report; report-type=delivery-status`` with a human part,
a ``message/delivery-status`` part of field groups (one per message, one per
recipient) and the original as ``message/rfc822`` or ``text/rfc822-headers``.

Quirks handled here, all seen from real MTAs:

* the field groups pasted into a ``text/plain`` part (some gateways lose the
  MIME structure but keep the words ``Final-Recipient:``/``Status:``);
* no blank line between recipient groups (several Exchange versions);
* ``Status: 5.0.0`` for every failure (Exim): the reply in Diagnostic-Code
  is the real code;
* an empty Diagnostic-Code: the human part then explains, near the address;
* a DSN forwarded as ``message/rfc822`` inside a plain message (a user or a
  ticket system forwarded the bounce to us).
"""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import Message

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family, make_finding, strip_diagnostic_type
from returnpath.parsers.gates import gated_search
from returnpath.parsers.mime import (
    DSN_TYPES,
    ORIGINAL_TYPES,
    clean_address,
    delivery_status_text,
    field_blocks,
    first_address,
    original_message_id,
    report_low,
    report_text,
    typed_parts,
)
from returnpath.parsers.model import Finding
from returnpath.parsers.providers import provider_reason
from returnpath.parsers.reasons import kind_for
from returnpath.parsers.vocabulary import Reason

NAME = "rfc3464"

_INLINE_FIELDS_RE = re.compile(
    r"^(?:Final-Recipient|Original-Recipient)[ \t]*:[^\n]*@[^\n]*\n(?:.*\n){0,12}?"
    r"(?:Action|Status)[ \t]*:",
    re.I | re.M,
)
_FIELDS_START_RE = re.compile(
    r"^(?:Reporting-MTA|Final-Recipient|Original-Recipient|Arrival-Date|Received-From-MTA)"
    r"[ \t]*:",
    re.I | re.M,
)
_MTA_TYPE_RE = re.compile(r"^\s*[a-z0-9-]+\s*;\s*", re.I)


def _has_dsn_part(msg: Msg) -> bool:
    return any(ctype in DSN_TYPES for _, ctype in typed_parts(msg))


def _forwarded_dsn(msg: Msg) -> Msg | None:
    """A DSN attached inside a forwarded message (one level deep is enough)."""
    for part, ctype in typed_parts(msg):
        if ctype in ORIGINAL_TYPES:
            inner = part.get_payload()
            if (
                isinstance(inner, list)
                and inner
                and isinstance(inner[0], Message)
                and _has_dsn_part(inner[0])
            ):
                return inner[0]
    return None


def _address(value: str) -> str | None:
    """The address of a recipient field: ``rfc822; a@b``, ``utf-8; ユーザー@例え.jp``, junk.

    RFC 6533 allows UTF-8 addresses, which the ASCII address pattern of
    ``first_address`` does not see; the field's own syntax (type ``;`` address)
    is tried first.
    """
    _, _, rest = value.partition(";") if ";" in value else ("", "", value)
    candidate = rest.strip().strip("<>").strip()
    if candidate.startswith("@") and ":" in candidate:  # RFC 821 source route
        candidate = candidate.split(":", 1)[1]
    if candidate.startswith('"') and '"@' in candidate:  # quoted local part: keep it
        return candidate
    if "@" in candidate and " " not in candidate:
        return clean_address(candidate)
    return first_address(value)


def _plausible(address: str | None) -> bool:
    """A routable-looking address: its domain has a dot (not ``user@server``)."""
    return bool(address) and "." in str(address).rpartition("@")[2]


def _prefer_original(final: str | None, original: str) -> bool:
    """Whether to report Original-Recipient instead of Final-Recipient.

    Final-Recipient is normally right: after forwarding to another domain it
    names the mailbox that really failed. But a gateway's internal name
    (``user@server``, no dot) or a mailbox name the recipient's own system
    mapped the address to (another local part within the same domain, e.g.
    PMDF's ``HAASM@host.example.ch`` for ``user@example.ch``) means nothing
    to the sender, who addressed the original.
    """
    if not _plausible(original):
        return False
    if not _plausible(final):
        return True
    f_local, _, f_domain = str(final).lower().rpartition("@")
    o_local, _, o_domain = original.lower().rpartition("@")
    if f_local.strip('"') == o_local.strip('"'):
        return False
    return f_domain == o_domain or f_domain.endswith("." + o_domain)


_CONTINUED_RE = re.compile(r"^(\d{3})-")
_SUMMARY_RE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} - [A-Za-z ]{3,60}?(?=[245]\d\d[ -])")


def _strip_summary(diagnostic: str | None) -> str | None:
    """Drop a relay's own summary before the remote reply.

    Amazon SES writes ``5.1.0 - Unknown address error 550-'5.7.1 ...'``: its
    guess first, then what the remote host really said. Only the latter
    carries the cause.
    """
    if not diagnostic:
        return diagnostic
    return _SUMMARY_RE.sub("", diagnostic, count=1)


def _complete_reply(human: str, diagnostic: str | None) -> str | None:
    """A multi-line reply cut to its first line (sendmail does this), completed from
    the transcript in the human part, where every ``<<< 552-...`` line is kept."""
    if not diagnostic or not human:
        return diagnostic
    m = _CONTINUED_RE.match(diagnostic)
    if m is None:
        return diagnostic
    needle = diagnostic[4:60]
    at = human.find(needle)
    start = -1
    while at >= 0:  # prefer the transcript copy ("<<< 552-...") over a summary line
        line_start = human.rfind("\n", 0, at) + 1
        if human[line_start:at].lstrip().startswith("<<<"):
            start = line_start
            break
        at = human.find(needle, at + 1)
    if start < 0:
        return diagnostic
    code = m.group(1)
    lines = []
    for line in human[start : start + 4000].split("\n"):
        bare = line.strip().removeprefix("<<<").strip()
        if not bare.startswith(code):
            break
        lines.append(bare)
    return " ".join(lines) if lines else diagnostic


def _command_context(
    human: str, address: str, has_diagnostic: bool, single: bool, about: str | None
) -> str | None:
    """Human-part text that may name the SMTP command the remote host refused.

    With a Diagnostic-Code, only the human part's words about this address
    (the line naming it and its continuation lines) and the transcript line
    just above each mention (sendmail's ``>>> DATA`` before ``<<< 550 ...``)
    count. Without one, the paragraph about the
    recipient, or the whole text for a single recipient, is all there is.
    """
    if not human:
        return None
    if not has_diagnostic:
        return human[:8000] if single else about
    lines = human[:20000].split("\n")
    low = address.lower()
    picked = [about] if about else []
    for n, line in enumerate(lines):
        if low in line.lower():
            if n and lines[n - 1].lstrip().startswith((">>>", "<<<")):
                picked.append(lines[n - 1])
            picked.append(line)
            picked.extend(nxt for nxt in lines[n + 1 : n + 4] if nxt[:1].isspace())
    return "\n".join(picked) or None


#: PowerMTA's per-recipient ``X-PowerMTA-BounceCategory`` (its documented bounce
#: classes); consulted only when the reply itself names no cause
_CATEGORIES: dict[str, Reason] = {
    "bad-domain": Reason.HOSTUNKNOWN,
    "bad-mailbox": Reason.USERUNKNOWN,
    "inactive-mailbox": Reason.SUSPEND,
    "message-expired": Reason.EXPIRED,
    "no-answer-from-host": Reason.NETWORKERROR,
    "bad-connection": Reason.NETWORKERROR,
    "policy-related": Reason.POLICYVIOLATION,
    "quota-issues": Reason.MAILBOXFULL,
    "routing-errors": Reason.SYSTEMERROR,
    "bad-configuration": Reason.SYSTEMERROR,
    "protocol-errors": Reason.SYSTEMERROR,
    "spam-related": Reason.SPAMDETECTED,
    "virus-related": Reason.VIRUSDETECTED,
    "content-related": Reason.CONTENTERROR,
    "relaying-issues": Reason.NORELAYING,
    "invalid-sender": Reason.REJECTED,
}

_DELIVERED = frozenset({"delivered", "relayed", "expanded"})

#: words of a reporting MTA's notice that say the message was dropped, whatever its
#: ``Action`` field says: the report is the final one, not a delay warning.
#: - OpenSMTPD smtpd/queue.c, IMSG_QUEUE_EXPIRE: ``envelope_set_errormsg(&evp, "Envelope
#:   expired"); queue_bounce(&evp, &bounce); queue_envelope_delete(evpid);`` (bounce type
#:   B_ERROR); 6.8's bounce.c still writes the last temporary class ("Action: delayed",
#:   "Status: 4.4.7", "A message is delayed for more than ...") for it
_GAVE_UP_WORDS = ("envelope expired",)

_STATUS_NOTE_RE = re.compile(r"^\s*(\S+)\s*\((.*?)\)?\s*$", re.S)
#: notes that only restate the class of the code
_EMPTY_NOTES = frozenset(
    {
        "permanent failure",
        "temporary failure",
        "undefined status",
        "persistent transient failure",
        "other undefined status",
    }
)


def _status_and_note(value: str | None) -> tuple[str | None, str | None]:
    """``Status: 5.2.1 (mailbox disabled, not accepting messages)`` → code and note.

    Some MTAs (PowerMTA, Sun Messaging Server, sendmail's delayed groups)
    comment the code with its meaning or the real cause ("host name lookup
    failure"); when the remote reply is missing or says less, that note is
    the reporting MTA's own verdict and is evidence like a diagnostic.
    """
    value = (value or "").strip()
    if not value:
        return None, None
    m = _STATUS_NOTE_RE.match(value)
    if m is None:
        return value.split(" ")[0] or None, None
    note = " ".join(m.group(2).split())
    if not note or note.lower() in _EMPTY_NOTES or not any(c.isalpha() for c in note):
        note = ""
    return m.group(1), note or None


def _mta(value: str | None) -> str | None:
    if not value:
        return None
    return _MTA_TYPE_RE.sub("", value).strip().strip(";").strip() or None


def _paragraph_about(text: str, address: str) -> str | None:
    """The human part's words about one recipient.

    Either the rest of the line naming the address plus its indented
    continuation lines (Postfix, OpenSMTPD), or, when the address stands
    alone on its line (Exim), the lines after it up to a blank line.
    """
    low = text.lower()
    at = low.find(address.lower())
    if at < 0:
        return None
    start = text.rfind("\n", 0, at) + 1
    lines = text[start : start + 4000].split("\n")
    first = lines[0]
    rest = first[first.lower().find(address.lower()) + len(address) :].strip(" >:.")
    out = [first]
    if len(rest) > 8:
        for line in lines[1:]:
            if not line[:1].isspace() or not line.strip():
                break
            out.append(line)
    else:
        for line in lines[1:]:
            if not line.strip():
                break
            out.append(line)
    return "\n".join(out)


class RFC3464:
    """Standard DSNs, wherever the field groups are."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        if _has_dsn_part(msg) or _forwarded_dsn(msg) is not None:
            return True
        low = report_low(msg)
        return (
            gated_search(
                _INLINE_FIELDS_RE, report_text(msg)[:65536], None if low is None else low[:65536]
            )
            is not None
        )

    def extract(self, msg: Msg) -> list[Finding]:
        fields = delivery_status_text(msg)
        human = report_text(msg)
        if fields is None:
            inner = _forwarded_dsn(msg)
            if inner is not None:
                return self.extract(inner)
            m = _FIELDS_START_RE.search(human)
            if m is None:
                return []
            fields = human[m.start() :]
        return self.findings_from_fields(msg, fields, human)

    def findings_from_fields(self, msg: Msg, fields: str, human: str) -> list[Finding]:
        """Findings from DSN field text; used by the families that embed DSN fields too."""
        blocks = field_blocks(fields)
        per_message: dict[str, str] = {}
        for block in blocks:
            if "final-recipient" not in block and "original-recipient" not in block:
                for key, value in block.items():
                    per_message.setdefault(key, value)
        orig_id = original_message_id(msg)
        findings: list[Finding] = []
        seen: set[str] = set()
        single = sum(1 for b in blocks if "final-recipient" in b or "original-recipient" in b) == 1
        for block in blocks:
            final = block.get("final-recipient") or block.get("original-recipient")
            if not final:
                continue
            recipient = _address(final)
            original_field = _address(block.get("original-recipient") or "")
            if original_field and _prefer_original(recipient, original_field):
                recipient = original_field
            if not recipient or "@" not in recipient or recipient.lower() in seen:
                continue
            seen.add(recipient.lower())
            original = first_address(block.get("original-recipient"))
            action = (block.get("action") or "").strip().lower() or None
            status, note = _status_and_note(block.get("status"))
            raw_diag = block.get("diagnostic-code") or ""
            diag_type = raw_diag.split(";", 1)[0].strip() if ";" in raw_diag else None
            diagnostic = _complete_reply(human, _strip_summary(strip_diagnostic_type(raw_diag)))
            about = _paragraph_about(human, recipient) if human else None
            if action == "delayed" and about and any(w in about.lower() for w in _GAVE_UP_WORDS):
                action = "failed"
            clue = diagnostic
            if about and (not diagnostic or len(diagnostic) < 12):
                clue = f"{diagnostic or ''} {about}".strip()
            if not diagnostic and single and human:
                # no remote reply at all: the notice's own words are the evidence, and
                # a gateway's notice may state the cause once, above the SMTP detail
                # (au/EZweb "The user(s) account is disabled.")
                clue = f"{clue or ''}\n{human[:2000]}".strip()
            if note:
                clue = f"{clue} ({note})" if clue else note
            remote_mta = _mta(block.get("remote-mta"))
            reporting_mta = _mta(per_message.get("reporting-mta") or block.get("reporting-mta"))
            forced = None
            if not remote_mta and reporting_mta and action not in _DELIVERED:
                # no remote host: the reporting system is the recipient's own provider
                # (Outlook.com reporting its own mailbox), whose table then applies
                forced = provider_reason(clue, reporting_mta)
            finding = make_finding(
                NAME,
                recipient,
                clue,
                status=status,
                action=action,
                reason=forced,
                diagnostic_type=diag_type,
                context=_command_context(human, recipient, bool(diagnostic), single, about),
                remote_mta=remote_mta,
                reporting_mta=reporting_mta,
                original_message_id=orig_id,
                original_recipient=original
                if original and original.lower() != recipient.lower()
                else None,
                last_attempt=block.get("last-attempt-date"),
            )
            category = _CATEGORIES.get(
                (block.get("x-powermta-bouncecategory") or "").strip().lower()
            )
            if category and finding.reason in (Reason.ONHOLD, Reason.UNDEFINED):
                # the reporting MTA's own classification, when the words say nothing
                finding = replace(
                    finding,
                    reason=category,
                    kind=kind_for(category, finding.status, action, finding.smtp_code),
                )
            findings.append(finding)
        return findings


FAMILY: Family = RFC3464()
