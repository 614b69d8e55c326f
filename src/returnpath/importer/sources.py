"""What every kind of source gives the pipeline: raw messages in groups, and a place to resume.

A source is read in one worker thread (file and network I/O, and the parsing, stay
off the event loop), group by group. ``position`` of a message is where a resumed
import starts after it; the pipeline saves the last one of a group once the group is
committed (``checkpoint``). ``committed`` is the source's own after-commit step:
moving or flagging IMAP messages, deleting POP3 ones.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: the kinds of source, as the summary and the documentation name them
KINDS = ("mbox", "maildir", "eml", "imap", "pop3")


@dataclass(frozen=True, slots=True)
class Item:
    """One message as a source read it."""

    raw: bytes
    position: str  # resuming after this message starts here (checkpoint)
    ref: str  # how an operator finds it again: a file and offset, a UID
    arrived: datetime | None = None  # when the mailbox received it, if it says


@dataclass(frozen=True, slots=True)
class Total:
    """How much there is to read, for the progress bar: messages, or bytes of a file."""

    amount: int | None
    unit: str  # "messages" or "bytes"


class Source(Protocol):
    kind: str
    #: may the next group be read while the previous one commits (the same thread does
    #: ``committed``; a network source must not block it waiting for new mail)
    read_ahead: bool

    @property
    def label(self) -> str:
        """Shown to the operator: a path, a URL (never with a password)."""
        ...

    @property
    def identity(self) -> str:
        """The source's stable name, for its checkpoint."""
        ...

    def open(self, resume_from: str | None) -> Total:
        """Connect or open; ``resume_from`` is a checkpoint's position (None: the start)."""
        ...

    def groups(self, max_items: int, max_bytes: int) -> Generator[list[Item], None, None]:
        """The messages after the resume position, in groups of at most these sizes."""
        ...

    def checkpoint(self, item: Item) -> str:
        """What to save after a committed group whose last message is ``item``."""
        ...

    def bytes_done(self, item: Item) -> int | None:
        """For a ``Total`` in bytes: how far into the source ``item`` ends (else None)."""
        ...

    def committed(self, items: list[Item]) -> None:
        """After the group's transaction committed (never on --dry-run)."""
        ...

    def interrupt(self) -> None:
        """From another thread: stop waiting for new mail (--watch) as soon as possible."""
        ...

    def close(self) -> None: ...
