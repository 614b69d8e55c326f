"""Request body limits, enforced while the body streams in (not after it is buffered):
its size, and how long the client may leave it incomplete.

A declared Content-Length over the limit is refused before reading; a
chunked body is counted as it arrives and cut off with 413 at the limit.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LIMIT = 2 * 1024 * 1024  # a 10,000-address check is about 300 KB
IMPORT_LIMIT = 1024 * 1024 * 1024  # a million-row import is about 40 MB; generous, still bounded
CLASSIFY_LIMIT = 64 * 1024  # one reply or bounce text (classify.MAX_TEXT characters) in JSON


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the limit of {limit} bytes for this endpoint")


class BodyLimit:
    def __init__(
        self, app: ASGIApp, default: int = DEFAULT_LIMIT, large: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.large = large or {
            "/v1/suppressions/import": IMPORT_LIMIT,
            "/v1/classify": CLASSIFY_LIMIT,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.large.get(scope["path"], self.default)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    detail = f"request body over the limit of {limit} bytes for this endpoint"
    # RFC 9110's name for 413 (Python's HTTPStatus still says "Request Entity Too Large").
    await _send_problem(send, 413, detail, title="Content Too Large")


async def _send_problem(
    send: Send, status: int, detail: str, *, title: str = "", close: bool = False
) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(data)).encode()),
    ]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, _CLOSE] if close else headers,
        }
    )
    await send({"type": "http.response.body", "body": data})


class _BodyStalled(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it through as a 408
    (any other exception there becomes a 400 "error parsing the body")."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, f"request body incomplete: no data for {timeout:g} seconds")


class BodyTimeout:
    """A bound on reading the request body: each wait for more of it lasts at most
    ``timeout`` seconds, then the client gets 408 and the connection is closed.

    uvicorn bounds only the idle time between requests (``timeout_keep_alive``):
    a client that declares a body and sends part of it held its connection and
    a task forever (one probe's stayed open 190 s, until it gave up). The bound
    is on the gap between pieces, as nginx's ``client_body_timeout``, not on the
    whole body, so a large import over a slow link still gets through; the
    concurrency limit bounds how many slow clients there can be at once.
    Once the body is complete the application's ``receive`` is passed through
    untouched: a streaming response waits on it for the disconnect, for as long
    as the response lasts.
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_complete = False
        stalled = False
        started = False

        async def bounded_receive() -> Message:
            nonlocal body_complete, stalled
            if body_complete:
                return await receive()
            try:
                async with asyncio.timeout(self.timeout):
                    message = await receive()
            except TimeoutError:
                stalled = True
                raise _BodyStalled(self.timeout) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if stalled:  # the rest of the body may still come: never read it as a request
                    message = {**message, "headers": [*message["headers"], _CLOSE]}
            await send(message)

        try:
            await self.app(scope, bounded_receive, closing_send)
        except _BodyStalled as exc:
            if started:
                raise
            await _send_problem(send, 408, str(exc.detail), close=True)


_CLOSE = (b"connection", b"close")
