"""mbox files, read as a stream: memory stays flat whatever the file's size.

``mailbox.mbox`` first builds a table of every message's offsets (about 100 bytes
a message: 100 MB for a million) and reads each message by seeking; this reader
goes through the file once, line by line, holding one message at a time, and
knows the byte offset where each message ends, which is what a resumed import
seeks to.

A message starts at a ``From `` line at the start of the file or after an empty
line (RFC 4155); the empty line before it belongs to the separator. Lines that
mboxrd escaped (``>From ``, ``>>From ``) lose one ``>``; in an mboxo file that
changes a body line that really began with ``>From `` (the format cannot tell).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from returnpath.importer.sources import Item, Total

_ESCAPED = re.compile(rb"^>+From ")
#: the asctime date ending a From_ line: "From sender Thu Dec  3 19:05:57 2026"
_FROM_DATE = re.compile(rb"(\w{3}) +(\d{1,2}) (\d\d:\d\d:\d\d) (?:\S+ )?(\d{4})\s*$")
#: bytes before a checkpoint's offset that must still be there to resume at it
FINGERPRINT_BYTES = 4096


def looks_like_mbox(head: bytes) -> bool:
    return head.startswith(b"From ")


def fingerprint(path: Path, offset: int) -> str:
    """A digest of the bytes just before ``offset``: a file rewritten since (compacted
    by a mail client) is read again from its start instead of from a wrong offset."""
    with open(path, "rb") as f:
        start = max(0, offset - FINGERPRINT_BYTES)
        f.seek(start)
        return hashlib.sha256(f.read(offset - start)).hexdigest()[:32]


def from_line_date(line: bytes) -> datetime | None:
    found = _FROM_DATE.search(line)
    if found is None:
        return None
    month, day, clock, year = (g.decode("ascii") for g in found.groups())
    try:
        return datetime.strptime(f"{day} {month} {year} {clock}", "%d %b %Y %H:%M:%S").replace(
            tzinfo=UTC
        )
    except ValueError:
        return None


@dataclass
class MboxSource:
    path: Path
    kind: str = "mbox"
    read_ahead: bool = True
    start: int = 0

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def identity(self) -> str:
        return f"mbox:{self.path.resolve()}"

    def open(self, resume_from: str | None) -> Total:
        self.start = 0
        if resume_from:
            offset, _, digest = resume_from.partition(":")
            if offset.isdigit() and self._resumable(int(offset), digest):
                self.start = int(offset)
        return Total(os.path.getsize(self.path), "bytes")

    def _resumable(self, offset: int, digest: str) -> bool:
        if offset > os.path.getsize(self.path) or fingerprint(self.path, offset) != digest:
            return False
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(5) in (b"From ", b"")

    def groups(self, max_items: int, max_bytes: int) -> Generator[list[Item], None, None]:
        group: list[Item] = []
        size = 0
        for item in self.messages():
            group.append(item)
            size += len(item.raw)
            if len(group) >= max_items or size >= max_bytes:
                yield group
                group, size = [], 0
        if group:
            yield group

    def messages(self) -> Iterator[Item]:
        """Each message with the offset where the next one starts."""
        with open(self.path, "rb", buffering=1 << 20) as f:
            f.seek(self.start)
            offset = self.start
            begun = offset  # where the current message's From_ line starts
            from_line: bytes | None = None
            lines: list[bytes] = []
            blank_before = True
            for line in f:
                if blank_before and line.startswith(b"From "):
                    if from_line is not None:
                        yield self._item(from_line, lines, begun, offset)
                    from_line, lines, begun = line, [], offset
                else:
                    lines.append(line)
                offset += len(line)
                blank_before = line in (b"\n", b"\r\n")
            if from_line is not None:
                yield self._item(from_line, lines, begun, offset)

    def _item(self, from_line: bytes, lines: list[bytes], begun: int, end: int) -> Item:
        if lines and lines[-1] in (b"\n", b"\r\n"):
            lines.pop()  # the separator's empty line
        raw = b"".join(
            _ESCAPED.sub(lambda m: m.group()[1:], x) if x[:1] == b">" else x for x in lines
        )
        return Item(raw, str(end), f"{self.path}@{begun}", from_line_date(from_line))

    def checkpoint(self, item: Item) -> str:
        # the digest only for the group's last message: reading 4 KiB per message costs
        return f"{item.position}:{fingerprint(self.path, int(item.position))}"

    def bytes_done(self, item: Item) -> int | None:
        return int(item.position)

    def committed(self, items: list[Item]) -> None:
        return None

    def interrupt(self) -> None:
        return None

    def close(self) -> None:
        return None
