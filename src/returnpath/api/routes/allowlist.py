"""/v1/allowlist: addresses and @domains whose findings are recorded but never suppress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, Response
from pydantic import BaseModel, Field

from returnpath.api.deps import PolicyDep, Reader, StoreDep, Writer
from returnpath.store import allowlist
from returnpath.store.models import AllowlistEntry

router = APIRouter(prefix="/v1/allowlist", tags=["allowlist"])


class AllowlistPut(BaseModel):
    note: str | None = Field(default=None, max_length=1000, description="why: kept with the entry")


class AllowlistPublic(BaseModel):
    entry: str = Field(description="an address, or @domain for every address at the domain")
    note: str | None
    actor: str
    since: datetime


class AllowlistPutAnswer(AllowlistPublic):
    lifted: int = Field(description="suppressions the entry lifted (audited as allowlisted)")


class AllowlistPage(BaseModel):
    items: list[AllowlistPublic]
    next_cursor: str | None


def _public(row: AllowlistEntry) -> AllowlistPublic:
    return AllowlistPublic(entry=row.entry, note=row.note, actor=row.actor, since=row.created_at)


def _key(entry: str, policy: PolicyDep) -> str:
    try:
        return allowlist.entry_key(entry, fold_local=policy.fold_local_case)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("", response_model=AllowlistPage)
async def list_allowlist(
    store: StoreDep,
    who: Reader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AllowlistPage:
    """Every entry in key order; ``next_cursor`` (the last entry) continues."""
    rows = await allowlist.page(store, who.tenant_id, cursor or "", limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return AllowlistPage(
        items=[_public(r) for r in rows], next_cursor=rows[-1].entry if more and rows else None
    )


@router.get("/{entry}", response_model=AllowlistPublic)
async def get_entry(entry: str, store: StoreDep, who: Reader, policy: PolicyDep) -> AllowlistPublic:
    row = await allowlist.get(store, who.tenant_id, _key(entry, policy))
    if row is None:
        raise HTTPException(404, "not on the allowlist")
    return _public(row)


@router.put("/{entry}", response_model=AllowlistPutAnswer)
async def put_entry(
    entry: str,
    store: StoreDep,
    who: Writer,
    policy: PolicyDep,
    response: Response,
    body: Annotated[AllowlistPut | None, Body()] = None,
) -> AllowlistPutAnswer:
    """Allowlist an address or ``@domain``: its suppressions are lifted (audited), and from
    now on its findings are recorded with the effect ``recorded`` but never suppress."""
    done = await allowlist.put(
        store,
        who.tenant_id,
        _key(entry, policy),
        note=body.note if body else None,
        actor=who.actor,
    )
    response.status_code = 201 if done.created else 200
    return AllowlistPutAnswer(**_public(done.entry).model_dump(), lifted=done.lifted)


@router.delete("/{entry}", status_code=204)
async def delete_entry(entry: str, store: StoreDep, who: Writer, policy: PolicyDep) -> Response:
    """Take an entry off; what was lifted stays lifted, later findings act again."""
    if not await allowlist.remove(store, who.tenant_id, _key(entry, policy)):
        raise HTTPException(404, "not on the allowlist")
    return Response(status_code=204)
