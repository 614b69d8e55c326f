"""The one small interface every family implements, and the one way a bounce
family turns its clues into a finding (``make_finding``).

Why the ``policy.compat32`` Message tree: measured on the corpus the stdlib
builds it at ~6,600 msg/s against ~750 msg/s for ``policy.default`` and
~3,800 msg/s for flanker, and it never raises on broken MIME (defects are
recorded instead). ``parsers.fastparse`` builds the very same tree about
twice as fast again. Families decode only the parts they need, through
``parsers.mime``.
"""

from __future__ import annotations

import re
from typing import Protocol

from returnpath.parsers import (  # none imports base: no cycle
    phrase_index,
    reasons,
    smtp_codes,
)
from returnpath.parsers._types import Msg
from returnpath.parsers.heads import token_heads
from returnpath.parsers.model import Finding
from returnpath.parsers.providers import provider_decision  # imports gates, heads, reason_rules
from returnpath.parsers.vocabulary import Reason


class Family(Protocol):
    """A family: one format of report, recognised, then read into findings.

    Every module in ``parsers/families/`` exports one, as ``FAMILY``, and
    ``parsers/registry.py`` lists them in the order they are tried.
    ``detect`` must be cheap (headers, content type, gated scans of the report
    head): it runs for every family in registry order until one says yes.
    ``extract`` may return an empty list, in which case the next family is
    tried. Plain-text formats are ``TextFamily`` records (``parsers.textbounce``);
    a format with its own structure is a small class named after it.
    """

    @property
    def name(self) -> str:
        """Short family name, recorded on every finding (read-only: families may be frozen)."""
        ...

    def detect(self, msg: Msg) -> bool: ...

    def extract(self, msg: Msg) -> list[Finding]: ...


_DIAG_TYPE_RE = re.compile(r"^\s*(?:smtp|x-[a-z0-9-]+|x400|unix|mta|local)\s*;\s*", re.I)
_SPACE_RE = re.compile(r"\s+")


def strip_diagnostic_type(value: str | None) -> str | None:
    """``smtp; 550 5.1.1 ...`` → ``550 5.1.1 ...`` (RFC 3464 diagnostic-type prefix)."""
    if not value:
        return None
    value = " ".join(_DIAG_TYPE_RE.sub("", value, count=1).split())  # = \s+ -> " ", stripped
    return value or None


def make_finding(
    family: str,
    recipient: str | None,
    diagnostic: str | None,
    *,
    status: str | None = None,
    smtp_code: str | None = None,
    action: str | None = None,
    reason: Reason | None = None,
    command: str | None = None,
    diagnostic_type: str | None = None,
    context: str | None = None,
    **extra: str | None,
) -> Finding:
    """One bounce finding, classified from whatever clues the family found.

    Families only *collect* clues; the decision lives in ``parsers.reasons``
    so every MTA's words are judged by the same table. A status that says
    nothing beyond its class (``5.0.0``, as Exim writes) yields to a code
    found in the diagnostic. ``reason`` forces a reason the family knows for
    certain (a provider's own error page). ``context`` is nearby report text
    that may name the SMTP command the remote host refused when the
    diagnostic itself does not.

    The finding names what decided (``decided_by``: the provider's row, the reason
    table's row or fallback, see ``reasons.decide``) and what that matched
    (``evidence``); a family that forces ``reason`` may name its own step with
    ``decided_by=`` and ``evidence=`` (``textbounce`` does), else ``_forced_evidence``
    does.
    """
    # str.split() and the regex \s agree on what is whitespace (Py_UNICODE_ISSPACE):
    # same text as _SPACE_RE.sub(" ", ...).strip(), without the regex engine
    diagnostic = " ".join(diagnostic.split()) if diagnostic else None
    # "Status: 5.1.1 (user unknown)", "Status: 550", junk: keep only a real code
    status = smtp_codes.find_status(status)
    if smtp_codes.is_vague(status):
        status = smtp_codes.find_status(diagnostic) or status
    if not smtp_code:
        smtp_code = smtp_codes.find_reply_code(diagnostic)
    # one scan of the diagnostic's words (parsers/heads.py) serves the command, the
    # provider and the phrase lookups, which would otherwise search it literal by literal
    # (computed when first needed: a family that knows the command and the reason
    # needs none of them)
    low = diagnostic.lower() if diagnostic else ""
    heads: set[str] | None = None
    if command is None:
        heads = token_heads(low)
        command = smtp_codes.find_command(diagnostic, heads) or smtp_codes.find_command(context)
    # the evidence: which row decided, what it matched (a family may name its own step
    # by passing decided_by= and evidence=, which then stand)
    decided_by = extra.pop("decided_by", None)
    evidence = extra.pop("evidence", None)
    delivered = (action or "").lower() in ("delivered", "relayed", "expanded")
    if reason:
        if decided_by is None:
            decided_by, evidence = _forced_evidence(family, reason, diagnostic, recipient, extra)
    elif not delivered:
        if heads is None:
            heads = token_heads(low)
        found = provider_decision(diagnostic, extra.get("remote_mta"), recipient, heads=heads)
        if found is not None:
            reason, decided_by, evidence = found
    if reason:
        kind = reasons.kind_for(reason, status, action, smtp_code)
    else:
        # the phrase text is the lower-case diagnostic unless a reply's continuation
        # codes were dropped or it was cut (make_finding collapsed its whitespace)
        text = phrase_index.reason_text(diagnostic, collapsed=True)
        if heads is None or text != low:
            heads = token_heads(text)
        decision = reasons.decide(
            diagnostic, status, smtp_code, action, command, diagnostic_type, text, heads
        )
        reason, decided_by, evidence = decision.reason, decision.decided_by, decision.evidence
        kind = reasons.kind_for(reason, status, action, smtp_code)
    return Finding(
        kind=kind,
        reason=reason,
        recipient=recipient,
        status=status,
        smtp_code=smtp_code,
        diagnostic=diagnostic[:1000] if diagnostic else None,
        action=action,
        family=family,
        decided_by=decided_by,
        evidence=clip_evidence(evidence),
        **extra,
    )


#: a finding's evidence is a phrase, a code or a header: never the whole diagnostic
EVIDENCE_CAP = 200


def clip_evidence(evidence: str | None) -> str | None:
    """Whitespace collapsed, at most ``EVIDENCE_CAP`` characters; a longer regex match
    keeps its end, where a pattern that spans a text puts what it looked for ("...
    (state 17)"). An empty match (a family that decides by its format alone) is None."""
    if not evidence:
        return None
    if len(evidence) <= EVIDENCE_CAP and " ".join(evidence.split()) == evidence:
        return evidence
    text = " ".join(evidence.split())
    return text if len(text) <= EVIDENCE_CAP else "..." + text[3 - EVIDENCE_CAP :]


def _forced_evidence(
    family: str,
    reason: Reason,
    diagnostic: str | None,
    recipient: str | None,
    extra: dict[str, str | None],
) -> tuple[str, str | None]:
    """``decided_by`` and ``evidence`` for a reason the family forced without naming its
    step: a provider's row when the provider's table gives that reason (rfc3464 asks the
    reporting system's table), else ``family.<name>.forced``."""
    found = provider_decision(
        diagnostic, extra.get("reporting_mta"), extra.get("remote_mta"), recipient
    )
    if found is not None and found[0] == reason:
        return found[1], found[2]
    return f"family.{family}.forced", None
