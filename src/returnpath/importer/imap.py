"""An IMAP folder as a source (``imaplib``, in the pipeline's worker thread).

What marks a message done is the user's choice, applied only after its group
committed: moved to a folder (``--move-to``; UID MOVE, RFC 6851, or COPY, \\Deleted
and EXPUNGE where the server lacks it), flagged with a keyword (``--flag``, and
only unflagged messages are read), or nothing, in which case the checkpoint keeps
the folder's UIDVALIDITY and the last UID (RFC 3501 2.3.1.1: UIDs only grow
while UIDVALIDITY stays). Messages are read with BODY.PEEK: importing does not
mark them read.

``--watch`` keeps the connection: once the folder is drained it waits in IDLE
(RFC 2177; renewed every 25 minutes, under the 30 minutes servers allow) or, on
a server without IDLE, polls with NOOP. Whatever the notification, the folder is
searched again afterwards, so a notification lost never loses a message. A
failure (connection lost, server restarted) is logged and the connection made
again with a growing pause (1 s to 60 s); only the first connection must work.

Why ``imaplib`` and not aioimaplib: the stdlib's blocking client in a worker thread
costs no dependency, and a source is one sequential conversation anyway.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import select
import ssl
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from returnpath.importer.remote import Remote
from returnpath.importer.sources import Item, Total

log = structlog.get_logger("returnpath.import")

IDLE_RENEW = 25 * 60.0
_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
# what an IMAP server may answer a command with: a failure of this connection
FAILURES = (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError)


def quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(answer: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = answer
    if typ != "OK":
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise imaplib.IMAP4.error(f"{what}: {typ} {text}".strip())
    return data


def _internaldate(meta: bytes) -> datetime | None:
    found = _INTERNALDATE.search(meta)
    if found is None:
        return None
    try:
        return datetime.strptime(found.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def fetched(data: list[Any]) -> list[tuple[int, bytes, datetime | None]]:
    """(UID, message, INTERNALDATE) from a UID FETCH answer, in the server's order."""
    out: list[tuple[int, bytes, datetime | None]] = []
    meta = b""
    raw: bytes | None = None
    for part in [*data, None]:
        if isinstance(part, tuple) or part is None:
            if raw is not None and (uid := _UID.search(meta)) is not None:
                out.append((int(uid.group(1)), raw, _internaldate(meta)))
            if part is None:
                break
            meta, raw = bytes(part[0]), bytes(part[1])
        elif isinstance(part, bytes):
            meta += part  # attributes the server sent after the literal
    return out


