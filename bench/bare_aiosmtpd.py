"""A bare aiosmtpd that answers 250 to every message and keeps nothing: the yardstick of
``bench/smtp_wire.py``.

It is what `returnpath serve`'s listener would cost with no work behind the 250: the
same aiosmtpd, the same protocol options (line length, size limit, SMTPUTF8, a fixed
host name), the same event loop (uvloop when installed, as `returnpath serve` uses it).
The ratio of returnpath's rate to this one's, measured in the same run, is the figure
the wire-speed goal is stated in; absolute rates on a shared machine drift too much.

    python bench/bare_aiosmtpd.py PORT

prints ``ready PORT`` once it listens, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class Sink:
    """aiosmtpd's handler hooks: only DATA is answered here (its default for MAIL and
    RCPT already says 250 and records the address)."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.count += 1
        return "250 2.0.0 OK"


class BareSMTP(SMTP):
    # returnpath's listener accepts lines up to 64 KiB (broken bounce generators); the
    # limit is also the buffer its reader works with, so the yardstick uses the same.
    line_length_limit = 64 * 1024


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    handler = Sink()

    def factory() -> BareSMTP:
        return BareSMTP(
            handler,
            data_size_limit=10 * 1024 * 1024,
            hostname="bare.localhost",
            enable_SMTPUTF8=True,
            ident="bare-aiosmtpd",
        )

    server = await loop.create_server(factory, "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when installed (returnpath's `serve` uses it the same way), plain asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
