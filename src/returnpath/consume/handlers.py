"""What the consumer does with one event: print it, or hand it to a command.

A handler returns ``True`` when the event is done (acknowledge it) and
``False`` when it failed (try again later; dead-letter after N failures).
An event whose body is not JSON is no failure that a retry could mend: it
raises ``Poison``, and the consumer dead-letters it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import orjson


class Poison(Exception):
    """The message can never be handled (not JSON): dead-letter it without retries."""


class Unusable(Exception):
    """The handler cannot handle any event (its command does not exist): stop, and leave
    the event in the queue, rather than dead-letter every event for a typing mistake."""


#: the shell's exit statuses for a command not found (127) or not executable (126)
_SHELL_CANNOT_RUN = frozenset({126, 127})


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a handler sees of one AMQP message."""

    message_id: str
    routing_key: str
    body: bytes
    attempt: int  # 1 on the first try; failures so far + 1


class Handler(Protocol):
    async def __call__(self, delivery: Delivery) -> bool: ...


def one_line(body: bytes) -> bytes:
    """The event as one JSON line (the relay's body re-serialised compactly, so that a
    body with a newline inside could never split a line)."""
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONDecodeError as exc:
        raise Poison(f"body is not JSON: {exc}") from exc


class JsonLines:
    """Each event as one line on ``out``, flushed before it is acknowledged: a reader at
    the end of a pipe has every event the broker forgot."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    async def __call__(self, delivery: Delivery) -> bool:
        self.out.write(one_line(delivery.body))
        self.out.flush()
        return True


class Exec:
    """Run a shell command once per event with the event (one JSON line) on its standard
    input; exit status 0 acknowledges it, anything else (or ``timeout``) is a failure.

    Through ``sh -c`` so that a list-hygiene job can be a pipeline (``jq -r .recipient
    >> bounced.txt``). The command also gets the event's id, routing key and attempt
    number in ``RETURNPATH_EVENT_ID``, ``RETURNPATH_ROUTING_KEY`` and
    ``RETURNPATH_ATTEMPT``, so that it can decide without parsing.
    """

    def __init__(self, command: str, timeout: float = 60.0) -> None:
        self.command = command
        self.timeout = timeout

    async def __call__(self, delivery: Delivery) -> bool:
        line = one_line(delivery.body)
        env = {
            **os.environ,
            "RETURNPATH_EVENT_ID": delivery.message_id,
            "RETURNPATH_ROUTING_KEY": delivery.routing_key,
            "RETURNPATH_ATTEMPT": str(delivery.attempt),
        }
        process = await asyncio.create_subprocess_shell(
            self.command, stdin=asyncio.subprocess.PIPE, env=env
        )
        try:
            async with asyncio.timeout(self.timeout):
                # A command that does not read its input is no failure (`--exec true`).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    await process.communicate(line)
                status = await process.wait()
        except TimeoutError:
            return False
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if status in _SHELL_CANNOT_RUN:
            raise Unusable(f"--exec: the shell could not run {self.command!r} (exit {status})")
        return status == 0
