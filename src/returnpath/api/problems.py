"""Errors as RFC 9457 ``application/problem+json``: a status, a title, and a clear detail."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM = "application/problem+json"

# Lost, refused or stalled database connections, from the ORM's pool or the check's own
# pools. A stall ends in a timeout (store.db bounds every wait): asyncpg's command and
# connect timeouts raise TimeoutError, a pool with every connection stuck raises
# SQLAlchemy's own TimeoutError.
DatabaseUnavailable = (
    TimeoutError,
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
)


# Problem types of our own (RFC 9457 3.1.1: relative references, documented in
# docs/api.md): a sender must be able to tell "this address may be mailed" from "this
# URL is wrong", which share the status 404.
NOT_SUPPRESSED_TYPE = "/problems/not-suppressed"
NO_SUCH_ROUTE_TYPE = "/problems/no-such-route"


class Problem(StarletteHTTPException):
    """An HTTP error with a problem type of its own."""

    def __init__(self, status: int, detail: str, *, type_: str, title: str) -> None:
        super().__init__(status, detail)
        self.type = type_
        self.title = title


def problem(
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, Problem):
            return problem(exc.status_code, str(exc.detail), type_=exc.type, title=exc.title)
        if exc.status_code == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase:
            # the router's own 404: no route has this path (our routes' 404s say more)
            return problem(
                404,
                f"no such route: {req.method} {req.url.path} (the API's routes: /docs)",
                type_=NO_SUCH_ROUTE_TYPE,
                title="No such route",
            )
        return problem(exc.status_code, str(exc.detail))

    async def database_down(_req: Request, exc: Exception) -> JSONResponse:
        # Not a 500: nothing is wrong with the request, and the sender should retry.
        response = problem(503, "the database is unreachable: retry shortly")
        response.headers["Retry-After"] = "5"
        return response

    for unavailable in DatabaseUnavailable:
        app.add_exception_handler(unavailable, database_down)

    @app.exception_handler(RequestValidationError)
    async def validation_error(req: Request, exc: RequestValidationError) -> JSONResponse:
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        body_refused = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())
        if body_refused and not _is_json(ctype) and req.method in ("POST", "PUT", "PATCH"):
            # FastAPI reads a body it was not told is JSON as no body at all, and says
            # "Field required": the fix is the header, so say that
            return problem(
                415,
                f"send the body as application/json (Content-Type was {ctype or 'missing'})",
            )
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem(422, "the request is not valid: see errors", errors=errors)
