"""CPU per message of aiosmtpd's DATA reader against returnpath's (``read_data``).

Two servers that differ only in DATA: aiosmtpd's ``SMTP`` (64 KiB line limit, as
the listener sets it) and the same class with ``ReturnpathSMTP._data``; a handler
that answers 250 and keeps nothing. A client process sends 4 KB DSNs
(bench.ingest_batch's) over 8 loopback connections; the figure is the server
process's CPU (user + system) per message, which is what the listener spends and
what the stage cannot use. Rounds alternate the two, so drift on a shared machine
shows in the spread.

    .venv/bin/python -m bench.smtp_data [--messages 4000] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.common import print_table
from bench.ingest_batch import message
from returnpath.inbound.server import ReturnpathSMTP

OUT = Path(__file__).resolve().parent / "results" / "smtp_data.txt"


class Answer250:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


class AiosmtpdData(SMTP):
    line_length_limit = ReturnpathSMTP.line_length_limit


class ReturnpathData(AiosmtpdData):
    async def smtp_DATA(self, arg: str) -> None:
        await ReturnpathSMTP._data(self, arg)  # type: ignore[arg-type]


async def _client(port: int, bodies: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(b"EHLO client.example\r\n")
    while not (await reader.readline()).startswith(b"250 "):
        pass
    for body in bodies:
        for command in (b"MAIL FROM:<>\r\n", b"RCPT TO:<b@bounces.example>\r\n", b"DATA\r\n"):
            writer.write(command)
            await reader.readline()
        writer.write(body + b".\r\n")
        await reader.readline()
    writer.close()


def _load(port: int, n: int) -> None:
    bodies = [message("d", i) for i in range(n)]

    async def run() -> None:
        await asyncio.gather(*(_client(port, bodies[k::8]) for k in range(8)))

    asyncio.run(run())


async def _measure(cls: type[SMTP], n: int) -> float:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: cls(Answer250(), data_size_limit=10_000_000), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    client = multiprocessing.get_context("fork").Process(target=_load, args=(port, n))
    before = os.times()
    client.start()
    while client.is_alive():
        await asyncio.sleep(0.02)
    after = os.times()
    server.close()
    await server.wait_closed()
    if client.exitcode != 0:
        raise RuntimeError(f"client failed ({client.exitcode})")
    return 1000 * (after.user + after.system - before.user - before.system) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {"aiosmtpd DATA": [], "returnpath DATA": []}
    for _ in range(args.rounds):
        for name, cls in (("aiosmtpd DATA", AiosmtpdData), ("returnpath DATA", ReturnpathData)):
            figures[name].append(asyncio.run(_measure(cls, args.messages)))
    rows = [
        {
            "reader": name,
            "cpu_ms_per_msg_median": round(statistics.median(v), 3),
            "min": round(min(v), 3),
            "max": round(max(v), 3),
        }
        for name, v in figures.items()
    ]
    print_table(rows, [(k, k) for k in rows[0]])
    with open(OUT, "w") as out:
        out.write(
            f"# {args.messages} x 4 KB DSNs, 8 connections, {args.rounds} alternating rounds;"
            f" server CPU per message; loadavg {os.getloadavg()}\n"
        )
        for row in rows:
            out.write(" ".join(f"{k}={v}" for k, v in row.items()) + "\n")


if __name__ == "__main__":
    main()
