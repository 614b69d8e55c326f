"""``returnpath tenants ...`` and ``returnpath keys ...``: administration from a shell.

They work on the configured database directly, so they can be used while
``serve`` runs (the listener picks up new domains within seconds). The
database is the one ``serve`` uses with the same configuration
(``RETURNPATH_DATABASE_URL``, or ``--database``); every command says which on
standard error, and none creates one: a command run from the wrong folder
would otherwise work on a new, empty ``./returnpath.db``.

The store is imported inside the commands: declaring them costs ``returnpath
--help`` nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from returnpath.cli_common import (
    PlainHelpGroup,
    describe_database,
    fail,
    load_settings,
    sqlite_file,
)

if TYPE_CHECKING:
    from returnpath.store.db import Store

T = TypeVar("T")

tenants_app = typer.Typer(
    cls=PlainHelpGroup, no_args_is_help=True, help="Tenants and their bounce domains."
)
keys_app = typer.Typer(
    cls=PlainHelpGroup, no_args_is_help=True, help="API keys (stored hashed, shown once)."
)

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="database URL [default: RETURNPATH_DATABASE_URL, the one serve uses]",
        show_default=False,
    ),
]


def _run(action: Callable[[Store], Awaitable[T]], database: str | None) -> T:
    import asyncio

    from returnpath.settings import check_database_url

    settings = load_settings()
    if database is not None:
        try:
            check_database_url(database)
        except ValueError as exc:
            fail(f"--database: {exc}", exc)
        settings = settings.model_copy(update={"database_url": database})
    url = settings.database_url_async
    where = describe_database(url)
    typer.echo(f"database: {where}", err=True)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        fail(
            f"no database at {path.resolve()}: administration commands do not create one"
            " (`returnpath serve` does); set RETURNPATH_DATABASE_URL or --database to the"
            " one serve uses"
        )

    from sqlalchemy.exc import DBAPIError

    from returnpath.store import tenants as tenant_store
    from returnpath.store.db import Store
    from returnpath.store.errors import Conflict, NotFound

    async def main() -> T:
        store = Store(url, busy_timeout=settings.sqlite_busy_timeout, timeout=settings.db_timeout)
        try:
            await store.create_schema()
            await tenant_store.ensure_tenant(store, tenant_store.DEFAULT_TENANT, settings.domains)
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except (Conflict, NotFound, ValueError) as exc:
        fail(str(exc), exc, code=1)
    except (DBAPIError, OSError, TimeoutError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(
            f"cannot use the database ({where}): {reason[0] if reason else type(exc).__name__}",
            exc,
            code=1,
        )


@tenants_app.command("create")
def tenants_create(
    name: str,
    domain: Annotated[list[str], typer.Option("--domain", help="a bounce domain (repeatable)")],
    database: Database = None,
) -> None:
    """Create a tenant with its bounce domains."""
    from returnpath.store import tenants as tenant_store

    ref = _run(lambda store: tenant_store.create_tenant(store, name, domain), database)
    typer.echo(f"created tenant {ref.name} ({', '.join(domain)})")


@tenants_app.command("add-domain")
def tenants_add_domain(name: str, domain: str, database: Database = None) -> None:
    """Give a tenant one more bounce domain (accepted by serve within two seconds)."""
    from returnpath.store import tenants as tenant_store

    key = _run(lambda store: tenant_store.add_domain(store, name, domain), database)
    typer.echo(f"tenant {name} now receives mail for {key}")


@tenants_app.command("remove-domain")
def tenants_remove_domain(name: str, domain: str, database: Database = None) -> None:
    """Stop accepting mail for one of a tenant's domains (within two seconds); what was
    recorded for it stays."""
    from returnpath.store import tenants as tenant_store

    key = _run(lambda store: tenant_store.remove_domain(store, name, domain), database)
    typer.echo(f"tenant {name} no longer receives mail for {key}")


@tenants_app.command("list")
def tenants_list(database: Database = None) -> None:
    """List tenants and their domains."""
    from returnpath.store import tenants as tenant_store

    for tenant, domains in _run(tenant_store.list_tenants, database):
        typer.echo(f"{tenant.name}\t{','.join(domains)}\t{tenant.created_at.isoformat()}")


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant name")],
    read_only: Annotated[
        bool, typer.Option("--read-only", help="a key that can only read")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="a label for the key")] = None,
    database: Database = None,
) -> None:
    """Create a key; the key itself is printed alone on the last line, once."""
    from returnpath.store import keys as key_store

    row, plaintext = _run(
        lambda store: key_store.create_key(store, tenant, read_only=read_only, name=name),
        database,
    )
    typer.echo(
        f"key id {row.id} for tenant {tenant}, scope {row.scope}; store it now, it is not shown again:"
    )
    typer.echo(plaintext)


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option("--tenant")] = None, database: Database = None
) -> None:
    """List keys (ids and scopes, never the keys themselves)."""
    from returnpath.store import keys as key_store

    for row, tenant_name in _run(lambda store: key_store.list_keys(store, tenant), database):
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
        typer.echo(f"{row.id}\t{tenant_name}\t{row.scope}\t{state}\t{row.name or ''}")


@keys_app.command("revoke")
def keys_revoke(key_id: str, database: Database = None) -> None:
    """Revoke a key; requests with it are refused within seconds."""
    from returnpath.store import keys as key_store

    _run(lambda store: key_store.revoke_key(store, key_id), database)
    typer.echo(f"revoked {key_id}")


@tenants_app.command("signing-key")
def tenants_signing_key(
    name: str,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="start a new key; old ones retire after a grace period")
    ] = False,
    database: Database = None,
) -> None:
    """Print the tenant's current return-path signing key (id and base64 secret) for the sending relay."""
    import base64

    from returnpath.store import signing_keys
    from returnpath.store import tenants as tenant_store
    from returnpath.store.errors import NotFound

    async def action(store: Store) -> tuple[int, bytes]:
        tenant = await tenant_store.get_tenant(store, name)
        if tenant is None or tenant.id is None:
            raise NotFound(f"no tenant named {name!r}")
        if rotate:
            await signing_keys.rotate(store, tenant.id)
        key = await signing_keys.current_key(store, tenant.id)
        return key.key_id, key.secret

    key_id, secret = _run(action, database)
    typer.echo(
        f"key id {key_id}; configure your relay with: parsers.signing.make_return_path(secret=..., key_id={key_id}, ...)"
    )
    typer.echo(f"{key_id} {base64.b64encode(secret).decode()}")


