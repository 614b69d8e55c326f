"""/v1/stats: what came back, per day; rates against what was sent; sender-side alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from returnpath.api.deps import Reader, StoreDep, Writer
from returnpath.store import stats

router = APIRouter(prefix="/v1/stats", tags=["stats"])


class SentEntry(BaseModel):
    day: date
    stream: str | None = Field(default=None, max_length=64)
    count: int = Field(ge=0, le=10**12)


class SentReport(BaseModel):
    entries: list[SentEntry] = Field(min_length=1, max_length=10_000)


class DayStats(BaseModel):
    day: str
    sent: int | None
    counts: dict[str, int] = Field(description="events per kind")
    reasons: dict[str, int] = Field(description="events per kind.reason")
    hard_bounce_rate: float | None
    complaint_rate: float | None


class AlertPublic(BaseModel):
    reason: str
    explanation: str
    count: int
    last_seen: datetime
    remote_mta: str | None
    diagnostic: str | None


class StatsResponse(BaseModel):
    since: date
    until: date
    stream: str | None
    days: list[DayStats]
    sent: int | None
    hard_bounce_rate: float | None
    complaint_rate: float | None
    thresholds: dict[str, float]
    warning: bool = Field(description="a rate is over its threshold")
    warnings: list[str]
    sender_side_alerts: list[AlertPublic]


def _rate(n: int, sent: int | None) -> float | None:
    return round(n / sent, 6) if sent else None


@router.post("/sent", status_code=204)
async def report_sent(body: SentReport, store: StoreDep, who: Writer) -> Response:
    """How many messages were sent per day (and stream): the denominator of the rates."""
    await stats.record_sent(
        store, who.tenant_id, [(e.day.isoformat(), e.stream or "", e.count) for e in body.entries]
    )
    return Response(status_code=204)


# The window's arithmetic (29 days back by default, the day after ``until``) must
# stay within Python's dates: 0001-01-01 or 9999-12-31 overflowed into a 500 before.
FIRST_DAY = date(1, 2, 1)
LAST_DAY = date(9999, 12, 30)


@router.get("", response_model=StatsResponse)
async def get_stats(
    store: StoreDep,
    who: Reader,
    since: date | None = None,
    until: date | None = None,
    stream: Annotated[str | None, Query(max_length=64)] = None,
) -> StatsResponse:
    """Per-day counts by kind and reason, bounce and complaint rates, sender-side alerts."""
    until = until or datetime.now(UTC).date()
    if not FIRST_DAY <= until <= LAST_DAY or (since and since < FIRST_DAY):
        raise HTTPException(422, f"since and until must lie in {FIRST_DAY} .. {LAST_DAY}")
    since = since or until - timedelta(days=29)
    if since > until:
        raise HTTPException(422, "since is after until")
    if (until - since).days > 366:
        raise HTTPException(422, "at most 366 days per request")
    start = datetime.combine(since, time.min, UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, UTC)
    counts = await stats.event_counts(store, who.tenant_id, start, end, stream)
    sent = await stats.sent_counts(store, who.tenant_id, since, until, stream)
    days: dict[str, DayStats] = {}
    for c in counts:
        d = days.setdefault(
            c.day,
            DayStats(
                day=c.day,
                sent=sent.get(c.day),
                counts={},
                reasons={},
                hard_bounce_rate=None,
                complaint_rate=None,
            ),
        )
        d.counts[c.kind] = d.counts.get(c.kind, 0) + c.count
        d.reasons[f"{c.kind}.{c.reason}"] = c.count
    for day, n in sent.items():
        days.setdefault(
            day,
            DayStats(
                day=day, sent=n, counts={}, reasons={}, hard_bounce_rate=None, complaint_rate=None
            ),
        )
    for d in days.values():
        d.hard_bounce_rate = _rate(d.counts.get("hard_bounce", 0), d.sent)
        d.complaint_rate = _rate(d.counts.get("complaint", 0), d.sent)
    total_sent = sum(sent.values()) or None
    hard = sum(c.count for c in counts if c.kind == "hard_bounce")
    complaints = sum(c.count for c in counts if c.kind == "complaint")
    hard_rate, complaint_rate = _rate(hard, total_sent), _rate(complaints, total_sent)
    warnings = []
    if complaint_rate is not None and complaint_rate > stats.COMPLAINT_THRESHOLD:
        warnings.append(f"complaint rate {complaint_rate:.3%} is over the providers' 0.3% limit")
    if hard_rate is not None and hard_rate > stats.HARD_BOUNCE_THRESHOLD:
        warnings.append(f"hard-bounce rate {hard_rate:.2%} is over 2%: the list needs cleaning")
    alerts = await stats.sender_side_alerts(store, who.tenant_id, start, end)
    warnings += [f"sender-side problem: {a.reason} ({a.count}), {a.explanation}" for a in alerts]
    return StatsResponse(
        since=since,
        until=until,
        stream=stream,
        days=sorted(days.values(), key=lambda d: d.day),
        sent=total_sent,
        hard_bounce_rate=hard_rate,
        complaint_rate=complaint_rate,
        thresholds={
            "complaint_rate": stats.COMPLAINT_THRESHOLD,
            "hard_bounce_rate": stats.HARD_BOUNCE_THRESHOLD,
        },
        warning=bool(warnings),
        warnings=warnings,
        sender_side_alerts=[
            AlertPublic(
                reason=a.reason,
                explanation=a.explanation,
                count=a.count,
                last_seen=a.last_seen,
                remote_mta=a.remote_mta,
                diagnostic=a.diagnostic,
            )
            for a in alerts
        ],
    )
