"""The ``returnpath`` command line: serve, parse, and administration."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from returnpath.admin_cli import keys_app, tenants_app
from returnpath.parsers import parse
from returnpath.parsers.model import Kind
from returnpath.settings import Settings
from returnpath.workers import WorkerGroup

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def parse_file_lines(path: Path) -> Iterator[dict[str, object]]:
    """One JSON-ready dict per finding; a file without findings still yields one."""
    raw = path.read_bytes()
    report = parse(raw)
    if not report.findings:
        yield {
            "file": str(path),
            "recipient": None,
            "kind": Kind.UNKNOWN.value,
            "reason": "undefined",
            "status": None,
            "smtp_code": None,
            "diagnostic": None,
            "remote_mta": None,
            "feedback_type": None,
            "original_message_id": None,
            "family": report.family,
            "error": report.error,
        }
        return
    for finding in report.findings:
        yield {"file": str(path), **finding.to_dict()}


@app.command("parse")
def parse_command(
    paths: Annotated[list[Path], typer.Argument(help=".eml files or directories of them")],
) -> None:
    """Parse messages offline and print JSON Lines, one object per finding."""
    # the parsers' tables live as long as the process: out of the collector's
    # sight, as in the service after start-up
    gc.freeze()
    out = sys.stdout
    for path in _files(paths):
        for line in parse_file_lines(path):
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def share_metrics(settings: Settings) -> None:
    """One /metrics for every process of this serve (the stage, other workers).

    prometheus_client's multiprocess mode: each process writes its values to
    files in one directory, and /metrics sums them. It must be set before
    prometheus_client is first imported, and the directory starts empty.
    """
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

    settings = Settings()
    logs.configure(settings.log_format, settings.log_level)
    share_metrics(settings)
    from returnpath.service import Service  # after share_metrics: it imports prometheus_client

    workers = WorkerGroup(settings)
    service = Service(workers.settings)
    try:  # uvloop (via uvicorn[standard]) speeds up SMTP and HTTP alike; plain asyncio otherwise
        import uvloop
    except ImportError:
        asyncio.run(service.run(after_start=workers.spawn))
    else:
        uvloop.run(service.run(after_start=workers.spawn))
    workers.stop()


@app.command("stage", hidden=True)
def stage_command() -> None:
    """Record spooled messages: started and watched by serve (RETURNPATH_STAGE=process)."""
    import asyncio

    from returnpath import logs
    from returnpath.stage_process import run_stage

    settings = Settings()
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

    settings = Settings()
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
