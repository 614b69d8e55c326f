"""The spool: where an accepted message is made durable before its ``250``.

The listener appends each message, with its envelope and tenant, to a segment
file and answers ``250`` once the file is ``fdatasync``'ed; the stage
(``returnpath.stage``) parses and records spooled messages later, in groups.
That is Postfix's design (queue file fsync'ed, then ``250``; delivery later):
the reply waits for one disk flush shared by every message that arrived
meanwhile (group sync), not for parsing or four SQL statements.

Layout: one directory per listener process (``w0``, ``w1``, ...), holding
numbered segments ``0000000000000001.spool`` ... A listener writes only its
newest segment and starts a new one when it grows past a size or when the
process starts (so a crash's torn tail is always at the end of a closed
segment). The stage reads segments in order, keeps its position in a
``checkpoint`` file written after each committed group, and deletes closed
segments it has finished. A replay after a crash is safe: recording is
idempotent on the message's dedup key.

A record: ``RPS1``, payload length (u32), CRC-32 of the payload (u32); the
payload is a JSON header (its length as u32 first) and the raw message.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

MAGIC = b"RPS1"
_FRAME = struct.Struct(">4sII")
_U32 = struct.Struct(">I")
SUFFIX = ".spool"
CHECKPOINT = "checkpoint"


@dataclass(frozen=True, slots=True)
class Spooled:
    """One message as the listener received it: everything the stage needs."""

    uid: str
    tenant_id: int
    tenant_name: str
    peer: str | None
    mail_from: str | None
    rcpt_tos: tuple[str, ...]
    received_at: datetime
    raw: bytes


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in one listener's spool: a segment and a byte offset in it."""

    segment: int
    offset: int


def encode(item: Spooled) -> bytes:
    header = json.dumps(
        {
            "uid": item.uid,
            "tenant_id": item.tenant_id,
            "tenant": item.tenant_name,
            "peer": item.peer,
            "mail_from": item.mail_from,
            "rcpt_tos": item.rcpt_tos,
            "received_at": item.received_at.isoformat(),
        },
        ensure_ascii=True,  # surrogate-escaped envelope bytes stay encodable
        separators=(",", ":"),
    ).encode("ascii")
    payload = _U32.pack(len(header)) + header + item.raw
    return _FRAME.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes) -> Spooled:
    (n,) = _U32.unpack_from(payload)
    head = json.loads(payload[4 : 4 + n])
    return Spooled(
        uid=head["uid"],
        tenant_id=head["tenant_id"],
        tenant_name=head["tenant"],
        peer=head["peer"],
        mail_from=head["mail_from"],
        rcpt_tos=tuple(head["rcpt_tos"]),
        received_at=datetime.fromisoformat(head["received_at"]),
        raw=payload[4 + n :],
    )


def segment_name(number: int) -> str:
    return f"{number:016d}{SUFFIX}"


def segments(directory: Path) -> list[int]:
    """The segment numbers in a listener's directory, oldest first."""
    out = []
    with os.scandir(directory) as entries:
        for entry in entries:
            stem, dot, suffix = entry.name.partition(".")
            if dot and "." + suffix == SUFFIX and stem.isdigit():
                out.append(int(stem))
    return sorted(out)


