"""What the command line's modules share: one-line errors and the settings.

Imports only typer. ``returnpath --help`` and ``returnpath parse`` must start
without the database stack, pydantic or the web server (issue 17: 4 s of
imports for a 0.1 s parse), so everything heavier is imported inside the
functions that need it.

A mistake an operator can fix (a missing file, a bad ``RETURNPATH_*`` value, a
port in use) is one line on standard error and exit code 2; ``returnpath
--debug ...`` raises the underlying exception instead, with its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from returnpath.settings import Settings


def _plain_help(option: Any) -> Any:
    """``--help`` without pydantic: typer 0.29 coerces every parameter whose value is not
    already a bool through a pydantic TypeAdapter, its own help flag included when it is
    absent (None); that imported pydantic (0.1-0.4 s here) for every subcommand."""
    if option is not None and option.default is None:
        option.default = False
    return option


class PlainHelpGroup(TyperGroup):
    """A typer group (``typer.Typer(cls=...)``) whose ``--help`` does not import pydantic."""

    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))


class PlainHelpCommand(TyperCommand):
    """A typer command (``@app.command(cls=...)``) whose ``--help`` does not import pydantic."""

    def get_help_option(self, ctx: Any) -> Any:
        return _plain_help(super().get_help_option(ctx))


#: exit code of a mistake the user can fix (as click's usage errors)
USAGE = 2


class Options:
    """Global options of ``returnpath`` (set by the app's callback in cli.py)."""

    debug: bool = False


def fail(message: str, cause: BaseException | None = None, code: int = USAGE) -> NoReturn:
    """Print ``returnpath: message`` on standard error and exit; with --debug, raise ``cause``."""
    if cause is not None and Options.debug:
        raise cause
    typer.echo(f"returnpath: {message}", err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """The settings from ``RETURNPATH_*`` (and .env); an invalid value ends the command."""
    from pydantic import ValidationError

    from returnpath.settings import Settings, describe_invalid

    try:
        return Settings()
    except ValidationError as exc:
        fail(describe_invalid(exc), exc)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL as ``Settings`` reads it (relative to the working folder);
    None for another database or one in memory."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            database = url.removeprefix(prefix).split("?", 1)[0]
            return Path(database) if database and database != ":memory:" else None
    return None


def describe_database(url: str) -> str:
    """The database a command works on, as an operator recognises it: a SQLite file's
    absolute path, another URL without its password."""
    path = sqlite_file(url)
    if path is not None:
        return f"SQLite file {path.resolve()}"
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, host = rest.rsplit("@", 1)
        user, has_password, _ = credentials.partition(":")
        return f"{scheme}://{user}{':***' if has_password else ''}@{host}"
    return url
