"""A POP3 maildrop as a source (``poplib``, in the pipeline's worker thread).

Messages are deleted only with ``--delete``, and only once their group has
committed: DELE marks them, and the server removes them at QUIT (RFC 1939 6):
a crash before QUIT deletes nothing, and the next run finds them again (their
dedup key makes them duplicates: nothing new). The checkpoint is the last UIDL
committed; the maildrop's order is its arrival order, so a resumed import skips
the messages up to that one (and, with ``--delete``, deletes them: they were
committed in the run that was interrupted).
"""

from __future__ import annotations

import contextlib
import poplib
import ssl
from collections.abc import Generator
from dataclasses import dataclass, field

from returnpath.importer.remote import Remote
from returnpath.importer.sources import Item, Total

FAILURES = (OSError, poplib.error_proto, ssl.SSLError, EOFError)


@dataclass
class Pop3Source:
    remote: Remote
    password: str
    context: ssl.SSLContext
    delete: bool = False
    timeout: float = 60.0
    kind: str = "pop3"
    read_ahead: bool = False
    conn: poplib.POP3 | None = None
    todo: list[tuple[int, str]] = field(default_factory=list)  # (number, UIDL)
    numbers: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.remote.label

    @property
    def identity(self) -> str:
        return f"pop3:{self.remote.label}"

    def open(self, resume_from: str | None) -> Total:
        r = self.remote
        conn: poplib.POP3
        if r.tls == "tls":
            conn = poplib.POP3_SSL(r.host, r.port, context=self.context, timeout=self.timeout)
        else:
            conn = poplib.POP3(r.host, r.port, timeout=self.timeout)
            if r.tls == "starttls":
                conn.stls(context=self.context)
        self.conn = conn
        conn.user(r.user)
        conn.pass_(self.password)
        listing: list[tuple[int, str]] = []
        for line in conn.uidl()[1]:
            number, _, uidl = bytes(line).decode("ascii", "replace").partition(" ")
            listing.append((int(number), uidl.strip()))
        self.numbers = {uidl: number for number, uidl in listing}
        done = (
            [uidl for _, uidl in listing].index(resume_from) + 1
            if resume_from in self.numbers
            else 0
        )
        if self.delete:
            for committed, _ in listing[:done]:
                conn.dele(committed)
        self.todo = listing[done:]
        return Total(len(self.todo), "messages")

    def groups(self, max_items: int, max_bytes: int) -> Generator[list[Item], None, None]:
        assert self.conn is not None
        group: list[Item] = []
        size = 0
        for number, uidl in self.todo:
            lines = self.conn.retr(number)[1]
            raw = b"\r\n".join(lines) + b"\r\n"
            group.append(Item(raw, uidl, f"{self.remote.label} UIDL {uidl}"))
            size += len(raw)
            if len(group) >= max_items or size >= max_bytes:
                yield group
                group, size = [], 0
        if group:
            yield group

    def checkpoint(self, item: Item) -> str:
        return item.position

    def bytes_done(self, item: Item) -> int | None:
        return None

    def committed(self, items: list[Item]) -> None:
        if self.delete and self.conn is not None:
            for item in items:
                self.conn.dele(self.numbers[item.position])

    def interrupt(self) -> None:
        return None

    def close(self) -> None:
        """QUIT: the server deletes what was marked (committed groups only)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(*FAILURES):
                conn.quit()
