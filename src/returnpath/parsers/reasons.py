"""Why a delivery failed: the decision, from the clues a bounce gives.

A bounce gives up to four clues: the DSN ``Action``, the RFC 3463 enhanced
status code, the RFC 5321 reply code and the remote host's own words
(``smtp_codes`` finds the codes and the SMTP command in a text). Status codes
are coarse (5.7.1 covers a blacklisted IP, a DMARC failure and a recipient who
blocked the sender), so the words are read first, in the order of
``reason_rules.RULES``: the first row whose phrases occur in the diagnostic
(``phrase_index`` finds them), *or* whose status codes include the given
status, decides. Rows after ``RULES`` are consulted only when no row matched:
``STATUS_REASONS`` (the enhanced code alone), ``LATE_RULES``, then the class
of the code.

Why hard bounces are rare: the sending side suppresses an address for good on
a hard bounce, so only causes that say *this address will never work*
(unknown user, unknown domain, moved, domain accepting no mail:
``vocabulary.HARD_REASONS``) are hard. A full mailbox or a blacklisted IP
with a 5.x.x code is soft.
"""

from __future__ import annotations

from dataclasses import dataclass

from returnpath.parsers.heads import token_heads
from returnpath.parsers.model import Kind
from returnpath.parsers.phrase_index import (
    ALL_RULES,
    EARLY_REGEX_ROWS,
    LATE_OFFSET,
    LATE_REGEX_ROWS,
    REPLY_ROWS,
    STATUS_ROWS,
    phrase_hits,
    phrase_of,
    reason_text,
    regex_hit,
)
from returnpath.parsers.reason_rules import (
    DEFERRED_TO,
    RULES,
    STATUS_REASONS,
    SUBJECT_REASONS,
    WEAK_STATUS_REASONS,
    Rule,
    status_id,
    subject_id,
)
from returnpath.parsers.smtp_codes import find_command, is_vague
from returnpath.parsers.vocabulary import HARD_REASONS, Reason

_DELIVERED_ACTIONS = frozenset({"delivered", "relayed", "expanded"})


@dataclass(frozen=True, slots=True)
class Decision:
    """A reason and the evidence behind it: ``decided_by`` is the id of the row that
    decided (``rules.userunknown.user-unknown``, ``status.5.1.1``, ``subject.7``,
    ``fallback.expired``), ``evidence`` what it matched: the phrase found in the
    diagnostic, the text its regex matched, or the code (``5.1.1``, ``550``)."""

    reason: Reason
    decided_by: str
    evidence: str | None = None


# what _match says: no match, or a match by the words, the status, the reply code
_NO, _WORDS, _STATUS, _REPLY = 0, 1, 2, 3


def _match(
    n: int,
    rule: Rule,
    hits: set[int],
    text: str,
    status: str | None,
    reply: str | None,
    command: str | None,
    temporary: bool,
) -> int:
    if n in hits:
        ok = True
        if rule.commands and command not in rule.commands:
            ok = bool(status and status in rule.statuses)
        if rule.not_commands and command in rule.not_commands:
            ok = False
        if rule.permanent and temporary:
            ok = False
        if (
            rule.defer_to_status
            and command is None
            and status
            and STATUS_REASONS.get(status) in DEFERRED_TO
        ):
            ok = False
        if ok:
            return _WORDS
    if status and status in rule.statuses:
        return _NO if any(w in text for w in rule.unless) else _STATUS
    return _REPLY if reply and reply in rule.replycodes else _NO


def _by_row(
    n: int, how: int, text: str, heads: set[str], status: str | None, reply: str | None
) -> Decision:
    """The decision of row ``n`` and what it matched (``how``: see ``_match``)."""
    rule = ALL_RULES[n]
    if how == _WORDS:
        # a row whose words hit but whose command check passed on its status: the
        # phrase is still what was found first
        evidence = phrase_of(n, text, heads) or status
    elif how == _STATUS:
        evidence = status
    else:
        evidence = reply
    return Decision(rule.reason, rule.id, evidence)


def reason_for(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    text: str | None = None,
    heads: set[str] | None = None,
) -> Reason:
    """The Sisimai reason for one recipient's failure (see the module docstring).

    ``text`` and ``heads``, when the caller has them, are ``reason_text(diagnostic)``
    and its ``token_heads`` (base.make_finding shares them with its other lookups).
    """
    return decide(
        diagnostic, status, reply_code, action, command, diagnostic_type, text, heads
    ).reason


