"""/v1/suppressions: may this address still be mailed, and why not."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse

from api import cursor
from api.deps import PolicyDep, Reader, StoreDep, Writer
from api.schemas import (
    CheckRequest,
    CheckResponse,
    HistoryItem,
    SuppressionPage,
    SuppressionPublic,
    SuppressionPut,
)
from store import suppressions
from store.addresses import InvalidAddress, normalise_address
from store.policy import Policy

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])


def public(row: Any, events: dict[int, str]) -> SuppressionPublic:
    """A suppression model or a plain row of the table: both have the same attributes."""
    return SuppressionPublic(
        address=row.address,
        stream=row.stream or None,
        kind=row.kind,
        reason=row.reason,
        source=row.source,
        verified=row.verified,
        since=row.created_at,
        until=row.expires_at,
        event=events.get(row.event_id) if row.event_id is not None else None,
        note=row.note,
    )


def _address(raw: str, policy: Policy) -> str:
    try:
        return normalise_address(raw, fold_local=policy.fold_local_case)
    except InvalidAddress as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("", response_model=SuppressionPage)
async def list_suppressions(
    store: StoreDep,
    who: Reader,
    kind: str | None = None,
    reason: str | None = None,
    stream: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    verified: bool | None = None,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SuppressionPage:
    flt = suppressions.ListFilter(kind, reason, stream, since, until, verified)
    rows = await suppressions.list_page(
        store, who.tenant_id, flt, cursor.decode(cursor_), limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = cursor.encode(rows[-1].id) if more and rows and rows[-1].id is not None else None
    events = await suppressions.event_uids(store, [r.event_id for r in rows])
    return SuppressionPage(items=[public(r, events) for r in rows], next_cursor=nxt)


@router.post("/check", response_model=CheckResponse)
async def check(
    body: CheckRequest, store: StoreDep, who: Reader, policy: PolicyDep
) -> JSONResponse:
    """Check up to 10,000 addresses in one call, before a send or a campaign.

    Answers in the order asked. Built as plain JSON rather than 10,000 response
    models: validating our own output cost more than the lookup (bench/).
    """
    fold = policy.fold_local_case
    normal: list[str | None] = []
    for raw in body.addresses:
        try:
            normal.append(normalise_address(raw, fold_local=fold))
        except InvalidAddress:
            normal.append(None)
    found = await suppressions.check_many(
        store, who.tenant_id, [n for n in normal if n], body.stream
    )
    results: list[dict[str, Any]] = []
    suppressed = 0
    for raw, addr in zip(body.addresses, normal, strict=True):
        if addr is None:
            results.append({"address": raw, "suppressed": False, "error": "not an email address"})
            continue
        rows = found.get(addr)
        if not rows:
            results.append({"address": raw, "suppressed": False})
            continue
        # Several streams may stop it: report the permanent one first, then the oldest.
        row = (
            rows[0]
            if len(rows) == 1
            else min(rows, key=lambda r: (r.expires_at is not None, r.created_at))
        )
        suppressed += 1
        results.append(
            {
                "address": raw,
                "suppressed": True,
                "kind": row.kind,
                "reason": row.reason,
                "stream": row.stream or None,
                "since": row.created_at.isoformat(),
                "until": row.expires_at.isoformat() if row.expires_at else None,
            }
        )
    return JSONResponse({"results": results, "suppressed": suppressed})


@router.get("/{address}", response_model=list[SuppressionPublic])
async def get_suppression(
    address: str, store: StoreDep, who: Reader, policy: PolicyDep, stream: str | None = None
) -> list[SuppressionPublic]:
    """The suppressions that stop mail to this address (404 when it may be mailed)."""
    rows = await suppressions.get_active(store, who.tenant_id, _address(address, policy), stream)
    if not rows:
        raise HTTPException(404, "no active suppression for this address")
    events = await suppressions.event_uids(store, [r.event_id for r in rows])
    return [public(r, events) for r in rows]


@router.put("/{address}", response_model=SuppressionPublic)
async def put_suppression(
    address: str,
    body: SuppressionPut,
    store: StoreDep,
    who: Writer,
    policy: PolicyDep,
    response: Response,
) -> SuppressionPublic:
    row, created = await suppressions.put(
        store,
        who.tenant_id,
        _address(address, policy),
        kind=body.kind,
        reason=body.reason,
        stream=body.stream or "",
        expires_at=body.expires_at,
        note=body.note,
        actor=who.actor,
    )
    response.status_code = 201 if created else 200
    return public(row, {})


@router.delete("/{address}", status_code=204)
async def delete_suppression(
    address: str,
    store: StoreDep,
    who: Writer,
    policy: PolicyDep,
    stream: str | None = None,
    reason: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Lift a suppression; audited. A later hard bounce suppresses again."""
    removed = await suppressions.remove(
        store,
        who.tenant_id,
        _address(address, policy),
        stream or "",
        actor=who.actor,
        reason=reason,
    )
    if not removed:
        raise HTTPException(404, "no active suppression for this address")
    return Response(status_code=204)


@router.get("/{address}/history", response_model=list[HistoryItem])
async def address_history(
    address: str, store: StoreDep, who: Reader, policy: PolicyDep
) -> list[HistoryItem]:
    """Every event about the address and every suppression added or lifted, newest first."""
    entries = await suppressions.history(store, who.tenant_id, _address(address, policy))
    if not entries:
        raise HTTPException(404, "nothing recorded for this address")
    return [
        HistoryItem(
            at=e.at,
            what=e.what,
            kind=e.kind,
            reason=e.reason,
            actor=e.actor,
            stream=e.stream or None,
            event=e.event,
        )
        for e in entries
    ]
