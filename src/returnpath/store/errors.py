"""Errors the store raises for the API and CLI to translate (409, 404, ...), and how
the stage tells a failing store from a failing message."""

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError


class Conflict(Exception):
    """The change contradicts what exists (a taken name or domain)."""


class NotFound(Exception):
    """No such thing for this tenant (never says whether another tenant has it)."""


def store_unavailable(exc: BaseException) -> bool:
    """Is this failure the store's (wait and retry) rather than one message's?

    A message that breaks a constraint or a column type fails on every replay:
    retrying it alone, then setting it aside, lets the rest through. Anything
    else from the database (lost connections, timeouts, locks, a broken
    migration) would fail for every message alike: the right answer is to
    wait, never to set messages aside.
    """
    if isinstance(exc, IntegrityError | DataError):
        return False
    if isinstance(exc, DBAPIError):
        return True
    if isinstance(exc, StatementError):  # a value no column takes, caught before the driver
        return False
    return isinstance(exc, SQLAlchemyError | OSError | TimeoutError)
