"""/v1/suppressions: may this address still be mailed, and why not."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from returnpath.api import cursor, problems
from returnpath.api.deps import BEARER_SECURITY, PolicyDep, ReadCallDep, Reader, StoreDep, Writer
from returnpath.api.schemas import (
    CheckRequest,
    CheckResponse,
    HistoryItem,
    Instant,
    SuppressionKind,
    SuppressionPage,
    SuppressionPublic,
    SuppressionPut,
)
from returnpath.parsers.addresses import InvalidAddress, normalise_address, normalise_many
from returnpath.store import checks, suppressions
from returnpath.store.models import ORJSON_TIMES, utcnow
from returnpath.store.policy import Outcome, Policy
from returnpath.store.tenants import bounce_domain

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
    """An address's key, or ``@domain``'s: a domain-wide suppression (every address there)."""
    try:
        if raw.strip().startswith("@"):
            return "@" + bounce_domain(raw.strip()[1:], "the domain of @domain")
        return normalise_address(raw, fold_local=policy.fold_local_case)
    except (InvalidAddress, ValueError) as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("", response_model=SuppressionPage)
async def list_suppressions(
    store: StoreDep,
    who: Reader,
    kind: SuppressionKind | None = None,
    reason: str | None = None,
    stream: str | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    verified: bool | None = None,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SuppressionPage:
    flt = suppressions.ListFilter(kind, reason, stream, since, until, verified)
    rows = await suppressions.list_page(
        store, who.tenant_id, flt, cursor.decode(cursor_, store.max_row_id), limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = cursor.encode(rows[-1].id) if more and rows and rows[-1].id is not None else None
    events = await suppressions.event_uids(store, [r.event_id for r in rows])
    return SuppressionPage(items=[public(r, events) for r in rows], next_cursor=nxt)


_CHECK_BODY = {
    "required": True,
    "content": {"application/json": {"schema": CheckRequest.model_json_schema()}},
}


@router.post(
    "/check",
    response_model=CheckResponse,
    openapi_extra={"requestBody": _CHECK_BODY, **BEARER_SECURITY},
)
async def check(request: Request, call: ReadCallDep) -> Response:
    """Check up to 10,000 addresses in one call, before a send or a campaign.

    Answers in the order asked. The body is validated straight from its bytes
    (pydantic's parser), and the answer is written with orjson, not through
    10,000 response models: on a 10,000-address call those two steps cost more
    than the lookup itself (bench/api_latency.py).
    """
    try:
        body = CheckRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from exc
    # Slice by slice: while the database looks up one slice (on its own
    # connection), this process normalises the next one and answers the last.
    store, tenant_id = call.store, call.who.tenant_id
    fold, stream, now = call.policy.fold_local_case, body.stream, utcnow()
    pending: list[tuple[list[str], list[str | None], asyncio.Task[dict[str, str]]]] = []
    size = store.checks.slice_size
    for i in range(0, len(body.addresses), size):
        raws = body.addresses[i : i + size]
        normal = normalise_many(raws, fold_local=fold)
        lookup = store.checks.answers(tenant_id, [n for n in normal if n], stream, now)
        pending.append((raws, normal, asyncio.ensure_future(lookup)))
    parts: list[str] = []
    suppressed = 0
    try:
        for raws, normal, task in pending:
            suppressed += _answers(raws, normal, await task, parts)
    finally:
        for *_, task in pending:
            task.cancel()
    return Response(
        f'{{"results":[{",".join(parts)}],"suppressed":{suppressed}}}',
        media_type="application/json",
    )


def _json_verbatim(text: str) -> bool:
    """Whether ``text`` can stand between JSON quotes as it is: printable ASCII
    without quote or backslash (four C-speed scans; a regex took ~0.5 ms per slice)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _answers(
    raws: list[str], normal: list[str | None], found: dict[str, str], parts: list[str]
) -> int:
    """Append one JSON answer per asked address to ``parts``; returns how many are suppressed.

    Most of a campaign list is mailable, so the answers are first written for
    every address as "not suppressed" with one string template (the addresses
    usually need no JSON escaping: checked once for the slice), then the few
    suppressed or invalid ones are overwritten with the members the store
    wrote (``SuppressionChecks.answers``). A dict and a JSON encoder call per address
    took a third of the request's time.
    """
    # else the stdlib's encoder: it escapes lone surrogates too, which orjson refuses
    verbatim = _json_verbatim("".join(raws))
    quoted = raws if verbatim else [json.dumps(r)[1:-1] for r in raws]
    out = [f'{{"address":"{q}","suppressed":false}}' for q in quoted]
    suppressed = 0
    for i, addr in enumerate(normal):
        if addr is None:
            out[i] = (
                f'{{"address":"{quoted[i]}","suppressed":false,"error":"not an email address"}}'
            )
            continue
        members = found.get(addr)
        if members is not None:
            suppressed += 1
            out[i] = f'{{"address":"{quoted[i]}","suppressed":true,{members}}}'
    parts.extend(out)
    return suppressed


@router.get("/{address}", response_model=list[SuppressionPublic], openapi_extra=BEARER_SECURITY)
async def get_suppression(address: str, call: ReadCallDep, stream: str | None = None) -> Response:
    """The suppressions that stop mail to this address (404 when it may be mailed)."""
    normal = _address(address, call.policy)
    hits = await suppressions.get_active(call.store, call.who.tenant_id, normal, stream)
    if not hits:
        raise not_suppressed()
    return Response(single_answer(hits), media_type="application/json")


NOT_SUPPRESSED = "no active suppression for this address: it may be mailed"


def not_suppressed() -> problems.Problem:
    return problems.Problem(
        404, NOT_SUPPRESSED, type_=problems.NOT_SUPPRESSED_TYPE, title="Not suppressed"
    )


def single_answer(hits: list[checks.Hit]) -> bytes:
    """The body of a single check that found suppressions (also what ``api.fast_check``
    sends): plain JSON in ``SuppressionPublic``'s shape, without a response-model pass."""
    return orjson.dumps(
        [
            {
                "address": h.address,
                "stream": h.stream or None,
                "kind": h.kind,
                "reason": h.reason,
                "source": h.source,
                "verified": h.verified,
                "since": h.created_at,
                "until": h.expires_at,
                "event": h.event,
                "note": h.note,
            }
            for h in hits
        ],
        option=ORJSON_TIMES,
    )


@router.put("/{address}", response_model=SuppressionPublic)
async def put_suppression(
    address: str,
    body: SuppressionPut,
    store: StoreDep,
    who: Writer,
    policy: PolicyDep,
    response: Response,
) -> SuppressionPublic:
    key = _address(address, policy)
    row, created = await suppressions.put(
        store,
        who.tenant_id,
        key,
        kind=body.kind,
        reason=body.reason,
        stream=body.stream or "",
        expires_at=body.expires_at,
        note=body.note,
        actor=who.actor,
    )
    if key.startswith("@"):
        store.checks.special_changed(who.tenant_id)
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
    key = _address(address, policy)
    removed = await suppressions.remove(
        store, who.tenant_id, key, stream or "", actor=who.actor, reason=reason
    )
    if key.startswith("@"):
        store.checks.special_changed(who.tenant_id)
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
            decided_by=e.decided_by,
            evidence=e.evidence,
            effect=Outcome(e.effect) if e.effect else None,
            effect_reason=e.effect_reason,
            effect_detail=e.effect_detail,
        )
        for e in entries
    ]
