"""Progress on standard error: a bar redrawn in place on a terminal, log lines otherwise.

Our own forty lines rather than ``rich`` or ``tqdm``: neither is a dependency, and
what is needed is one line (messages, rate, percentage and ETA when the total is
known) that never slows the import (drawn at most five times a second).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from returnpath.importer.sources import Total

BAR = 24


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def line(label: str, messages: int, elapsed: float, done: int | None, total: Total) -> str:
    """One progress line: ``done`` is in the unit of ``total`` (None: count messages)."""
    rate = messages / elapsed if elapsed > 0 else 0.0
    text = f"{label}: {messages:,} messages, {rate:,.0f}/s"
    amount = total.amount
    done = messages if done is None or total.unit == "messages" else done
    if amount:
        fraction = min(1.0, done / amount)
        filled = round(fraction * BAR)
        text += f" [{'#' * filled}{'.' * (BAR - filled)}] {fraction:.0%}"
        unit_rate = done / elapsed if elapsed > 0 else 0.0
        if 0 < fraction < 1 and unit_rate > 0:
            text += f" ETA {duration((amount - done) / unit_rate)}"
    return text


class Progress:
    def __init__(
        self,
        label: str,
        total: Total,
        out: TextIO | None = None,
        *,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.every = every if every is not None else (0.2 if self.tty else 10.0)
        self.label, self.total, self.clock = label, total, clock
        self.started = self.last = clock()
        self.messages = 0
        self.done: int | None = None
        self.width = 0

    def update(self, messages: int, done: int | None) -> None:
        self.messages += messages
        self.done = done
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self._draw()

    def finish(self) -> None:
        self._draw()
        if self.tty:
            self.out.write("\n")
            self.out.flush()

    def _draw(self) -> None:
        text = line(self.label, self.messages, self.clock() - self.started, self.done, self.total)
        if self.tty:  # over the previous line, padded where it was longer
            self.out.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.out.write(text + "\n")
        self.out.flush()
