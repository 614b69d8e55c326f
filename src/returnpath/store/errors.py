"""Errors the store raises for the API and CLI to translate (409, 404, ...), and how
the stage tells a failing store from a failing message."""

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError


class Conflict(Exception):
    """The change contradicts what exists (a taken name or domain)."""


class NotFound(Exception):
    """No such thing for this tenant (never says whether another tenant has it)."""


# SQLSTATE classes a single row can cause: 22 data exception (a value out of range, a
# byte the encoding refuses), 23 integrity constraint violation.
DATA_SQLSTATE_CLASSES = ("22", "23")


def about_the_data(error: BaseException) -> bool:
    """Could one message alone have caused ``error``?

    A message that breaks a constraint or holds a value the database refuses
    fails on every replay: the stage retries it alone, then sets it aside, and
    the rest go through. Everything about the store itself (operational errors
    such as a locked SQLite file, connection loss, statement and pool timeouts,
    deadlocks, a broken migration) says no: every message would meet it, and
    the answer is to wait, never to set messages aside. asyncpg's errors reach
    SQLAlchemy mostly as the generic DBAPIError, so for those the SQLSTATE
    decides. An error raised outside the driver (a value that cannot be bound
    or encoded) comes from what a message holds.
    """
    if isinstance(error, IntegrityError | DataError):
        return True
    if isinstance(error, DBAPIError):
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(state, str) and state[:2] in DATA_SQLSTATE_CLASSES
    if isinstance(error, StatementError):
        return True  # a parameter's own conversion failed before the database saw it
    return not isinstance(error, SQLAlchemyError | OSError | TimeoutError)