@dataclass
class ImapSource:
    remote: Remote
    password: str
    context: ssl.SSLContext
    move_to: str | None = None
    flag: str | None = None
    watch: bool = False
    poll: float = 30.0
    timeout: float = 60.0
    kind: str = "imap"
    read_ahead: bool = False
    conn: imaplib.IMAP4 | None = None
    uidvalidity: str = ""
    last_uid: int = 0
    capabilities: frozenset[str] = frozenset()
    _stopping: threading.Event = field(default_factory=threading.Event)
    _wake: tuple[int, int] = field(default_factory=os.pipe)

    @property
    def label(self) -> str:
        return self.remote.label

    @property
    def identity(self) -> str:
        return f"imap:{self.remote.label}"

    # ------------------------------------------------------------------ the conversation

    def _connect(self) -> imaplib.IMAP4:
        r = self.remote
        conn: imaplib.IMAP4
        if r.tls == "tls":
            conn = imaplib.IMAP4_SSL(r.host, r.port, ssl_context=self.context, timeout=self.timeout)
        else:
            conn = imaplib.IMAP4(r.host, r.port, timeout=self.timeout)
            if r.tls == "starttls":
                conn.starttls(ssl_context=self.context)
        try:
            conn.login(r.user, self.password)
            capabilities = _check(conn.capability(), "CAPABILITY")
            self.capabilities = frozenset(bytes(capabilities[-1]).decode().upper().split())
            if self.move_to:
                # CREATE answers NO when it exists: then the SELECT of the move proves it
                with contextlib.suppress(imaplib.IMAP4.error):
                    conn.create(quoted(self.move_to))
            _check(conn.select(quoted(r.folder)), f"SELECT {r.folder}")
            validity = conn.response("UIDVALIDITY")[1]
            uidvalidity = bytes(validity[0]).decode() if validity and validity[0] else ""
        except BaseException:
            with contextlib.suppress(*FAILURES):
                conn.logout()
            raise
        if uidvalidity != self.uidvalidity:
            self.uidvalidity, self.last_uid = uidvalidity, 0
        self.conn = conn
        return conn

    def _connection(self) -> imaplib.IMAP4:
        return self.conn if self.conn is not None else self._connect()

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(*FAILURES):
                conn.shutdown()

    def _search(self) -> list[int]:
        conn = self._connection()
        criteria = [f"UID {self.last_uid + 1}:*", "UNDELETED"]
        if self.flag:
            criteria.append(f"UNKEYWORD {self.flag}")
        data = _check(conn.uid("SEARCH", *criteria), "SEARCH")
        found = bytes(data[0] or b"").split() if data else []
        # "n:*" names the last message even below n (RFC 3501 6.4.8)
        return sorted(u for u in map(int, found) if u > self.last_uid)

    def _fetch(self, uids: list[int]) -> list[Item]:
        conn = self._connection()
        data = _check(
            conn.uid("FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])"), "FETCH"
        )
        items = [
            Item(raw, f"{self.uidvalidity}:{uid}", f"{self.remote.label} UID {uid}", arrived)
            for uid, raw, arrived in sorted(fetched(data), key=lambda x: x[0])
        ]
        return items

    # ------------------------------------------------------------------ Source

    def open(self, resume_from: str | None) -> Total:
        self._connect()
        if resume_from:
            validity, _, uid = resume_from.partition(":")
            if validity == self.uidvalidity and uid.isdigit():
                self.last_uid = int(uid)
        return Total(len(self._search()), "messages")

    def groups(self, max_items: int, max_bytes: int) -> Generator[list[Item], None, None]:
        pause = 1.0
        while not self._stopping.is_set():
            try:
                for start in range(0, len(uids := self._search()), max_items):
                    items = self._fetch(uids[start : start + max_items])
                    if items:
                        self.last_uid = max(self.last_uid, int(items[-1].position.split(":")[1]))
                        yield items
                    if self._stopping.is_set():
                        return
                if not self.watch:
                    return
                self._wait()
                pause = 1.0
            except FAILURES as exc:
                if not self.watch or self._stopping.is_set():
                    raise
                log.warning("import_reconnecting", source=self.label, error=str(exc), pause=pause)
                self._drop()
                self._sleep(pause)
                pause = min(pause * 2, 60.0)

    def _wait(self) -> None:
        """Until the server announces mail, the renewal or poll time passes, or interrupt()."""
        conn = self._connection()
        if "IDLE" not in self.capabilities:
            if not self._sleep(self.poll):
                _check(conn.noop(), "NOOP")
            return
        tag: bytes = conn._new_tag()  # imaplib has no IDLE before Python 3.14
        conn.send(tag + b" IDLE\r\n")
        while not (line := conn.readline()).startswith(b"+"):
            if not line or line.startswith(tag):
                raise imaplib.IMAP4.abort(f"IDLE refused: {line!r}")
        try:
            sock: Any = conn.socket()
            while True:
                pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
                if not pending:
                    ready, _, _ = select.select([sock, self._wake[0]], [], [], IDLE_RENEW)
                    if not ready or self._wake[0] in ready:
                        return
                line = conn.readline()
                if not line:
                    raise imaplib.IMAP4.abort("connection closed during IDLE")
                if line.startswith(b"*") and (b"EXISTS" in line or b"RECENT" in line):
                    return
        finally:
            conn.send(b"DONE\r\n")
            while not (line := conn.readline()).startswith(tag):
                if not line:
                    raise imaplib.IMAP4.abort("connection closed ending IDLE")

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless interrupted; True when interrupted."""
        ready, _, _ = select.select([self._wake[0]], [], [], seconds)
        return bool(ready)

    def checkpoint(self, item: Item) -> str:
        return item.position

    def bytes_done(self, item: Item) -> int | None:
        return None

    def committed(self, items: list[Item]) -> None:
        if not (self.move_to or self.flag) or not items:
            return
        uids = ",".join(i.position.split(":")[1] for i in items)
        try:
            conn = self._connection()
            if self.move_to and "MOVE" in self.capabilities:
                _check(conn.uid("MOVE", uids, quoted(self.move_to)), "MOVE")
            elif self.move_to:
                _check(conn.uid("COPY", uids, quoted(self.move_to)), "COPY")
                _check(conn.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
                if "UIDPLUS" in self.capabilities:
                    _check(conn.uid("EXPUNGE", uids), "EXPUNGE")
                else:
                    _check(conn.expunge(), "EXPUNGE")
            else:
                _check(conn.uid("STORE", uids, "+FLAGS.SILENT", f"({self.flag})"), "STORE")
        except FAILURES as exc:
            if not self.watch:
                raise
            # recorded already: found again after the reconnection, they are duplicates
            # (nothing new) and moved then
            log.warning("import_move_failed", source=self.label, error=str(exc))
            self._drop()

    def interrupt(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            os.write(self._wake[1], b"x")

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(*FAILURES):
                conn.logout()
        for fd in self._wake:
            with contextlib.suppress(OSError):
                os.close(fd)
