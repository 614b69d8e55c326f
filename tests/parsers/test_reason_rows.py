"""``reason_for`` tests only the candidate rows (text hits, rows listing the status or
reply code); the plain loop over every row must give the same reason."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from returnpath.parsers.phrase_index import (
    _REGEX_RULES,
    LATE_OFFSET,
    TEXT_CAP,
    _collapse,
    _join_reply_lines,
    phrase_hits,
    regex_hit,
)
from returnpath.parsers.reason_rules import (
    LATE_RULES,
    RULES,
    STATUS_REASONS,
    SUBJECT_REASONS,
    WEAK_STATUS_REASONS,
)
from returnpath.parsers.reasons import _DELIVERED_ACTIONS, _match, reason_for
from returnpath.parsers.smtp_codes import find_command, is_vague


def _reference(
    diagnostic: str | None,
    status: str | None = None,
    reply_code: str | None = None,
    action: str | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
) -> str:
    """``reason_for`` as it was: every row tested, in order."""
    action = (action or "").lower()
    if action in _DELIVERED_ACTIONS or (status or "").startswith("2."):
        return "delivered"
    text = _join_reply_lines(_collapse(diagnostic[:TEXT_CAP].lower())) if diagnostic else ""
    temporary = (status or reply_code or "").startswith("4")
    if is_vague(status):
        status = None
    if command is None:
        command = find_command(text)
    hits = phrase_hits(text)  # and every regex row that matches
    if text:
        hits.update(n for n, _ in _REGEX_RULES if n not in hits and regex_hit(n, text))
    for n, rule in enumerate(RULES):
        if _match(n, rule, hits, text, status, reply_code, command, temporary):
            return rule.reason
    by_status = STATUS_REASONS.get(status or "")
    if by_status and by_status not in WEAK_STATUS_REASONS:
        return by_status
    for n, rule in enumerate(LATE_RULES, LATE_OFFSET):
        if _match(n, rule, hits, text, None, reply_code, command, temporary):
            return rule.reason
    if by_status:
        return by_status
    if status:
        subject = status.split(".")[1]
        if subject in SUBJECT_REASONS:
            return SUBJECT_REASONS[subject]
    if (diagnostic_type or "").lower().startswith("x-unix"):
        return "mailererror"
    if action == "delayed" or (action == "failed" and status and status.startswith("4.")):
        # a specific temporary failure reported as final is the MTA giving up after
        # retries (Postfix's maximal_queue_lifetime keeps the last deferral's 4.x.x)
        return "expired"
    if command in ("HELO", "CONN"):
        return "blocked"
    return "onhold" if text else "undefined"


_STATUSES = sorted({s for r in RULES + LATE_RULES for s in r.statuses} | set(STATUS_REASONS))
_REPLIES = sorted({c for r in RULES + LATE_RULES for c in r.replycodes})
_WORDS = [w for r in RULES + LATE_RULES for w in r.words] + [
    w for r in RULES + LATE_RULES for w in r.unless
]


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(st.sampled_from(_WORDS), max_size=3),
    filler=st.text(max_size=20),
    status=st.none() | st.sampled_from([*_STATUSES, "5.0.0", "4.0.0", "2.0.0"]),
    reply=st.none() | st.sampled_from([*_REPLIES, "550", "451", "250"]),
    command=st.sampled_from([None, "RCPT", "DATA", "MAIL", "HELO", "CONN"]),
)
def test_candidate_rows_agree_with_every_row(
    words: list[str], filler: str, status: str | None, reply: str | None, command: str | None
) -> None:
    diagnostic = filler.join(words) or None
    for action in (None, "failed", "delayed"):
        assert reason_for(diagnostic, status, reply, action, command) == _reference(
            diagnostic, status, reply, action, command
        )
