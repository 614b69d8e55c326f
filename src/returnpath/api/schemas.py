"""The API's public shapes (separate from the tables, so columns can change freely)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from returnpath.store.policy import Outcome


def _in_utc(value: datetime) -> datetime:
    """Every instant the API takes must be representable in UTC: the store keeps UTC,
    and ``0001-01-01T00:00+01:00`` is not (Python raises OverflowError, a 500 before)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range once converted to UTC") from None


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A date-time the API accepts: with a time zone (RFC 3339), else 422.

A time without a zone is ambiguous (the client's local time, or UTC?): guessing
would shift a filter or an expiry by hours without a word, so the API asks.
"""

SuppressionKind = Literal["hard_bounce", "complaint", "unsubscribe", "soft_bounce", "manual"]


class SuppressionPublic(BaseModel):
    address: str
    stream: str | None = Field(description="null: applies to every stream")
    kind: str
    reason: str
    source: str
    verified: bool
    since: datetime
    until: datetime | None = Field(description="null: permanent")
    event: str | None = Field(
        default=None, description="the event that caused it (GET /v1/events/{id})"
    )
    note: str | None = None


class SuppressionPage(BaseModel):
    items: list[SuppressionPublic]
    next_cursor: str | None


class SuppressionPut(BaseModel):
    kind: SuppressionKind = "manual"
    reason: str = Field(default="manual", min_length=1, max_length=64)
    stream: str | None = Field(default=None, max_length=64)
    expires_at: Instant | None = None
    note: str | None = Field(default=None, max_length=1000)


class CheckRequest(BaseModel):
    addresses: list[str] = Field(min_length=1, max_length=10_000)
    stream: str | None = Field(default=None, max_length=64)


class CheckResult(BaseModel):
    address: str
    suppressed: bool
    kind: str | None = None
    reason: str | None = None
    stream: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    error: str | None = Field(default=None, description="set when the address is not valid")


class CheckResponse(BaseModel):
    results: list[CheckResult]
    suppressed: int


class EventPublic(BaseModel):
    id: str
    seq: int
    created_at: datetime
    kind: str
    reason: str
    recipient: str | None
    status: str | None
    smtp_code: str | None
    diagnostic: str | None
    remote_mta: str | None
    reporting_mta: str | None
    feedback_type: str | None
    original_message_id: str | None
    family: str
    stream: str | None
    verified: bool
    message: str
    decided_by: str | None = Field(
        default=None,
        description="the rule row or family step that set kind and reason "
        "(null on events recorded before it was kept)",
    )
    evidence: str | None = Field(
        default=None, description="what that row matched: a phrase, a status or reply code"
    )
    effect: Outcome | None = Field(
        default=None,
        description="what the suppression policy did with the finding "
        "(null on events recorded before it was kept)",
    )
    effect_reason: str | None = Field(
        default=None,
        description="why, as a stable token: soft_below_threshold, feedback_loop_not_listed, "
        "unverified_not_rfc3464, ... (docs/policy.md lists them)",
    )
    effect_detail: str | None = Field(
        default=None, description="the same in words, with the counts; for people"
    )


class EventPage(BaseModel):
    items: list[EventPublic]
    next_cursor: str | None


class Health(BaseModel):
    status: str


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    domains: list[str] = Field(min_length=1, max_length=100)


class TenantPublic(BaseModel):
    name: str
    domains: list[str]
    created_at: datetime


class KeyCreate(BaseModel):
    tenant: str = Field(min_length=1, max_length=100)
    read_only: bool = False
    name: str | None = Field(default=None, max_length=200)


class KeyPublic(BaseModel):
    id: str
    tenant: str
    scope: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="the key itself: shown once, store it now")


class HistoryItem(BaseModel):
    at: datetime
    what: str = Field(description="event | add | remove")
    kind: str | None
    reason: str | None
    actor: str | None = Field(description="who added or removed it: bounce, admin, key:<id>")
    stream: str | None
    event: str | None
    decided_by: str | None = Field(
        default=None, description="for an event: the rule row or family step that decided it"
    )
    evidence: str | None = Field(default=None, description="for an event: what that row matched")
    effect: Outcome | None = Field(
        default=None, description="for an event: what the suppression policy did with it"
    )
    effect_reason: str | None = Field(default=None, description="for an event: why, as a token")
    effect_detail: str | None = Field(default=None, description="for an event: why, in words")
