"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from returnpath.api.deps import StoreDep
from returnpath.api.problems import problem
from returnpath.api.schemas import Health

router = APIRouter(tags=["health"])

# Orchestrators give a readiness probe little time (Kubernetes: 1 s by default) and
# count a probe that times out as a failure without a reason. So the ping gets less
# than that, and a database that has not answered by then is reported, with why.
READY_WITHIN = 0.8


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process answers (no dependency checked: restart only if this fails)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "database down"}})
async def readyz(store: StoreDep) -> Health | JSONResponse:
    """Ready means the database answers: without it no bounce can be accepted."""
    reason = await store.ping(min(store.timeout, READY_WITHIN))
    if reason is None:
        return Health(status="ready")
    return problem(503, reason)