def decide(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    text: str | None = None,
    heads: set[str] | None = None,
) -> Decision:
    """``reason_for`` with the evidence: which row decided and what it matched."""
    action = (action or "").lower()
    if action in _DELIVERED_ACTIONS:
        return Decision(Reason.DELIVERED, "fallback.delivered", f"action {action}")
    if (status or "").startswith("2."):
        return Decision(Reason.DELIVERED, "fallback.delivered", status)
    if text is None:
        text = reason_text(diagnostic)
    if heads is None:
        heads = token_heads(text)
    temporary = (status or reply_code or "").startswith("4")
    if is_vague(status):
        status = None
    if command is None:
        command = find_command(text, heads)
    hits = phrase_hits(text, heads)
    # Only rows in ``hits``, listing the status / reply code, or with regexes can
    # match (``_match`` is 0 for every other row): test those, in table order. A
    # regex row's regexes run when the row's turn comes and its words did not hit:
    # rows after the deciding one never pay for theirs.
    by_code = REPLY_ROWS.get(reply_code, ()) if reply_code else ()
    early = hits.union(STATUS_ROWS.get(status, ()), by_code) if status else hits.union(by_code)
    for n in sorted(early.union(EARLY_REGEX_ROWS)):
        if n >= LATE_OFFSET:
            break
        if n in EARLY_REGEX_ROWS and n not in hits and text and regex_hit(n, text):
            hits.add(n)
        how = _match(n, RULES[n], hits, text, status, reply_code, command, temporary)
        if how:
            return _by_row(n, how, text, heads, status, reply_code)
    by_status = STATUS_REASONS.get(status or "")
    if status and by_status and by_status not in WEAK_STATUS_REASONS:
        return Decision(by_status, status_id(status), status)
    # the late rows are read without the status
    for n in sorted(hits.union(by_code, LATE_REGEX_ROWS)):
        if n >= LATE_OFFSET:
            if n in LATE_REGEX_ROWS and n not in hits and text and regex_hit(n, text):
                hits.add(n)
            how = _match(n, ALL_RULES[n], hits, text, None, reply_code, command, temporary)
            if how:
                return _by_row(n, how, text, heads, None, reply_code)
    if status and by_status:
        return Decision(by_status, status_id(status), status)
    if status:
        subject = status.split(".")[1]
        if subject in SUBJECT_REASONS:
            return Decision(SUBJECT_REASONS[subject], subject_id(subject), status)
    if (diagnostic_type or "").lower().startswith("x-unix"):
        return Decision(Reason.MAILERERROR, "fallback.mailererror", diagnostic_type)
    if action == "delayed":
        # a specific temporary failure reported as final is the MTA giving up after
        # retries (Postfix's maximal_queue_lifetime keeps the last deferral's 4.x.x)
        return Decision(Reason.EXPIRED, "fallback.expired", "action delayed")
    if action == "failed" and status and status.startswith("4."):
        return Decision(Reason.EXPIRED, "fallback.expired", f"action failed, status {status}")
    if command in ("HELO", "CONN"):
        return Decision(Reason.BLOCKED, "fallback.blocked", f"command {command}")
    if text:
        return Decision(Reason.ONHOLD, "fallback.onhold")
    return Decision(Reason.UNDEFINED, "fallback.undefined")


def kind_for(
    reason: str, status: str | None = None, action: str | None = None, reply_code: str | None = None
) -> Kind:
    """Coarse class from reason, action and code class (see module docstring)."""
    action = (action or "").lower()
    if reason == Reason.DELIVERED:
        return Kind.DELIVERED
    if reason == Reason.FEEDBACK:
        return Kind.COMPLAINT
    if reason == Reason.VACATION:
        return Kind.AUTO_REPLY
    if action == "delayed":
        return Kind.DELAYED
    if reason in HARD_REASONS:
        temporary = (status or "").startswith("4") or (reply_code or "").startswith("4")
        if temporary and reason != Reason.USERUNKNOWN:
            # a temporary failure is never final: a domain or host that could not be
            # found *for now* may be found tomorrow. Only "the mailbox does not exist"
            # stays hard with a 4xx, and the tables give it only from words saying so
            return Kind.SOFT_BOUNCE
        return Kind.HARD_BOUNCE
    return Kind.SOFT_BOUNCE


def classify(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    text: str | None = None,
    heads: set[str] | None = None,
) -> tuple[Kind, Reason]:
    """``(kind, reason)`` from the clues a bounce gives (``text``, ``heads``: see
    ``reason_for``)."""
    reason = reason_for(
        diagnostic, status, reply_code, action, command, diagnostic_type, text, heads
    )
    return kind_for(reason, status, action, reply_code), reason
