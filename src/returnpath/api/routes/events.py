"""/v1/events: the feed of every finding, for consumers without a broker."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from returnpath.api import cursor
from returnpath.api.deps import Reader, StoreDep, Writer
from returnpath.api.schemas import EventPage, EventPublic, Instant
from returnpath.parsers.addresses import try_normalise
from returnpath.parsers.model import Kind
from returnpath.parsers.vocabulary import Reason
from returnpath.store import events
from returnpath.store.models import Event
from returnpath.store.policy import Outcome

router = APIRouter(prefix="/v1/events", tags=["events"])


def public(event: Event, message_uid: str) -> EventPublic:
    assert event.id is not None
    return EventPublic(
        id=event.uid,
        seq=event.id,
        created_at=event.created_at,
        kind=event.kind,
        reason=event.reason,
        recipient=event.recipient,
        status=event.status,
        smtp_code=event.smtp_code,
        diagnostic=event.diagnostic,
        remote_mta=event.remote_mta,
        reporting_mta=event.reporting_mta,
        feedback_type=event.feedback_type,
        original_message_id=event.original_message_id,
        family=event.family,
        stream=event.stream,
        verified=event.verified,
        message=message_uid,
        decided_by=event.decided_by,
        evidence=event.evidence,
        effect=Outcome(event.effect) if event.effect else None,
        effect_reason=event.effect_reason,
        effect_detail=event.effect_detail,
    )


@router.get("", response_model=EventPage)
async def feed(
    store: StoreDep,
    who: Reader,
    kind: Kind | None = None,
    reason: Reason | None = None,
    recipient: str | None = None,
    since: Instant | None = None,
    effect: Annotated[
        Outcome | None, Query(description="only events the policy treated so")
    ] = None,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=60, description="long-poll: seconds to wait for new events")
    ] = 0,
) -> EventPage:
    """Every event in commit order. With ``wait``, an empty page is held until an event
    arrives or the time is up, so a consumer without a broker needs no busy polling."""
    flt = events.EventFilter(kind, reason, try_normalise(recipient) or recipient, since, effect)
    after = cursor.decode(cursor_, store.max_row_id)
    deadline = asyncio.get_running_loop().time() + wait
    rows = await events.feed_page(store, who.tenant_id, flt, after, limit)
    while not rows and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(min(0.25, max(0.0, deadline - asyncio.get_running_loop().time())))
        rows = await events.feed_page(store, who.tenant_id, flt, after, limit)
    # The feed always hands back a cursor so a consumer can poll from where it stopped.
    last = rows[-1][0].id if rows else cursor.decode(cursor_, store.max_row_id)
    return EventPage(items=[public(e, m) for e, m in rows], next_cursor=cursor.encode(last or 0))


@router.get("/{event_id}", response_model=EventPublic)
async def get_one(event_id: str, store: StoreDep, who: Reader) -> EventPublic:
    row = await events.get_event(store, who.tenant_id, event_id)
    if row is None:
        raise HTTPException(404, "no such event")
    return public(*row)


@router.get(
    "/{event_id}/raw", response_class=Response, responses={200: {"content": {"message/rfc822": {}}}}
)
async def get_raw(event_id: str, store: StoreDep, who: Writer) -> Response:
    """The message behind the event, byte for byte (write keys only: it holds personal data)."""
    row = await events.get_event(store, who.tenant_id, event_id)
    raw = await events.get_raw(store, who.tenant_id, row[1]) if row else None
    if raw is None:
        raise HTTPException(404, "no such event")
    return Response(content=raw, media_type="message/rfc822")
