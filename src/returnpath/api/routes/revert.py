"""POST /v1/suppressions/revert: lift the suppressions of an incident, previewed first."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from returnpath.api.deps import StoreDep, Writer
from returnpath.api.schemas import Instant, SuppressionKind
from returnpath.store import revert

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])


class RevertRequest(BaseModel):
    """Which suppressions to lift; at least one filter. ``dry_run`` is the default: the
    answer says what would be lifted, and nothing changes until it is sent as false."""

    since: Instant | None = Field(default=None, description="suppressed at or after")
    until: Instant | None = Field(default=None, description="suppressed before")
    kind: SuppressionKind | None = None
    reason: str | None = Field(default=None, max_length=64)
    remote_mta: str | None = Field(
        default=None,
        max_length=253,
        description="the remote MTA of the bounce behind it: a host, or a domain and every"
        " host under it (outlook.com takes mx1.eur.outlook.com)",
    )
    source: Literal["bounce", "manual", "import"] | None = None
    stream: str | None = Field(
        default=None, max_length=64, description="'' names the suppressions of every stream"
    )
    note: str = Field(min_length=1, max_length=1000, description="why: written to each audit")
    dry_run: bool = True


class RevertedSuppression(BaseModel):
    address: str
    stream: str | None
    kind: str
    reason: str
    source: str
    since: datetime
    remote_mta: str | None


class RevertResponse(BaseModel):
    dry_run: bool
    count: int = Field(description="how many suppressions match (dry run) or were lifted")
    sample: list[RevertedSuppression] = Field(description=f"up to {revert.SAMPLE} of them")


@router.post("/revert", response_model=RevertResponse)
async def revert_suppressions(body: RevertRequest, store: StoreDep, who: Writer) -> RevertResponse:
    """Lift in bulk the suppressions an incident made (a blocklisting read as dead mailboxes).

    Applying lifts each matching active suppression with the note in its audit entry
    (the address history shows it) and restarts its soft-bounce count, in batches of
    1,000; a later bounce suppresses again.
    """
    flt = revert.RevertFilter(
        body.since,
        body.until,
        body.kind,
        body.reason,
        body.remote_mta,
        body.source,
        body.stream,
    )
    try:
        result = await revert.revert(
            store, who.tenant_id, flt, note=body.note, actor=who.actor, dry_run=body.dry_run
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return RevertResponse(
        dry_run=result.dry_run,
        count=result.count,
        sample=[
            RevertedSuppression(
                address=one.address,
                stream=one.stream or None,
                kind=one.kind,
                reason=one.reason,
                source=one.source,
                since=one.created_at,
                remote_mta=one.remote_mta,
            )
            for one in result.sample
        ],
    )
