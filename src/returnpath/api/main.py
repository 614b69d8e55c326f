"""The FastAPI application: routers, error format, and offline API docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from returnpath.api import problems
from returnpath.api.deps import AppState
from returnpath.api.fast_check import FastCheck
from returnpath.api.limits import BodyLimit
from returnpath.api.routes import (
    addresses,
    admin,
    allowlist,
    classify,
    events,
    health,
    metrics,
    policy,
    reasons,
    return_paths,
    revert,
    stats,
    suppressions,
    transfer,
    unsubscribe,
)
from returnpath.api.routes import webhooks as webhook_routes

STATIC = Path(__file__).parent / "static"


def create_app(state: AppState) -> FastAPI:
    app = FastAPI(
        title="returnpath",
        version="0.1.0",
        summary="Bounce, complaint and auto-reply processing: the suppression list you can trust.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.returnpath = state
    problems.install(app)
    app.add_middleware(BodyLimit)
    # Routes are matched in order: the pre-send checks first, they are most of the traffic.
    app.include_router(transfer.router)  # before /{address}, which would match 'export'
    app.include_router(revert.router)
    app.include_router(suppressions.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(events.router)
    app.include_router(policy.router)
    app.include_router(reasons.router)
    app.include_router(classify.router)
    app.include_router(stats.router)
    app.include_router(return_paths.router)
    app.include_router(unsubscribe.router)
    app.include_router(allowlist.router)
    app.include_router(addresses.router)
    app.include_router(admin.router)
    app.include_router(webhook_routes.router)
    # Swagger UI is served from the package so /docs works on an air-gapped host.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="returnpath API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon-32x32.png",
        )

    return app


def create_asgi_app(state: AppState) -> ASGIApp:
    """What the server runs: the application behind the single-address check's fast path."""
    return FastCheck(create_app(state), state)
