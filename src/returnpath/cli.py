"""returnpath: bounces, complaints and auto-replies in; verdicts and a suppression list out."""

# Start-up time is part of the interface: `returnpath --help` and `returnpath parse`
# import only typer and, for parse, the parsers (tests/test_import_graph.py checks it).
# A command imports what it needs inside its body; new commands do the same.
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from returnpath.admin_cli import (
    keys_app,
    purge_command,
    reparse_command,
    revert_command,
    tenants_app,
)
from returnpath.cli_common import (
    Options,
    PlainHelpCommand,
    PlainHelpGroup,
    describe_database,
    fail,
    load_settings,
)

if TYPE_CHECKING:
    from returnpath.settings import Settings


app = typer.Typer(
    cls=PlainHelpGroup,
    no_args_is_help=True,
    add_completion=False,
    help=__doc__,
    # plain help and plain errors: rich costs start-up time, and a mistake gets one line
    # (cli_common.fail), not a framed traceback; --debug shows Python's own
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.command("purge", cls=PlainHelpCommand)(purge_command)
app.command("revert", cls=PlainHelpCommand)(revert_command)
app.command("reparse", cls=PlainHelpCommand)(reparse_command)


@app.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="on an error, show the Python traceback")
    ] = False,
) -> None:
    Options.debug = debug


def _files(paths: list[Path]) -> list[Path]:
    """The files to parse, in order: each file named, then every file below each folder
    named (sorted). A name that leads nowhere ends the command before any output."""
    files: list[Path] = []
    for path in paths:
        try:
            if str(path) == "-":
                files.append(path)
            elif path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file())
                if not found:
                    fail(f"no files in folder {path}")
                files.extend(found)
            elif path.exists():
                files.append(path)
            else:
                fail(f"no such file or folder: {path}")
        except OSError as exc:  # a name too long, a folder that cannot be listed
            fail(f"cannot use {path}: {exc.strerror or exc}", exc)
    return files


def write_findings(files: list[Path], out: BinaryIO) -> int:
    """Parse each file and write its JSON Lines to ``out``; return how many files could
    not be read (each told on standard error).

    Every line has the same keys: ``file``, the fields of ``Finding`` in their order,
    and the report's ``error``; a message without findings gets one line of kind
    ``unknown``. One dict per line, filled from the fields, and orjson: ``asdict`` plus a
    merged copy and ``json.dumps`` cost about 70 µs a finding, this about 4 µs
    (a compiled parse is a few hundred).
    """
    from dataclasses import fields

    import orjson

    from returnpath.parsers import parse
    from returnpath.parsers.model import Finding, Kind
    from returnpath.parsers.vocabulary import Reason

    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    names = [field.name for field in fields(Finding)]
    write = out.write
    unreadable = 0
    for path in files:
        name = str(path)
        try:
            raw = sys.stdin.buffer.read() if name == "-" else path.read_bytes()
        except OSError as exc:
            typer.echo(f"returnpath: cannot read {name}: {exc.strerror or exc}", err=True)
            unreadable += 1
            continue
        report = parse(raw)
        findings = report.findings or (
            Finding(kind=Kind.UNKNOWN, reason=Reason.UNDEFINED, family=report.family),
        )
        for finding in findings:
            row: dict[str, object] = {"file": name}
            for key in names:
                row[key] = getattr(finding, key)
            row["error"] = report.error
            write(dumps(row, option=newline))
    return unreadable


@app.command(
    "parse",
    cls=PlainHelpCommand,
    # The paths are read from the context, not declared as a parameter: typer coerces every
    # declared non-flag parameter through a pydantic TypeAdapter, and importing pydantic
    # for it would double the start-up time of a short parse.
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    options_metavar="PATH...",
)
def parse_command(ctx: typer.Context) -> None:
    """Parse messages offline and print JSON Lines, one object per finding.

    Each PATH is a message file, a folder (every file below it, in name order), or - for
    one message on standard input. A file named like an option goes after --.
    """
    import gc

    if not ctx.args:
        fail("parse needs a PATH: a message file, a folder of them, or - for standard input")
    files = _files([Path(arg) for arg in ctx.args])
    # the parsers' tables live as long as the process: out of the collector's
    # sight, as in the service after start-up
    import returnpath.parsers  # noqa: F401

    gc.freeze()
    # one buffered writer over standard output, not a write through the text layer per line
    out = open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115
    try:
        unreadable = write_findings(files, out)
        out.flush()
    except BrokenPipeError:  # `returnpath parse ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    if unreadable:
        raise typer.Exit(2)


def share_metrics(settings: Settings) -> None:
    """One /metrics for every process of this serve (the stage, other workers).

    prometheus_client's multiprocess mode: each process writes its values to
    files in one directory, and /metrics sums them. It must be set before
    prometheus_client is first imported, and the directory starts empty.
    """
    import shutil

    if settings.worker_index != 0 or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return
    directory = settings.spool_root / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory.resolve())


