"""Suppression policy: what one finding does to its address, decided in one call.

``decide(finding, history, policy)`` is pure: no database, no clock. The store
(``store.ingest``) gathers what it knows of the address (``History``), asks
once per finding, and applies the ``Decision``. Read top to bottom: whether
the finding may change anything at all (``untrusted_because``); the kind decides the
effect (``EFFECT_BY_KIND``); the reason decides whose fault it is
(``parsers.vocabulary.SENDER_SIDE_REASONS``); the tenant's ``Policy`` decides
thresholds, holds, streams and how far an unverified finding is trusted.
The rules are the manual's, docs/policy.md.

What proves a finding: a valid signed return path (``store.verification``)
always; for an unsubscribe nothing else (anyone can mail ``From: victim`` and
"unsubscribe"); for a complaint from a listed feedback loop, a valid DKIM
signature aligned with the report's sender (``store.dkim`` finds the signers,
``feedback_loop_vouched`` judges them); for a bounce, what the tenant chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from returnpath.parsers.model import Kind
from returnpath.parsers.vocabulary import REASONS, SENDER_SIDE_REASONS


class Effect(StrEnum):
    SUPPRESS = "suppress"  # permanently, at once
    COUNT_SOFT = "count_soft"  # one more soft bounce; may suppress for a while
    RESET = "reset"  # proof of a working mailbox: clear the soft count
    RECORD = "record"  # nothing happens to the address


class Outcome(StrEnum):
    """What the policy did with a finding, as every event says it (its ``effect``).

    ``Effect`` is what the kind asks for; the outcome is what happened once trust,
    the soft-bounce threshold and the unverified cap were applied.
    """

    SUPPRESSED = "suppressed"  # a suppression stands on this finding's account
    COUNTED = "counted"  # one more soft bounce, below the threshold
    RESET = "reset"  # the soft count restarts: the mailbox takes mail
    RECORDED = "recorded"  # kept as evidence; nothing done to the address


class Why(StrEnum):
    """The machine-readable reason for an outcome (an event's ``effect_reason``)."""

    HARD_BOUNCE = "hard_bounce"  # suppressed at once
    COMPLAINT = "complaint"  # suppressed at once
    UNSUBSCRIBE = "unsubscribe"  # suppressed at once
    SOFT_THRESHOLD_REACHED = "soft_threshold_reached"  # suppressed for a while
    SOFT_BELOW_THRESHOLD = "soft_below_threshold"  # counted
    DELIVERED = "delivered"  # reset
    NO_RECIPIENT = "no_recipient"  # nobody named: nothing to act on
    KIND_NOT_ACTED_ON = "kind_not_acted_on"  # delayed, auto_reply, unknown
    SENDER_SIDE = "sender_side_reason"  # our sending's fault: never counts
    UNVERIFIED_UNSUBSCRIBE = "unverified_unsubscribe"  # a From header proves nothing
    FEEDBACK_LOOP_NOT_LISTED = "feedback_loop_not_listed"  # not in feedback_loop_sources
    FEEDBACK_LOOP_NOT_SIGNED = "feedback_loop_not_signed"  # listed, no aligned DKIM signature
    UNVERIFIED_NOT_RFC3464 = "unverified_not_rfc3464"  # unverified_hard_bounces=rfc3464_only
    UNVERIFIED_BOUNCES_IGNORED = "unverified_bounces_ignored"  # unverified_hard_bounces=never
    UNVERIFIED_CAP_REACHED = "unverified_cap_reached"  # unverified_suppressions_per_message
    ALLOWLISTED = "allowlisted"  # the address or its domain is on the allowlist


# The manual's policy table (docs/policy.md), one row per kind.
EFFECT_BY_KIND: dict[str, Effect] = {
    Kind.HARD_BOUNCE: Effect.SUPPRESS,
    Kind.COMPLAINT: Effect.SUPPRESS,
    Kind.UNSUBSCRIBE: Effect.SUPPRESS,
    Kind.SOFT_BOUNCE: Effect.COUNT_SOFT,
    Kind.DELIVERED: Effect.RESET,
    Kind.DELAYED: Effect.RECORD,
    Kind.AUTO_REPLY: Effect.RECORD,
    Kind.UNKNOWN: Effect.RECORD,
}

# Whose fault (the vocabulary's ``sender_side`` column): reasons that describe *our*
# sending never count towards suppressing the recipient (a blocklisting must not
# wipe a list after three days); they are shown as sender-side alerts instead.
# Everything else is the recipient's side (userunknown, mailboxfull, suspend, ...):
# repeated on distinct days it means the address does not take mail, so it counts.
# In the vocabulary's order, which is what GET /v1/policy/sender-side-reasons shows.
SENDER_SIDE_DESCRIPTIONS: dict[str, str] = {
    reason.value: row.description for reason, row in REASONS.items() if row.sender_side
}


class Policy(BaseModel):
    """Per-tenant knobs; the defaults are the documented ones (docs/policy.md)."""

    model_config = ConfigDict(extra="forbid")

    soft_bounce_threshold: int = Field(
        default=3, ge=1, le=100, description="soft bounces on distinct days ..."
    )
    soft_bounce_window_days: int = Field(
        default=14, ge=1, le=365, description="... within this many days ..."
    )
    soft_suppression_days: int = Field(
        default=30, ge=1, le=3650, description="... suppress for this long"
    )
    long_hold_days: dict[str, int] = Field(
        default_factory=lambda: {"suspend": 90, "mailboxfull": 60},
        description="longer holds for soft reasons that rarely recover soon",
    )
    unverified_hard_bounces: Literal["suppress", "rfc3464_only", "never"] = Field(
        default="rfc3464_only",
        description="what a hard or soft bounce without a valid signed return path may do",
    )
    feedback_loop_sources: list[str] = Field(
        default_factory=list,
        description=(
            "sender domains of feedback-loop reports whose unverified complaints suppress,"
            " when the report carries a valid DKIM signature aligned with its sender"
        ),
    )
    unverified_suppressions_per_message: int = Field(
        default=5,
        ge=0,
        le=10_000,
        description=(
            "at most this many addresses one message without a valid signed return path"
            " may suppress; the rest are recorded only (a forged DSN naming a whole list)"
        ),
    )
    complaints_all_streams: bool = Field(
        default=False, description="a complaint in one stream suppresses every stream"
    )
    fold_local_case: bool = Field(
        default=True, description="compare local parts case-insensitively"
    )

    def soft_window_start(self, now: datetime) -> datetime:
        """How far back a soft bounce still counts: the history ``decide`` needs."""
        return now - timedelta(days=self.soft_bounce_window_days)


@dataclass(frozen=True, slots=True)
class Seen:
    """A finding as the store recorded it: what ``decide`` judges.

    ``family`` and ``sender`` are the report's (its format, and who sent the
    report: a feedback loop's domain); ``stream`` and ``verified`` come from
    the signed return path, when there was one. ``dkim_domains``: the ``d=``
    of every valid DKIM signature on the report (``store.dkim``; computed
    only for complaints whose sender is a listed feedback loop, since only
    they can use it), lower case.
    """

    kind: str
    reason: str
    at: datetime
    verified: bool = False
    stream: str | None = None
    family: str = ""
    sender: str | None = None
    dkim_domains: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class History:
    """What the store knows of the address that ``decide`` may need.

    ``soft_bounces``: (time, reason) of the soft bounces recorded since the
    policy's window start (``Policy.soft_window_start``), whatever their
    reason; the finding being decided may be among them. ``soft_reset_at``:
    when the count was last cleared (a delivery report, a manual removal).
    """

    soft_bounces: Sequence[tuple[datetime, str]] = ()
    soft_reset_at: datetime | None = None


NO_HISTORY = History()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with the address, and why.

    ``effect``: ``record`` (nothing), ``reset`` (clear the soft count),
    ``count_soft`` (count one more soft bounce), ``suppress``. ``why`` says it in
    words (with the counts), ``code`` as a stable token for machines. ``suppress``
    says whether a suppression is written now (a soft bounce that reaches the
    threshold counts *and* suppresses); ``stream`` is the suppression's
    stream ('' is every stream) and ``until`` its end (None: permanent).
    """

    effect: Effect
    why: str
    code: Why
    suppress: bool = False
    stream: str = ""
    until: datetime | None = None

    @property
    def outcome(self) -> Outcome:
        if self.suppress:
            return Outcome.SUPPRESSED
        return _OUTCOME_OF[self.effect]


_OUTCOME_OF = {
    Effect.SUPPRESS: Outcome.SUPPRESSED,
    Effect.COUNT_SOFT: Outcome.COUNTED,
    Effect.RESET: Outcome.RESET,
    Effect.RECORD: Outcome.RECORDED,
}


def decide(finding: Seen, history: History, policy: Policy) -> Decision:
    """The one decision the policy makes about a finding's address."""
    distrust = untrusted_because(
        policy,
        finding.kind,
        finding.verified,
        finding.family,
        finding.sender,
        finding.dkim_domains,
    )
    if distrust is not None:
        return Decision(Effect.RECORD, UNTRUSTED_WORDS[distrust], distrust)
    effect = effect_of(finding.kind, finding.reason)
    if effect is Effect.RECORD:
        if EFFECT_BY_KIND.get(finding.kind) is Effect.COUNT_SOFT:
            return Decision(
                effect,
                f"{finding.reason} is the sender's side: never counts",
                Why.SENDER_SIDE,
            )
        return Decision(effect, f"{finding.kind} never suppresses", Why.KIND_NOT_ACTED_ON)
    if effect is Effect.RESET:
        return Decision(
            effect, f"{finding.kind}: the mailbox works, the soft count restarts", Why.DELIVERED
        )
    if effect is Effect.SUPPRESS:
        stream = suppression_stream(policy, finding.kind, finding.stream)
        return Decision(
            effect,
            f"{finding.kind}: suppressed at once",
            Why(finding.kind),
            suppress=True,
            stream=stream,
        )
    days = soft_bounce_days(finding, history, policy)
    window = policy.soft_bounce_window_days
    if len(days) < policy.soft_bounce_threshold:
        return Decision(
            effect,
            f"soft bounces on {len(days)} of {policy.soft_bounce_threshold} days within {window}",
            Why.SOFT_BELOW_THRESHOLD,
        )
    return Decision(
        effect,
        f"soft bounces on {len(days)} distinct days within {window}",
        Why.SOFT_THRESHOLD_REACHED,
        suppress=True,
        until=soft_suppression_until(policy, finding.reason, finding.at),
    )


#: the words for each refusal of ``untrusted_because`` (naming the setting to change)
UNTRUSTED_WORDS: dict[Why, str] = {
    Why.UNVERIFIED_UNSUBSCRIBE: "unverified unsubscribe: never trusted"
    " (a From header proves nothing)",
    Why.FEEDBACK_LOOP_NOT_LISTED: "unverified complaint: its sender is not in"
    " feedback_loop_sources",
    Why.FEEDBACK_LOOP_NOT_SIGNED: "unverified complaint: no valid DKIM signature aligned with"
    " its listed feedback loop",
    Why.UNVERIFIED_NOT_RFC3464: "unverified bounce in a format other than RFC 3464"
    " (unverified_hard_bounces is rfc3464_only)",
    Why.UNVERIFIED_BOUNCES_IGNORED: "unverified bounce (unverified_hard_bounces is never)",
}

#: the words for the outcomes the store decides besides ``decide`` (store.ingest)
CAP_REACHED_WORDS = "unverified message past unverified_suppressions_per_message: recorded only"
NO_RECIPIENT_WORDS = "the report names no recipient: nothing to act on"
ALLOWLISTED_WORDS = "the address or its domain is on the allowlist: recorded only"


def soft_bounce_days(finding: Seen, history: History, policy: Policy) -> set[str]:
    """Distinct days (UTC) with a recipient-side soft bounce since the window's
    start or the last reset, whichever is later, this finding included."""
    since = policy.soft_window_start(finding.at)
    if history.soft_reset_at is not None and history.soft_reset_at > since:
        since = history.soft_reset_at
    bounces = [*history.soft_bounces, (finding.at, finding.reason)]
    return {
        at.date().isoformat()
        for at, reason in bounces
        if at >= since and effect_of(Kind.SOFT_BOUNCE.value, reason) is Effect.COUNT_SOFT
    }


def effect_of(kind: str, reason: str) -> Effect:
    effect = EFFECT_BY_KIND.get(kind, Effect.RECORD)
    if effect is Effect.COUNT_SOFT and reason in SENDER_SIDE_REASONS:
        return Effect.RECORD
    return effect


def untrusted_because(
    policy: Policy,
    kind: str,
    verified: bool,
    family: str,
    report_sender: str | None,
    dkim_domains: frozenset[str] = frozenset(),
) -> Why | None:
    """Why this finding may not change suppressions; None if it may. Verified findings
    always may.

    Forged bounces are cheap; a tenant can insist on signatures. The default
    trusts unverified hard bounces only in standard RFC 3464 reports (the
    format real MTAs produce), and unverified complaints only from the
    feedback-loop senders the tenant named, signed by them (DKIM). An
    unverified unsubscribe is never trusted, under any policy: its only
    evidence is a From header that anyone can write, and its effect is
    permanent.
    """
    if verified:
        return None
    if kind == Kind.UNSUBSCRIBE:
        return Why.UNVERIFIED_UNSUBSCRIBE
    if kind == Kind.COMPLAINT:
        if listed_feedback_loop(policy, report_sender) is None:
            return Why.FEEDBACK_LOOP_NOT_LISTED
        if not feedback_loop_vouched(policy, report_sender, dkim_domains):
            return Why.FEEDBACK_LOOP_NOT_SIGNED
        return None
    if kind in (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE):
        if policy.unverified_hard_bounces == "suppress":
            return None
        if policy.unverified_hard_bounces == "never":
            return Why.UNVERIFIED_BOUNCES_IGNORED
        return None if family == "rfc3464" else Why.UNVERIFIED_NOT_RFC3464
    return None


def domain_of(address: str | None) -> str:
    """The domain of an address (or a bare domain) as compared here: lower case, no final dot."""
    return (address or "").rpartition("@")[2].strip().rstrip(".").lower()


def within(domain: str, parent: str) -> bool:
    """``domain`` is ``parent`` or one of its subdomains (``fbl.example.net`` is within
    ``example.net``; ``badexample.net`` is not)."""
    return bool(parent) and (domain == parent or domain.endswith("." + parent))


def listed_feedback_loop(policy: Policy, report_sender: str | None) -> str | None:
    """The listed feedback-loop domain the report's sender belongs to, or None."""
    domain = domain_of(report_sender)
    if not domain:
        return None
    for source in policy.feedback_loop_sources:
        if within(domain, domain_of(source)):
            return domain_of(source)
    return None


def feedback_loop_vouched(
    policy: Policy, report_sender: str | None, dkim_domains: frozenset[str]
) -> bool:
    """A complaint report that its listed feedback loop demonstrably sent.

    The From header alone proves nothing: anyone can write ``From:
    fbl@listed.example``. So the report must also carry a valid DKIM signature
    whose ``d=`` is aligned with the sender: equal to the sender's domain or a
    parent of it (relaxed alignment, as DMARC's), never a bare top-level label.
    Because the sender is within a listed domain, the signer is then within
    that domain or a parent of it: a signature by any other domain (an
    attacker's own, correctly signed) vouches for nothing.
    """
    if listed_feedback_loop(policy, report_sender) is None:
        return False
    sender = domain_of(report_sender)
    return any("." in signer and within(sender, signer) for signer in dkim_domains)


def soft_suppression_until(policy: Policy, reason: str, now: datetime) -> datetime:
    days = policy.long_hold_days.get(reason, policy.soft_suppression_days)
    return now + timedelta(days=days)


def suppression_stream(policy: Policy, kind: str, stream: str | None) -> str:
    """'' means every stream: a dead mailbox is dead for password resets too."""
    if kind in (Kind.COMPLAINT, Kind.UNSUBSCRIBE) and stream and not policy.complaints_all_streams:
        return stream
    return ""
