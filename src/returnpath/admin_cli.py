"""``returnpath tenants ...`` and ``returnpath keys ...``: administration from a shell.

They work on the configured database directly, so they can be used while
``serve`` runs (the listener picks up new domains within seconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from returnpath.settings import Settings
from returnpath.store import keys as key_store
from returnpath.store import signing_keys
from returnpath.store import tenants as tenant_store
from returnpath.store.db import Store
from returnpath.store.errors import Conflict, NotFound

T = TypeVar("T")

tenants_app = typer.Typer(no_args_is_help=True, help="Tenants and their bounce domains.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys (stored hashed, shown once).")


def _run(action: Callable[[Store], Awaitable[T]]) -> T:
    async def main() -> T:
        settings = Settings()
        store = Store(settings.database_url_async)
        try:
            await store.create_schema()
            await tenant_store.ensure_tenant(store, tenant_store.DEFAULT_TENANT, settings.domains)
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except (Conflict, NotFound, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@tenants_app.command("create")
def tenants_create(
    name: str,
    domain: Annotated[list[str], typer.Option("--domain", help="a bounce domain (repeatable)")],
) -> None:
    """Create a tenant with its bounce domains."""
    ref = _run(lambda store: tenant_store.create_tenant(store, name, domain))
    typer.echo(f"created tenant {ref.name} ({', '.join(domain)})")


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants and their domains."""
    for tenant, domains in _run(tenant_store.list_tenants):
        typer.echo(f"{tenant.name}\t{','.join(domains)}\t{tenant.created_at.isoformat()}")


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant name")],
    read_only: Annotated[
        bool, typer.Option("--read-only", help="a key that can only read")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="a label for the key")] = None,
) -> None:
    """Create a key; the key itself is printed alone on the last line, once."""
    row, plaintext = _run(
        lambda store: key_store.create_key(store, tenant, read_only=read_only, name=name)
    )
    typer.echo(
        f"key id {row.id} for tenant {tenant}, scope {row.scope}; store it now, it is not shown again:"
    )
    typer.echo(plaintext)


@keys_app.command("list")
def keys_list(tenant: Annotated[str | None, typer.Option("--tenant")] = None) -> None:
    """List keys (ids and scopes, never the keys themselves)."""
    for row, tenant_name in _run(lambda store: key_store.list_keys(store, tenant)):
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
        typer.echo(f"{row.id}\t{tenant_name}\t{row.scope}\t{state}\t{row.name or ''}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key; requests with it are refused within seconds."""
    _run(lambda store: key_store.revoke_key(store, key_id))
    typer.echo(f"revoked {key_id}")


@tenants_app.command("signing-key")
def tenants_signing_key(
    name: str,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="start a new key; old ones retire after a grace period")
    ] = False,
) -> None:
    """Print the tenant's current return-path signing key (id and base64 secret) for the sending relay."""
    import base64

    async def action(store: Store) -> tuple[int, bytes]:
        tenant = await tenant_store.get_tenant(store, name)
        if tenant is None or tenant.id is None:
            raise NotFound(f"no tenant named {name!r}")
        if rotate:
            await signing_keys.rotate(store, tenant.id)
        key = await signing_keys.current_key(store, tenant.id)
        return key.key_id, key.secret

    key_id, secret = _run(action)
    typer.echo(
        f"key id {key_id}; configure your relay with: parsers.signing.make_return_path(secret=..., key_id={key_id}, ...)"
    )
    typer.echo(f"{key_id} {base64.b64encode(secret).decode()}")
