"""Suppression policy as data: what each finding does to the address.

Defaults follow DESIGN.md. Whose fault: a reason that describes *our* sending
(blocklisted IP, reputation, authentication, missing PTR, rate limits, content
judged as spam) says nothing about the recipient's mailbox, so it never counts
towards suppressing that recipient; it is recorded and shown to the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from parsers.model import Kind


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

# Reasons that are the sender's problem, not the recipient's.
SENDER_SIDE_REASONS: frozenset[str] = frozenset(
    {
        "blocked",  # our IP or domain is listed or refused
        "badreputation",
        "authfailure",  # SPF / DKIM / DMARC failed
        "requireptr",  # our IP lacks reverse DNS
        "ratelimited",
        "spamdetected",  # content judged as spam
        "virusdetected",
        "contenterror",
        "securityerror",
        "policyviolation",
        "notcompliantrfc",
        "norelaying",  # our own routing is wrong
        "networkerror",
        "systemerror",
        "systemfull",
        "mailererror",
        "expired",  # the remote side never answered: says nothing certain
        "syntaxerror",
    }
)


@dataclass(frozen=True, slots=True)
class Policy:
    """Per-tenant knobs; the defaults are the documented ones."""

    soft_bounce_threshold: int = 3  # soft bounces on distinct days ...
    soft_bounce_window: timedelta = timedelta(days=14)  # ... within this window ...
    soft_suppression: timedelta = timedelta(days=30)  # ... suppress for this long
    # Mailbox-level soft reasons that deserve a longer hold once the threshold is hit.
    long_hold_reasons: frozenset[str] = frozenset({"mailboxfull", "suspend"})
    long_hold: timedelta = timedelta(days=90)


DEFAULT_POLICY = Policy()


def effect_of(kind: str, reason: str) -> Effect:
    effect = EFFECT_BY_KIND.get(kind, Effect.RECORD)
    if effect is Effect.COUNT_SOFT and reason in SENDER_SIDE_REASONS:
        return Effect.RECORD
    return effect


def soft_suppression_until(policy: Policy, reason: str, now: datetime) -> datetime:
    hold = policy.long_hold if reason in policy.long_hold_reasons else policy.soft_suppression
    return now + hold


def soft_threshold_reached(policy: Policy, days: set[str]) -> bool:
    return len(days) >= policy.soft_bounce_threshold
