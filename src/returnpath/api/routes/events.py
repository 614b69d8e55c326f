"""/v1/events: the feed of every finding, for consumers without a broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from returnpath.api import cursor
from returnpath.api.deps import Reader, StoreDep, Writer
from returnpath.api.schemas import EventPage, EventPublic, Instant
from returnpath.parsers.addresses import try_normalise
from returnpath.parsers.model import Kind
from returnpath.parsers.vocabulary import Reason
from returnpath.store import events
from returnpath.store.db import Store
from returnpath.store.models import Event, rfc3339
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


async def event_filter(
    kind: Kind | None = None,
    reason: Reason | None = None,
    recipient: str | None = None,
    since: Instant | None = None,
    effect: Annotated[
        Outcome | None, Query(description="only events the policy treated so")
    ] = None,
) -> events.EventFilter:
    """The filters the feed and the stream share (query parameters)."""
    return events.EventFilter(kind, reason, try_normalise(recipient) or recipient, since, effect)


Filter = Annotated[events.EventFilter, Depends(event_filter)]


@router.get("", response_model=EventPage)
async def feed(
    store: StoreDep,
    who: Reader,
    flt: Filter,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=60, description="long-poll: seconds to wait for new events")
    ] = 0,
) -> EventPage:
    """Every event in commit order. With ``wait``, an empty page is held until an event
    arrives or the time is up, so a consumer without a broker needs no busy polling."""
    after = cursor.decode(cursor_, store.max_row_id)
    deadline = asyncio.get_running_loop().time() + wait
    rows = await events.feed_page(store, who.tenant_id, flt, after, limit)
    while not rows and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(min(0.25, max(0.0, deadline - asyncio.get_running_loop().time())))
        rows = await events.feed_page(store, who.tenant_id, flt, after, limit)
    # The feed always hands back a cursor so a consumer can poll from where it stopped.
    last = rows[-1][0].id if rows else cursor.decode(cursor_, store.max_row_id)
    return EventPage(items=[public(e, m) for e, m in rows], next_cursor=cursor.encode(last or 0))


#: seconds between reads of the store while a stream is idle (each read takes a pooled
#: connection for one query and gives it back: an idle stream holds none)
STREAM_POLL = 1.0
#: events read per query; a full page is followed by the next one at once
STREAM_PAGE = 100


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def stream(
    store: StoreDep,
    who: Reader,
    flt: Filter,
    cursor_: Annotated[
        str | None, Query(alias="cursor", description="start after this cursor")
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            description="the id of the last event received: resumes after it (wins over cursor)"
        ),
    ] = None,
    heartbeat: Annotated[
        float, Query(ge=1, le=300, description="seconds between comment lines while idle")
    ] = 15,
) -> StreamingResponse:
    """The tenant's events as server-sent events, live: each ``data`` is the JSON of an
    item of ``GET /v1/events`` and each ``id`` its cursor, so that a client that
    reconnects with ``Last-Event-ID`` (browsers do it themselves) misses nothing and
    gets nothing twice. Comment lines keep idle connections open through proxies."""
    after = cursor.decode(last_event_id or cursor_, store.max_row_id)
    return StreamingResponse(
        _server_sent(store, who.tenant_id, flt, after, heartbeat),
        media_type="text/event-stream",
        # no-cache: an intermediary must not replay a stream; X-Accel-Buffering: nginx
        # would otherwise hold the events back until its buffer fills
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _server_sent(
    store: Store, tenant_id: int, flt: events.EventFilter, after: int, heartbeat: float
) -> AsyncIterator[bytes]:
    """Poll the store, not a signal of the stage: the stage may be another process (or
    another machine), and a read per second per idle stream costs less than any wiring
    between them. Ends only when the client goes (Starlette cancels it then)."""
    loop = asyncio.get_running_loop()
    # The reconnection delay a browser's EventSource uses after a cut.
    yield b"retry: 2000\n\n"
    quiet_since = loop.time()
    while True:
        rows = await events.feed_page(store, tenant_id, flt, after, STREAM_PAGE)
        if rows:
            chunks = []
            for event, message_uid in rows:
                after = event.id or after
                data = public(event, message_uid).model_dump_json()
                chunks.append(f"id: {cursor.encode(after)}\ndata: {data}\n\n")
            yield "".join(chunks).encode()
            quiet_since = loop.time()
            if len(rows) == STREAM_PAGE:
                continue
        elif loop.time() - quiet_since >= heartbeat:
            yield b": heartbeat\n\n"
            quiet_since = loop.time()
        await asyncio.sleep(min(STREAM_POLL, max(0.0, quiet_since + heartbeat - loop.time())))


@router.get("/{event_id}", response_model=EventPublic)
async def get_one(event_id: str, store: StoreDep, who: Reader) -> EventPublic:
    row = await events.get_event(store, who.tenant_id, event_id)
    if row is None:
        raise HTTPException(404, "no such event")
    return public(*row)


@router.get(
    "/{event_id}/raw",
    response_class=Response,
    responses={
        200: {"content": {"message/rfc822": {}}},
        410: {"description": "the raw message was purged (retention); the event stays"},
    },
)
async def get_raw(event_id: str, store: StoreDep, who: Writer) -> Response:
    """The message behind the event, byte for byte (write keys only: it holds personal data)."""
    row = await events.get_event(store, who.tenant_id, event_id)
    found = await events.get_raw(store, who.tenant_id, row[1]) if row else None
    if found is None:
        raise HTTPException(404, "no such event")
    raw, purged_at = found
    if purged_at is not None:
        raise HTTPException(
            410,
            f"the raw message was purged at {rfc3339(purged_at)} (RETURNPATH_RAW_RETENTION_DAYS);"
            " the event and its evidence stay",
        )
    return Response(content=raw, media_type="message/rfc822")
