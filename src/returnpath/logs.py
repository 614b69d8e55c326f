"""structlog set-up: JSON lines in production, readable colours in a terminal.

Every line goes through the same renderer, ours and those of the libraries that
log through stdlib ``logging`` (aiosmtpd, uvicorn, asyncio, aio-pika) and
Python's warnings: with JSON logs, a plain-text line from a library (carrying the
raw NUL bytes a hostile SMTP client sent) was a line a JSON log shipper refused.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose text is meant to span lines (tracebacks): escaped, they would be unreadable.
_MULTILINE = frozenset({"exception", "stack"})


def _escape_controls(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Console lines: control characters from the wire (NUL, ESC, CR) shown escaped,
    so a client cannot rewrite an operator's terminal or split a line in two.
    (The JSON renderer escapes them itself.)"""
    for key, value in event.items():
        if isinstance(value, str) and key not in _MULTILINE and not value.isprintable():
            event[key] = value.encode("unicode_escape", "backslashreplace").decode("ascii")
    return event


def configure(fmt: str = "auto", level: str = "info") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    final: list[structlog.typing.Processor] = [structlog.processors.format_exc_info]
    if not use_json:
        final.append(_escape_controls)
    final.append(renderer)
    structlog.configure(
        processors=[*shared, *final],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # one write per line (print() writes the line and its newline apart, and where
        # stderr is unbuffered two processes sharing it interleaved their lines)
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries' stdlib records: rendered by the same processors, with the logger's name.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries are chatty below WARNING (aiosmtpd logs every command at INFO).
    root.setLevel(max(numeric, logging.WARNING))
    logging.captureWarnings(True)
