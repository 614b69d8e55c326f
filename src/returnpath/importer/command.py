"""``returnpath import``: the command's body, imported only when it runs (cli.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from returnpath.cli_common import describe_database, fail, load_settings, sqlite_file

if TYPE_CHECKING:
    from returnpath.importer.pipeline import Importer, Tenancy
    from returnpath.importer.sources import Source
    from returnpath.importer.summary import Summary
    from returnpath.settings import Settings
    from returnpath.store.db import Store


@dataclass(frozen=True, slots=True)
class ImportOptions:
    sources: list[str]
    tenant: str | None = None
    dry_run: bool = False
    fmt: str | None = None
    as_json: bool = False
    batch: int = 256
    restart: bool = False
    database: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    insecure: bool = False
    move_to: str | None = None
    flag: str | None = None
    watch: bool = False
    poll: float = 30.0
    delete: bool = False


def _check_options(o: ImportOptions, remotes: list[str]) -> None:
    """Options that make no sense together end the command before anything is read."""
    protocols = {r.split("://", 1)[0].lower().split("+")[0].rstrip("s") for r in remotes}
    has_files = len(remotes) < len(o.sources)
    if o.move_to and o.flag:
        fail("--move-to and --flag exclude each other: choose how processed mail is marked")
    if (o.move_to or o.flag or o.watch) and protocols != {"imap"}:
        fail("--move-to, --flag and --watch are for imap:// sources only")
    if o.watch and len(o.sources) != 1:
        fail("--watch takes one imap:// source")
    if o.delete and (protocols != {"pop3"} or has_files):
        fail("--delete is for pop3:// sources only")
    if o.fmt and remotes:
        fail("--format is for files and folders, not for imap:// or pop3://")
    if o.batch < 1:
        fail("--batch must be at least 1")


def build_sources(o: ImportOptions) -> list[Source]:
    from returnpath.importer import remote as remote_mod
    from returnpath.importer.files import open_path
    from returnpath.importer.imap import ImapSource
    from returnpath.importer.pop3 import Pop3Source

    remotes = [s for s in o.sources if remote_mod.is_remote(s)]
    _check_options(o, remotes)
    password = context = None
    if remotes:
        try:
            password = remote_mod.read_password(o.password_env, o.password_file)
        except ValueError as exc:
            fail(str(exc), exc)
        context = remote_mod.tls_context(o.ca_file, o.insecure)
    sources: list[Source] = []
    for text in o.sources:
        try:
            if not remote_mod.is_remote(text):
                sources.append(open_path(Path(text), o.fmt))
                continue
            where = remote_mod.parse_url(text)
        except (ValueError, OSError) as exc:
            fail(f"{remote_mod.masked(text)}: {exc}", exc)
        assert password is not None and context is not None
        if where.protocol == "imap":
            sources.append(
                ImapSource(
                    where,
                    password,
                    context,
                    move_to=None if o.dry_run else o.move_to,
                    flag=None if o.dry_run else o.flag,
                    watch=o.watch,
                    poll=o.poll,
                )
            )
        else:
            sources.append(Pop3Source(where, password, context, delete=o.delete and not o.dry_run))
    return sources


def run_import(o: ImportOptions) -> None:
    from returnpath import logs
    from returnpath.settings import check_database_url

    settings = load_settings()
    if o.database is not None:
        try:
            check_database_url(o.database)
        except ValueError as exc:
            fail(f"--database: {exc}", exc)
        settings = settings.model_copy(update={"database_url": o.database})
    logs.configure(settings.log_format, settings.log_level)
    sources = build_sources(o)
    url = settings.database_url_async
    where = describe_database(url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        fail(
            f"no database at {path.resolve()}: import does not create one (`returnpath serve`"
            " does); set RETURNPATH_DATABASE_URL or --database to the one serve uses"
        )
    typer.echo(f"database: {where}", err=True)

    from returnpath.importer.summary import Summary

    summary = Summary(dry_run=o.dry_run)
    code = _run(settings, o, sources, summary, where)
    if o.as_json:
        typer.echo(json.dumps(summary.as_dict()))
    else:
        typer.echo(summary.render())
    if code:
        raise typer.Exit(code)


def _run(
    settings: Settings, o: ImportOptions, sources: list[Source], summary: Summary, where: str
) -> int:
    """Import every source in order; the exit code (1: messages failed, 130: interrupted)."""
    import imaplib
    import poplib
    import ssl

    from sqlalchemy.exc import DBAPIError

    from returnpath.importer.pipeline import StoreUnavailable

    reading: list[Source] = []  # the source in hand, named by an error message
    try:
        return asyncio.run(_main(settings, o, sources, summary, reading))
    except StoreUnavailable as exc:
        fail(
            f"the store is unavailable ({where}): {exc}; the import stopped after its last"
            " committed group: run the same command again to resume",
            exc,
            code=1,
        )
    except (OSError, imaplib.IMAP4.error, poplib.error_proto, ssl.SSLError, EOFError) as exc:
        label = reading[-1].label if reading else "the source"
        fail(f"cannot read {label}: {exc}", exc, code=1)
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(f"cannot use the database ({where}): {reason[0] if reason else exc}", exc, code=1)


async def _main(
    settings: Settings,
    o: ImportOptions,
    sources: list[Source],
    summary: Summary,
    reading: list[Source],
) -> int:
    from returnpath.importer.checkpoint import Checkpoints
    from returnpath.importer.pipeline import Importer
    from returnpath.store.db import Store

    url = settings.database_url_async
    store = Store(url, busy_timeout=settings.sqlite_busy_timeout, timeout=settings.db_timeout)
    try:
        tenancy = await _tenancy(store, settings, o)
        importer = Importer(
            store,
            tenancy,
            summary,
            Checkpoints(settings.spool_root / "imports", f"{url}\0{o.tenant or ''}"),
            publish=bool(settings.amqp_url),
            dry_run=o.dry_run,
            restart=o.restart,
            max_items=o.batch,
        )
        _on_signals(importer, reading)
        for source in sources:
            reading.append(source)
            if not await importer.run(source):
                summary.interrupted = not o.watch  # --watch ends only this way
                break
    finally:
        await store.close()
    return 1 if summary.failed else 130 if summary.interrupted else 0


async def _tenancy(store: Store, settings: Settings, o: ImportOptions) -> Tenancy:
    from returnpath.importer.pipeline import Tenancy
    from returnpath.store import tenants as tenant_store
    from returnpath.store.tenants import TenantRef

    if not o.dry_run:  # as serve does at start; --dry-run writes nothing
        await store.create_schema()
        await tenant_store.ensure_tenant(store, tenant_store.DEFAULT_TENANT, settings.domains)
    listed = await tenant_store.list_tenants(store)
    refs = {t.name: (TenantRef(t.id, t.name), domains) for t, domains in listed if t.id is not None}
    wanted = o.tenant or tenant_store.DEFAULT_TENANT
    if wanted not in refs and not o.tenant and o.dry_run:
        # a database serve has not started on yet: nothing of it is stored, nothing found
        refs[wanted] = (TenantRef(0, wanted), [])
    if wanted not in refs:
        fail(f"no tenant {wanted!r} (returnpath tenants list)")
    chosen = [refs[wanted]] if o.tenant else list(refs.values())
    domains = {d: ref for ref, names in chosen for d in names}
    return Tenancy(domains, refs[wanted][0])


def _on_signals(importer: Importer, reading: list[Source]) -> None:
    """Ctrl-C or SIGTERM: finish the group in flight, save the checkpoint, stop; a second
    one quits at once (the checkpoint is only ever after committed groups)."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if importer.stopping.is_set():
            os._exit(130)
        importer.stopping.set()
        if reading:
            reading[-1].interrupt()
        print("stopping after the current group (again to quit at once)", file=sys.stderr)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
