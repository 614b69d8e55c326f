"""Suppression policy as data: what each finding does to the address.

Read top to bottom: the kind decides the effect (``EFFECT_BY_KIND``); the
reason decides whose fault it is (``SENDER_SIDE_REASONS``); the tenant's
``Policy`` decides thresholds, holds, streams and how far an unverified
finding is trusted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from returnpath.parsers.model import Kind


class Effect(StrEnum):
    SUPPRESS = "suppress"  # permanently, at once
    COUNT_SOFT = "count_soft"  # one more soft bounce; may suppress for a while
    RESET = "reset"  # proof of a working mailbox: clear the soft count
    RECORD = "record"  # nothing happens to the address


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

# Whose fault: reasons that describe *our* sending, not the recipient's mailbox.
# They never count towards suppressing the recipient (a blocklisting must not
# wipe a list after three days); they are shown as sender-side alerts instead.
SENDER_SIDE_REASONS: dict[str, str] = {
    "blocked": "our IP or domain is blocked or listed by the receiver",
    "badreputation": "the receiver rates our IP or domain reputation as bad",
    "authfailure": "SPF, DKIM or DMARC failed for our message",
    "requireptr": "our sending IP has no (matching) reverse DNS",
    "ratelimited": "we sent too fast or opened too many connections",
    "spamdetected": "our content was judged as spam",
    "virusdetected": "our message was judged to carry malware",
    "contenterror": "our message's content or format was refused",
    "securityerror": "TLS or other security requirements not met by our MTA",
    "policyviolation": "our message broke the receiver's policy",
    "notcompliantrfc": "our message is not RFC-compliant",
    "norelaying": "our MTA routed the message to a host that does not accept it",
    "syntaxerror": "our MTA sent a bad SMTP command",
    "emailtoolarge": "our message is larger than the receiver accepts",
    "rejected": "the receiver refused our envelope sender",
}
# Everything else is the recipient's side (userunknown, mailboxfull, suspend,
# hostunknown, expired, systemerror, networkerror, ...): repeated on distinct
# days it means the address does not take mail, so it counts.


class Policy(BaseModel):
    """Per-tenant knobs; the defaults are the documented ones (README, "Policy")."""

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
        description="sender domains of feedback-loop reports whose unverified complaints suppress",
    )
    complaints_all_streams: bool = Field(
        default=False, description="a complaint in one stream suppresses every stream"
    )
    fold_local_case: bool = Field(
        default=True, description="compare local parts case-insensitively"
    )


DEFAULT_POLICY = Policy()


def effect_of(kind: str, reason: str) -> Effect:
    effect = EFFECT_BY_KIND.get(kind, Effect.RECORD)
    if effect is Effect.COUNT_SOFT and reason in SENDER_SIDE_REASONS:
        return Effect.RECORD
    return effect


def is_sender_side(kind: str, reason: str) -> bool:
    return (
        kind in (Kind.SOFT_BOUNCE, Kind.HARD_BOUNCE, Kind.DELAYED) and reason in SENDER_SIDE_REASONS
    )


def trusted(
    policy: Policy, kind: str, verified: bool, family: str, report_sender: str | None
) -> bool:
    """May this finding change suppressions? Verified findings always may.

    Forged bounces are cheap; a tenant can insist on signatures. The default
    trusts unverified hard bounces only in standard RFC 3464 reports (the
    format real MTAs produce), and unverified complaints only from the
    feedback-loop senders the tenant named.
    """
    if verified or kind == Kind.UNSUBSCRIBE:
        return True
    if kind == Kind.COMPLAINT:
        domain = (report_sender or "").rpartition("@")[2].lower()
        return any(domain == s or domain.endswith("." + s) for s in policy.feedback_loop_sources)
    if kind in (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE):
        if policy.unverified_hard_bounces == "suppress":
            return True
        return policy.unverified_hard_bounces == "rfc3464_only" and family == "rfc3464"
    return True


def soft_suppression_until(policy: Policy, reason: str, now: datetime) -> datetime:
    days = policy.long_hold_days.get(reason, policy.soft_suppression_days)
    return now + timedelta(days=days)


def soft_window_start(policy: Policy, now: datetime) -> datetime:
    return now - timedelta(days=policy.soft_bounce_window_days)


def suppression_stream(policy: Policy, kind: str, stream: str | None) -> str:
    """'' means every stream: a dead mailbox is dead for password resets too."""
    if kind in (Kind.COMPLAINT, Kind.UNSUBSCRIBE) and stream and not policy.complaints_all_streams:
        return stream
    return ""