@app.command("serve")
def serve_command() -> None:
    """Run the SMTP listener, HTTP API and outbox relay (configured by RETURNPATH_* variables)."""
    import asyncio

    from returnpath import logs

    settings = load_settings()
    logs.configure(settings.log_format, settings.log_level)
    try:
        share_metrics(settings)
    except OSError as exc:
        fail(
            f"cannot write in the spool folder {settings.spool_root}: {exc.strerror or exc};"
            " set RETURNPATH_SPOOL_DIR to a writable folder",
            exc,
        )
    # after share_metrics: these import prometheus_client
    from returnpath.service import ListenError, Service
    from returnpath.workers import WorkerGroup

    workers = WorkerGroup(settings)
    service = Service(workers.settings)
    try:  # uvloop (via uvicorn[standard]) speeds up SMTP and HTTP alike; plain asyncio otherwise
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    from sqlalchemy.exc import DBAPIError

    try:
        run(service.run(after_start=workers.spawn))
    except ListenError as exc:
        workers.stop()
        fail(str(exc), exc)
    except (OSError, TimeoutError, DBAPIError) as exc:
        workers.stop()
        if service.api is not None:  # it had started: a crash, shown with its traceback
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(
            f"serve could not start: {reason[0] if reason else type(exc).__name__}"
            f" (database: {describe_database(settings.database_url_async)};"
            f" spool: {settings.spool_root})",
            exc,
            code=1,
        )
    workers.stop()


@app.command("stage", hidden=True)
def stage_command() -> None:
    """Record spooled messages: started and watched by serve (RETURNPATH_STAGE=process)."""
    import asyncio

    from returnpath import logs
    from returnpath.stage_process import run_stage

    settings = load_settings()
    logs.configure(settings.log_format, settings.log_level)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run_stage(settings))
    else:
        uvloop.run(run_stage(settings))


@app.command("requeue")
def requeue_command() -> None:
    """Give quarantined messages (<spool>/quarantine/) back to the stage, e.g. after a fix."""
    from returnpath.stage import requeue_quarantined

    settings = load_settings()
    count = requeue_quarantined(settings.spool_root)
    typer.echo(f"{count} quarantined message(s) requeued; the running stage records them")


# -- issue 17: the evidence behind each verdict (imports inside: `--help` stays fast) --------