def _fsync_directory(directory: Path) -> None:
    """A new file's name is durable only once its directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolWriter:
    """The listener's side: append, then wait for the shared ``fdatasync``.

    ``append`` writes at once (a ``write`` to the page cache, microseconds) and
    waits for the next sync. One sync runs at a time, in a thread (the loop
    never blocks on the disk); every message appended while it runs shares
    the next one. A message is acknowledged only after a sync that started
    after its write had returned.
    """

    def __init__(self, directory: Path, *, segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._fd = -1
        self._segment = 0
        self._size = 0
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._syncer: asyncio.Task[None] | None = None
        self._retired: set[int] = set()  # closed segments' fds not synced yet
        self.appended_bytes = 0

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        existing = segments(self.directory)
        self._start_segment((existing[-1] if existing else 0) + 1)

    def _start_segment(self, number: int) -> None:
        path = self.directory / segment_name(number)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        _fsync_directory(self.directory)
        if self._fd >= 0:
            self._retired.add(self._fd)
        self._fd, self._segment, self._size = fd, number, 0

    @property
    def position(self) -> Position:
        return Position(self._segment, self._size)

    async def append(self, item: Spooled) -> None:
        """Return once ``item`` is on disk; raise ``OSError`` if it cannot be."""
        record = encode(item)
        if self._size and self._size + len(record) > self.segment_bytes:
            self._start_segment(self._segment + 1)
        fd = self._fd
        written = os.write(fd, record)
        if written != len(record):  # a full disk mid-record: the reader skips the torn tail
            self._start_segment(self._segment + 1)
            raise OSError(f"short write to the spool ({written} of {len(record)} bytes)")
        self._size += written
        self.appended_bytes += written
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((fd, future))
        if self._syncer is None or self._syncer.done():
            self._syncer = asyncio.create_task(self._sync())
        await future

    async def _sync(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            fds = {fd for fd, _ in group}
            try:
                await asyncio.to_thread(_datasync_all, fds)
            except OSError as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in group:
                if not future.done():
                    future.set_result(None)
            for fd in fds & self._retired:
                if all(other != fd for other, _ in self._waiting):
                    self._retired.discard(fd)
                    os.close(fd)

    async def close(self) -> None:
        if self._syncer is not None:
            await asyncio.shield(self._syncer)
        for fd in (*self._retired, self._fd):
            if fd >= 0:
                os.close(fd)
        self._retired.clear()
        self._fd = -1


def _datasync_all(fds: set[int]) -> None:
    for fd in fds:
        os.fdatasync(fd)


def read_checkpoint(directory: Path) -> Position:
    try:
        segment, offset = (directory / CHECKPOINT).read_text().split()
        return Position(int(segment), int(offset))
    except (FileNotFoundError, ValueError):
        return Position(0, 0)


def write_checkpoint(directory: Path, position: Position) -> None:
    """Atomically (rename). Not fsync'ed: losing it replays a group, which is harmless."""
    tmp = directory / (CHECKPOINT + ".tmp")
    tmp.write_text(f"{position.segment} {position.offset}\n")
    os.replace(tmp, directory / CHECKPOINT)


@dataclass(slots=True)
class Batch:
    items: list[Spooled]
    end: Position  # where the next read starts
    torn: int = 0  # bytes skipped at the torn end of a closed segment


def read_batch(directory: Path, start: Position, *, max_items: int, max_bytes: int) -> Batch:
    """Complete records from ``start`` on, across segments, up to the bounds.

    A record that is incomplete or fails its CRC at the end of the newest
    segment is still being written: the batch stops before it. In a closed
    segment (a newer one exists) it is the torn tail of a crash, never
    acknowledged: skipped, and counted in ``torn``. One record bigger than
    ``max_bytes`` is still read (alone).
    """
    numbers = [n for n in segments(directory) if n >= start.segment]
    items: list[Spooled] = []
    size = 0
    torn = 0
    position = start
    for index, number in enumerate(numbers):
        newest = index == len(numbers) - 1
        at = start.offset if number == start.segment else 0
        try:
            with open(directory / segment_name(number), "rb") as f:
                f.seek(at)
                while payload := _next_record(f):
                    items.append(decode(payload))
                    size += len(payload)
                    at += _FRAME.size + len(payload)
                    if len(items) >= max_items or size >= max_bytes:
                        return Batch(items, Position(number, at), torn)
                file_size = os.fstat(f.fileno()).st_size
        except FileNotFoundError:
            continue
        position = Position(number, at)
        if newest:
            return Batch(items, position, torn)
        torn += file_size - at  # a closed segment's tail that is not a whole record
        position = Position(numbers[index + 1], 0)
    return Batch(items, position, torn)


def _next_record(f: BinaryIO) -> bytes | None:
    """The next complete, intact record's payload, or None (end, or not whole yet)."""
    head = f.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    magic, length, crc = _FRAME.unpack(head)
    if magic != MAGIC:
        return None
    payload = f.read(length)
    if len(payload) < length or zlib.crc32(payload) != crc:
        return None
    return payload


def backlog_bytes(directory: Path, written: Position) -> int:
    """How far the stage is behind this listener, in bytes (for back-pressure)."""
    done = read_checkpoint(directory)
    if done >= written:
        return 0
    total = 0
    for number in segments(directory):
        if number < done.segment or number > written.segment:
            continue
        if number == written.segment:
            size = written.offset
        else:
            try:
                size = (directory / segment_name(number)).stat().st_size
            except FileNotFoundError:
                continue
        total += size - (done.offset if number == done.segment else 0)
    return max(total, 0)


def remove_finished(directory: Path, done: Position) -> int:
    """Delete the closed segments the stage has finished; returns how many."""
    removed = 0
    for number in segments(directory):
        if number < done.segment:
            (directory / segment_name(number)).unlink(missing_ok=True)
            removed += 1
    return removed
