"""A small SQLite file of handled event ids (bounded) and of failed attempts.

Why a file and not memory: a redelivery comes after a connection cut, and
also after the consumer itself was restarted (a crash between handling an
event and acknowledging it). Only a record that outlives the process keeps
the event from being handled twice.

Why bounded: redeliveries arrive within minutes of the first delivery (the
broker redelivers what an abandoned channel left unacknowledged), so the
newest ``keep`` ids suffice; the file stays a few megabytes however long the
consumer runs. Pruning is by insertion order (``rowid``), in steps, so that
it costs nothing per event.

Commits use WAL with ``synchronous=NORMAL``: a power cut can lose the last
records, which then means a repeat, never a loss (acknowledgement follows the
record).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handled (message_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (message_id TEXT PRIMARY KEY, attempts INTEGER NOT NULL);
"""


class Ledger:
    """Handled ids and failure counts of one consumer (one queue: one file)."""

    def __init__(self, path: Path | str, keep: int = 100_000) -> None:
        self.keep = keep
        # Prune once every tenth of the bound: the table holds at most 1.1 x keep rows.
        self._prune_every = max(1, keep // 10)
        self._since_prune = 0
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def seen(self, message_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM handled WHERE message_id = ?", (message_id,))
        return row.fetchone() is not None

    def record(self, message_id: str) -> None:
        """Note an event as handled (before its acknowledgement), forgetting its failures."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO handled (message_id, at) VALUES (?, ?)",
                (message_id, time.time()),
            )
            self._db.execute("DELETE FROM failures WHERE message_id = ?", (message_id,))
        self._since_prune += 1
        if self._since_prune >= self._prune_every:
            self._since_prune = 0
            self.prune()

    def prune(self) -> None:
        """Forget all but the newest ``keep`` handled ids."""
        self._db.execute(
            "DELETE FROM handled WHERE rowid <= (SELECT MAX(rowid) FROM handled) - ?",
            (self.keep,),
        )
        # A failure row whose event was dead-lettered or handled elsewhere must not pile up.
        self._db.execute(
            "DELETE FROM failures WHERE rowid <= (SELECT MAX(rowid) FROM failures) - ?",
            (self.keep,),
        )

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM handled").fetchone()[0])

    def attempts(self, message_id: str) -> int:
        """Failed attempts so far (0 for an event never tried or handled since)."""
        row = self._db.execute(
            "SELECT attempts FROM failures WHERE message_id = ?", (message_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def fail(self, message_id: str) -> int:
        """Count one failed attempt; returns the attempts so far."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO failures (message_id, attempts) VALUES (?, 1)"
                " ON CONFLICT (message_id) DO UPDATE SET attempts = attempts + 1",
                (message_id,),
            )
            row = self._db.execute(
                "SELECT attempts FROM failures WHERE message_id = ?", (message_id,)
            ).fetchone()
        return int(row[0])

    def forget_failures(self, message_id: str) -> None:
        """After dead-lettering: a message shovelled back later gets N fresh attempts."""
        self._db.execute("DELETE FROM failures WHERE message_id = ?", (message_id,))