def purge_command(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            min=0,
            help="retention in days [default: RETURNPATH_RAW_RETENTION_DAYS]",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count what would be purged, change nothing")
    ] = False,
    database: Database = None,
) -> None:
    """Drop the raw bytes of messages older than the retention (events and suppressions
    stay); serve does it every RETURNPATH_RAW_PURGE_INTERVAL seconds, this is for cron."""
    from returnpath.store import retention

    days = load_settings().raw_retention_days if older_than_days is None else older_than_days
    if days == 0 and older_than_days is None:
        fail("RETURNPATH_RAW_RETENTION_DAYS=0 keeps raw messages for ever: nothing to purge")
    before = retention.cutoff(days)
    if dry_run:
        count = _run(lambda store: retention.count_purgeable(store, before), database)
        typer.echo(
            f"{count} raw message(s) received before {before:%Y-%m-%d %H:%M} would be purged"
        )
    else:
        count = _run(lambda store: retention.purge_raw(store, before), database)
        typer.echo(f"{count} raw message(s) received before {before:%Y-%m-%d %H:%M} purged")


def _instant(value: str | None, option: str) -> datetime | None:
    """An RFC 3339 time with its zone, as the API takes it (a time without one is ambiguous)."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        fail(f"{option}: not an RFC 3339 time ({value!r}); e.g. 2026-12-03T14:00:00Z", exc)
    if at.tzinfo is None:
        fail(f"{option}: give the time zone ({value}Z for UTC)")
    return at.astimezone(UTC)


def revert_command(
    note: Annotated[str, typer.Option("--note", help="why: written to each lifted entry's audit")],
    since: Annotated[str | None, typer.Option(help="suppressed at or after (RFC 3339)")] = None,
    until: Annotated[str | None, typer.Option(help="suppressed before (RFC 3339)")] = None,
    kind: Annotated[str | None, typer.Option(help="hard_bounce, complaint, ...")] = None,
    reason: Annotated[str | None, typer.Option(help="userunknown, blocked, ...")] = None,
    remote_mta: Annotated[
        str | None, typer.Option(help="the bounce's remote MTA: a host, or a domain and its hosts")
    ] = None,
    source: Annotated[str | None, typer.Option(help="bounce, manual or import")] = None,
    stream: Annotated[str | None, typer.Option(help="a stream ('' = every stream)")] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="lift them (without it: a dry run that changes nothing)")
    ] = False,
    tenant: Annotated[
        str | None, typer.Option(help="tenant name [default: the default tenant]")
    ] = None,
    database: Database = None,
) -> None:
    """Lift in bulk the suppressions of an incident (a blocklisting read as dead mailboxes):
    a dry run first, --apply to lift them, audited with the note."""
    from returnpath.store import revert
    from returnpath.store import tenants as tenant_store

    flt = revert.RevertFilter(
        _instant(since, "--since"),
        _instant(until, "--until"),
        kind,
        reason,
        remote_mta,
        source,
        stream,
    )

    async def action(store: Store) -> revert.RevertResult:
        name = tenant or tenant_store.DEFAULT_TENANT
        row = await tenant_store.get_tenant(store, name)
        if row is None or row.id is None:
            raise ValueError(f"no tenant named {name!r}")
        return await revert.revert(store, row.id, flt, note=note, actor="admin", dry_run=not apply)

    result = _run(action, database)
    verb = "would lift" if result.dry_run else "lifted"
    typer.echo(f"{verb} {result.count} suppression(s)")
    for one in result.sample:
        typer.echo(
            f"  {one.address}\t{one.stream or '*'}\t{one.kind}\t{one.reason}"
            f"\t{one.created_at:%Y-%m-%dT%H:%M:%SZ}\t{one.remote_mta or ''}"
        )
    if result.dry_run and result.count:
        typer.echo("nothing changed: run again with --apply to lift them")


def reparse_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would change (required: see below)")
    ] = False,
    since: Annotated[str | None, typer.Option(help="received at or after (RFC 3339)")] = None,
    until: Annotated[str | None, typer.Option(help="received before (RFC 3339)")] = None,
    family: Annotated[
        str | None, typer.Option(help="only messages recorded as this family")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="tenant name [default: the default tenant]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as one JSON object")] = False,
    database: Database = None,
) -> None:
    """Parse stored messages again with the current parsers and report, by old -> new kind
    and reason, what would change, with a sample. Read-only; applying is not built yet."""
    import sys

    import orjson

    from returnpath.store import reparse
    from returnpath.store import tenants as tenant_store

    if not dry_run:
        fail(
            "applying a re-parse is not built yet (issue 14): run with --dry-run to see what"
            " the current parsers would change"
        )
    when = (_instant(since, "--since"), _instant(until, "--until"))
    live = sys.stderr.isatty()

    async def action(store: Store) -> reparse.ReparseReport:
        name = tenant or tenant_store.DEFAULT_TENANT
        row = await tenant_store.get_tenant(store, name)
        if row is None or row.id is None:
            raise ValueError(f"no tenant named {name!r}")
        flt = reparse.ReparseFilter(row.id, *when, family)
        total = await reparse.count(store, flt)

        def progress(done: int) -> None:
            if live:
                sys.stderr.write(f"\rre-read {done:,} of {total:,} messages")
                sys.stderr.flush()

        try:
            return await reparse.dry_run(store, flt, progress=progress)
        finally:
            if live:
                sys.stderr.write("\n")

    report = _run(action, database)
    if as_json:
        typer.echo(orjson.dumps(report.to_dict()).decode())
        return
    typer.echo(
        f"{report.messages} message(s) parsed again ({report.purged} purged, not re-read):"
        f" {report.unchanged} verdict(s) unchanged, {report.changed} would change"
    )
    for (before, after), n in report.transitions.most_common():
        typer.echo(f"  {n:>8}  {before} -> {after}")
    if report.sample:
        typer.echo("sample:")
    for c in report.sample:
        typer.echo(
            f"  {c.message}\t{c.recipient or '(no recipient)'}\t{c.before} -> {c.after}"
            f"\t{c.decided_by or ''}"
        )
