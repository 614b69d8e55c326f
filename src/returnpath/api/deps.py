"""Dependencies shared by the routes: the store, and who is calling."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from returnpath.store import policies
from returnpath.store.db import Store
from returnpath.store.keys import KeyCache
from returnpath.store.policy import Policy


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: int
    tenant: str
    scope: str  # "admin" | "write" | "read"
    actor: str  # written to the audit trail

    @property
    def can_write(self) -> bool:
        return self.scope in ("admin", "write")


@dataclass
class AppState:
    store: Store
    admin_key: str
    default_tenant_id: int
    default_tenant: str
    publish: bool = False  # write outbox rows for events the API creates (one-click unsubscribes)
    on_recorded: Callable[[], None] | None = None  # wake the relay


async def get_state(request: Request) -> AppState:
    # async (as every dependency here): FastAPI runs a plain def in a thread pool,
    # two thread hops per request that cost more than the whole lookup.
    state: AppState = request.app.state.returnpath
    return state


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.returnpath.store
    return store


_bearer = HTTPBearer(auto_error=False, description="API key")


async def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return await authenticate(request.app.state.returnpath, creds.credentials if creds else None)


async def authenticate(state: AppState, key: str | None) -> Principal:
    if not key:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'")
    if state.admin_key and hmac.compare_digest(key.encode(), state.admin_key.encode()):
        return Principal(state.default_tenant_id, state.default_tenant, "admin", "admin")
    info = await KeyCache.shared.authenticate(state.store, key)
    if info is None:
        raise HTTPException(401, "invalid API key")
    return Principal(info.tenant_id, info.tenant, info.scope, f"key:{info.id}")


async def get_writer(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.can_write:
        raise HTTPException(403, "this key is read-only")
    return principal


async def get_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.scope != "admin":
        raise HTTPException(403, "only the admin key (RETURNPATH_API_KEY) may do this")
    return principal


async def get_policy(request: Request, who: Annotated[Principal, Depends(get_principal)]) -> Policy:
    return await policies.get(request.app.state.returnpath.store, who.tenant_id)


@dataclass(frozen=True, slots=True)
class ReadCall:
    store: Store
    who: Principal
    policy: Policy


# What the security dependency would add to the OpenAPI operation.
BEARER_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}]}


async def get_read_call(request: Request) -> ReadCall:
    """Key, tenant and policy as one dependency, for the pre-send checks.

    Those run thousands of times a second, and FastAPI's cost is per dependency
    (~70 µs each here, more than the database lookup): routes that use this
    one declare ``openapi_extra=BEARER_SECURITY`` instead of the HTTPBearer
    dependency, and read the header the way HTTPBearer does.
    """
    state: AppState = request.app.state.returnpath
    scheme, key = get_authorization_scheme_param(request.headers.get("authorization"))
    who = await authenticate(state, key if scheme.lower() == "bearer" else None)
    return ReadCall(state.store, who, await policies.get(state.store, who.tenant_id))


StoreDep = Annotated[Store, Depends(get_store)]
StateDep = Annotated[AppState, Depends(get_state)]
Reader = Annotated[Principal, Depends(get_principal)]
Writer = Annotated[Principal, Depends(get_writer)]
Admin = Annotated[Principal, Depends(get_admin)]
PolicyDep = Annotated[Policy, Depends(get_policy)]
ReadCallDep = Annotated[ReadCall, Depends(get_read_call)]
