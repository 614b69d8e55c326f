"""Request body limits, enforced while the body streams in (not after it is buffered).

A declared Content-Length over the limit is refused before reading; a
chunked body is counted as it arrives and cut off with 413 at the limit.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LIMIT = 2 * 1024 * 1024  # a 10,000-address check is about 300 KB
IMPORT_LIMIT = 1024 * 1024 * 1024  # a million-row import is about 40 MB; generous, still bounded


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
        self.large = large or {"/v1/suppressions/import": IMPORT_LIMIT}

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
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Content Too Large",
        "status": 413,
        "detail": f"request body over the limit of {limit} bytes for this endpoint",
    }
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
