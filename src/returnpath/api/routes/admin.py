"""/v1/tenants and /v1/keys: administration, for the admin key only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Response

from returnpath.api.deps import Admin, StoreDep
from returnpath.api.schemas import KeyCreate, KeyCreated, KeyPublic, TenantCreate, TenantPublic
from returnpath.store import keys, tenants
from returnpath.store.errors import Conflict, NotFound
from returnpath.store.models import ApiKey

router = APIRouter(tags=["admin"])


def _key(row: ApiKey, tenant: str) -> KeyPublic:
    return KeyPublic(
        id=row.id,
        tenant=tenant,
        scope=row.scope,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.post("/v1/tenants", response_model=TenantPublic, status_code=201)
async def create_tenant(body: TenantCreate, store: StoreDep, _: Admin) -> TenantPublic:
    """A tenant and its bounce domains; the SMTP listener accepts them at once."""
    try:
        await tenants.create_tenant(store, body.name, body.domains)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    for tenant, domains in await tenants.list_tenants(store):
        if tenant.name == body.name:
            return TenantPublic(name=tenant.name, domains=domains, created_at=tenant.created_at)
    raise HTTPException(500, "tenant vanished after creation")


@router.get("/v1/tenants", response_model=list[TenantPublic])
async def list_tenants(store: StoreDep, _: Admin) -> list[TenantPublic]:
    return [
        TenantPublic(name=t.name, domains=d, created_at=t.created_at)
        for t, d in await tenants.list_tenants(store)
    ]


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """The store's refusals as their HTTP answers, with the store's words."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.put("/v1/tenants/{name}/domains/{domain}", status_code=204)
async def add_domain(name: str, domain: str, store: StoreDep, _: Admin) -> Response:
    """One more bounce domain for a tenant (idempotent); accepted within two seconds."""
    with _store_errors():
        await tenants.add_domain(store, name, domain)
    return Response(status_code=204)


@router.delete("/v1/tenants/{name}/domains/{domain}", status_code=204)
async def remove_domain(name: str, domain: str, store: StoreDep, _: Admin) -> Response:
    """Stop accepting mail for a domain (within two seconds); what was recorded stays."""
    with _store_errors():
        await tenants.remove_domain(store, name, domain)
    return Response(status_code=204)


@router.post("/v1/keys", response_model=KeyCreated, status_code=201)
async def create_key(body: KeyCreate, store: StoreDep, _: Admin) -> KeyCreated:
    try:
        row, plaintext = await keys.create_key(
            store, body.tenant, read_only=body.read_only, name=body.name
        )
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return KeyCreated(**_key(row, body.tenant).model_dump(), key=plaintext)


@router.get("/v1/keys", response_model=list[KeyPublic])
async def list_keys(store: StoreDep, _: Admin, tenant: str | None = None) -> list[KeyPublic]:
    return [_key(row, name) for row, name in await keys.list_keys(store, tenant)]


@router.delete("/v1/keys/{key_id}", status_code=204)
async def revoke_key(key_id: str, store: StoreDep, _: Admin) -> Response:
    try:
        await keys.revoke_key(store, key_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)