@app.command("explain")
def explain_command(
    paths: Annotated[list[Path], typer.Argument(help=".eml files or directories of them")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
) -> None:
    """Say how each message was recognised and why each finding got its kind and reason."""
    import json as json_

    from returnpath.explain import as_text, explain_bytes

    for n, path in enumerate(_files(paths)):
        data = explain_bytes(path.read_bytes())
        if as_json:
            typer.echo(json_.dumps({"file": str(path), **data}, ensure_ascii=False))
        else:
            typer.echo(("\n" if n else "") + as_text(str(path), data))


@app.command("classify")
def classify_command(
    text: Annotated[str, typer.Argument(help="an SMTP reply or bounce text; - reads stdin")],
    status: Annotated[
        str | None, typer.Option(help="an enhanced status code known from elsewhere")
    ] = None,
    command: Annotated[
        str | None, typer.Option(help="the SMTP command the reply answered (RCPT, DATA, ...)")
    ] = None,
) -> None:
    """Classify a bare SMTP reply or a bounce text: prints kind, reason, status, reply code,
    whose fault, decided_by and evidence as one JSON object."""
    import json as json_
    import sys as sys_

    from returnpath.classify import MAX_TEXT, classify_text

    if text == "-":
        text = sys_.stdin.read(MAX_TEXT + 1)
    result = classify_text(text, status, command)
    typer.echo(json_.dumps(result.to_dict(), ensure_ascii=False))


# -- issue 12: the reference consumer of the events on RabbitMQ ------------------------------


@app.command("consume", cls=PlainHelpCommand)
def consume_command(
    queue: Annotated[str, typer.Option(help="durable queue to declare (or use)")] = (
        "returnpath.consume"
    ),
    bind: Annotated[
        list[str] | None,
        typer.Option(help="binding key on the exchange, repeatable (hard_bounce.#, complaint.*)"),
    ] = None,
    exec_: Annotated[
        str | None,
        typer.Option(
            "--exec",
            help="shell command run once per event, the event on its stdin; exit 0 acknowledges",
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="RabbitMQ URL (default: RETURNPATH_AMQP_URL)")
    ] = None,
    exchange: Annotated[
        str | None, typer.Option(help="topic exchange (default: RETURNPATH_EXCHANGE)")
    ] = None,
    queue_type: Annotated[str, typer.Option(help="quorum or classic")] = "quorum",
    declare: Annotated[
        bool, typer.Option(help="--no-declare: consume an existing queue as it is")
    ] = True,
    prefetch: Annotated[int, typer.Option(min=1, help="unacknowledged events on the wire")] = 50,
    max_attempts: Annotated[
        int, typer.Option(min=1, help="failures before an event goes to <queue>.dead")
    ] = 5,
    retry_delay: Annotated[float, typer.Option(min=0, help="seconds before a retry")] = 1.0,
    timeout: Annotated[float, typer.Option(min=0.001, help="seconds --exec may run")] = 60.0,
    ledger: Annotated[
        Path | None,
        typer.Option(help="SQLite file of handled event ids (default: <queue>.seen.sqlite)"),
    ] = None,
    remember: Annotated[int, typer.Option(min=1, help="handled ids the ledger keeps")] = 100_000,
    limit: Annotated[int, typer.Option(min=0, help="exit after this many events (0: never)")] = 0,
) -> None:
    """Consume the events from RabbitMQ: print them as JSON Lines, or run --exec per event.

    Manual acknowledgements after the event is handled; redeliveries (same message_id)
    are recognised by the ledger and not handled twice; after --max-attempts failures an
    event goes to the dead-letter exchange and queue <queue>.dead.
    """
    from returnpath.consume.run import ConsumeOptions, run_consumer

    settings = load_settings()
    amqp_url = url or settings.amqp_url
    if not amqp_url:
        fail("consume needs a broker: set RETURNPATH_AMQP_URL or pass --url")
    if queue_type not in ("quorum", "classic"):
        fail(f"--queue-type must be quorum or classic, not {queue_type!r}")
    options = ConsumeOptions(
        url=amqp_url,
        queue=queue,
        exchange=exchange or settings.exchange,
        bindings=tuple(bind or ["#"]),
        queue_type=queue_type,
        declare=declare,
        command=exec_,
        prefetch=prefetch,
        max_attempts=max_attempts,
        retry_delay=retry_delay,
        timeout=timeout,
        ledger=ledger or Path(f"{queue}.seen.sqlite"),
        remember=remember,
        limit=limit,
        log_format=settings.log_format,
        log_level=settings.log_level,
    )
    run_consumer(options)


# -- issue 13: mailboxes and archives (the importer is imported inside: `--help` stays fast) --


@app.command("import", cls=PlainHelpCommand)
def import_command(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="mbox files, Maildir folders, .eml files or folders of them,"
            " imap://USER@HOST[:PORT]/FOLDER, pop3://USER@HOST[:PORT]",
            metavar="PATH|URL",
            show_default=False,
        ),
    ],
    tenant: Annotated[
        str | None,
        typer.Option(help="record everything for this tenant [default: by recipient domain]"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="read and parse, print the summary, write nothing")
    ] = False,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="mbox, maildir or eml [default: detected]"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the summary as one JSON object")] = False,
    batch: Annotated[int, typer.Option(help="messages per transaction")] = 256,
    restart: Annotated[
        bool, typer.Option("--restart", help="ignore a checkpoint: read from the start")
    ] = False,
    password_env: Annotated[
        str | None,
        typer.Option(help="variable holding the password [default: RETURNPATH_IMPORT_PASSWORD]"),
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="file whose first line is the password")
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option(help="CA certificates (PEM) to verify the server with")
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="do not verify the server's certificate")
    ] = False,
    move_to: Annotated[
        str | None, typer.Option(help="IMAP: move processed messages to this folder")
    ] = None,
    flag: Annotated[
        str | None, typer.Option(help="IMAP: mark processed messages with this keyword")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="IMAP: keep waiting for new mail (until Ctrl-C)")
    ] = False,
    poll: Annotated[
        float, typer.Option(help="IMAP --watch without IDLE: seconds between checks")
    ] = 30.0,
    delete: Annotated[
        bool, typer.Option("--delete", help="POP3: delete messages once recorded")
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(help="database URL [default: RETURNPATH_DATABASE_URL]", show_default=False),
    ] = None,
) -> None:
    """Import bounces from mailboxes and archives, as if they had arrived over SMTP.

    Idempotent (a message already recorded creates nothing new) and resumable: run the
    same command again after a crash or Ctrl-C. The password of a server comes from an
    environment variable or a file, never from the command line.
    """
    from returnpath.importer.command import ImportOptions, run_import

    if fmt is not None and fmt not in ("mbox", "maildir", "eml"):
        fail(f"--format {fmt!r}: use mbox, maildir or eml")
    run_import(
        ImportOptions(
            sources,
            tenant=tenant,
            dry_run=dry_run,
            fmt=fmt,
            as_json=as_json,
            batch=batch,
            restart=restart,
            database=database,
            password_env=password_env,
            password_file=password_file,
            ca_file=ca_file,
            insecure=insecure,
            move_to=move_to,
            flag=flag,
            watch=watch,
            poll=poll,
            delete=delete,
        )
    )
