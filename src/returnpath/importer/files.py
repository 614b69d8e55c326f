"""Maildir folders and ``.eml`` files: one message per file, read in name order.

The order is the names' (a Maildir name starts with its delivery time), so a
resumed import skips every name up to the checkpoint's. Maildir's ``new/`` and
``cur/`` are read alike (a mail client moves a message from one to the other and
appends flags after ``:2,``, so the unique part before the colon is its name);
``tmp/`` holds deliveries in progress and is left alone, as are Maildir++
sub-folders (``.Sent``): import each folder by its own path.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from returnpath.importer.mbox import MboxSource, looks_like_mbox
from returnpath.importer.sources import Item, Source, Total

FORMATS = ("mbox", "maildir", "eml")


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def detect(path: Path) -> str:
    """mbox, maildir or eml, from what is at ``path``; ValueError if nothing to read."""
    if is_maildir(path):
        return "maildir"
    if path.is_dir():
        return "eml"
    if not path.is_file():
        raise ValueError(f"no such file or folder: {path}")
    with open(path, "rb") as f:
        return "mbox" if looks_like_mbox(f.read(5)) else "eml"


def open_path(path: Path, fmt: str | None) -> Source:
    fmt = fmt or detect(path)
    if fmt == "mbox":
        if not path.is_file():
            raise ValueError(f"not an mbox file: {path}")
        return MboxSource(path)
    if fmt == "maildir":
        if not is_maildir(path):
            raise ValueError(f"not a Maildir (no cur/ and new/): {path}")
        return FileSource(path, "maildir")
    if not path.exists():
        raise ValueError(f"no such file or folder: {path}")
    return FileSource(path, "eml")


def unique_name(name: str) -> str:
    """A Maildir message's name without its flags (``:2,S``; ``!2,S`` where ':' is not allowed)."""
    return name.split(":", 1)[0].split("!", 1)[0]


def _maildir_time(name: str) -> datetime | None:
    """Maildir names start with the delivery's Unix time (cr.yp.to/proto/maildir.html)."""
    seconds = name.split(".", 1)[0]
    if not seconds.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass
class FileSource:
    path: Path
    kind: str
    read_ahead: bool = True
    files: list[tuple[str, Path]] = field(default_factory=list)  # (position, file)

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def identity(self) -> str:
        return f"{self.kind}:{self.path.resolve()}"

    def open(self, resume_from: str | None) -> Total:
        if self.kind == "maildir":
            found = [
                (unique_name(p.name), p)
                for sub in ("new", "cur")
                for p in (self.path / sub).iterdir()
                if p.is_file() and not p.name.startswith(".")
            ]
        elif self.path.is_dir():
            found = [
                (str(p.relative_to(self.path)), p)
                for p in self.path.rglob("*")
                if p.is_file() and p.suffix.lower() == ".eml"
            ]
        else:
            found = [(self.path.name, self.path)]
        found.sort()
        self.files = [(name, p) for name, p in found if resume_from is None or name > resume_from]
        return Total(len(self.files), "messages")

    def groups(self, max_items: int, max_bytes: int) -> Generator[list[Item], None, None]:
        group: list[Item] = []
        size = 0
        for name, path in self.files:
            raw = self._read(path)
            if raw is None:
                continue
            arrived = _maildir_time(name) if self.kind == "maildir" else None
            group.append(Item(raw, name, str(path), arrived))
            size += len(raw)
            if len(group) >= max_items or size >= max_bytes:
                yield group
                group, size = [], 0
        if group:
            yield group

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            if self.kind != "maildir":
                raise
            # a mail client moved it from new/ to cur/ (and added flags) meanwhile
            for moved in (self.path / "cur").glob(unique_name(path.name) + "*"):
                return moved.read_bytes()
            return None  # deleted meanwhile: nothing to import

    def checkpoint(self, item: Item) -> str:
        return item.position

    def bytes_done(self, item: Item) -> int | None:
        return None

    def committed(self, items: list[Item]) -> None:
        return None

    def interrupt(self) -> None:
        return None

    def close(self) -> None:
        return None
