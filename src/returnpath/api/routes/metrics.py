"""/metrics in the Prometheus text format (no key: scrape it from your private network).

When ``serve`` runs its stage (or other workers) in processes of their own, every
process writes its values to ``PROMETHEUS_MULTIPROC_DIR`` (``cli.share_metrics``)
and this answer sums them, so one scrape shows the whole ``serve``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    generate_latest,
    multiprocess,
)
from sqlmodel import col, select

from returnpath.api.deps import StoreDep
from returnpath.store.models import Outbox

router = APIRouter(tags=["health"])

OUTBOX_PENDING = Gauge(
    "returnpath_outbox_pending",
    "events waiting for the broker's confirm",
    multiprocess_mode="mostrecent",  # any process's count of the one outbox
)


def _registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(store: StoreDep) -> Response:
    async with store.read() as session:
        pending = (
            await session.execute(
                select(sa.func.count()).select_from(Outbox).where(col(Outbox.sent_at).is_(None))
            )
        ).scalar_one()
    OUTBOX_PENDING.set(pending)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
