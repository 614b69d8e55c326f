"""/v1/reasons: the reason vocabulary, so that API users need not copy it from the manual."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from returnpath.api.deps import Reader
from returnpath.parsers.vocabulary import REASONS

router = APIRouter(prefix="/v1/reasons", tags=["reasons"])


class ReasonPublic(BaseModel):
    name: str
    description: str
    hard: bool  # the reason alone proves the address does not take mail
    sender_side: bool  # the cause is our sending: it never counts towards suppression


_ALL = [
    ReasonPublic(name=r.value, description=i.description, hard=i.hard, sender_side=i.sender_side)
    for r, i in REASONS.items()
]


@router.get("", response_model=list[ReasonPublic])
async def list_reasons(_: Reader) -> list[ReasonPublic]:
    """Every reason a finding, an event or a suppression can carry, in table order."""
    return _ALL
