"""/metrics in the Prometheus text format (no key: scrape it from your private network)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlmodel import col, select

from returnpath.api.deps import StoreDep
from returnpath.store.models import Outbox

router = APIRouter(tags=["health"])

OUTBOX_PENDING = Gauge("returnpath_outbox_pending", "events waiting for the broker's confirm")


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(store: StoreDep) -> Response:
    async with store.read() as session:
        pending = (
            await session.execute(
                select(sa.func.count()).select_from(Outbox).where(col(Outbox.sent_at).is_(None))
            )
        ).scalar_one()
    OUTBOX_PENDING.set(pending)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
