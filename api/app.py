"""The agency service's FastAPI application: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from . import docs_page, openapi, problems
from .access_log import AccessLog
from .crash import CrashPoints
from .fastpath import VerifyFastPath
from .limits import CloseUnread, SecurityHeaders
from .routers import apikeys, audit, health, issuing, registry, verifying
from .services import Services, build_services
from .settings import ServiceSettings

STATIC = Path(__file__).parent / "static"
_DESCRIPTION = """Issuing, verification and registry reads for Trust Anchor.

Authenticate with an API key (`X-API-Key: ta_…` or `Authorization: Bearer ta_…`); each key has one role
(issuer, verifier, auditor, registry-admin) and acts for one party. Errors are RFC 9457 problem details
(`application/problem+json`) with a stable `code`; invalid input names the offending field."""


def create_app(settings: ServiceSettings, *, crash: CrashPoints | None = None) -> FastAPI:
    """Build the services (store, chain gateway, batcher, verifiers) and the app; the batcher runs while
    the app is being served (lifespan)."""
    services: Services = build_services(settings, crash or CrashPoints.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.batcher.start()
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="Trust Anchor agency service",
        version="1.0.0",
        description=_DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # our own page (api/docs_page.py): FastAPI's loads Swagger UI from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    problems.install(app)
    openapi.install(app)
    docs_page.install(app, STATIC)
    # Body limits and the key check before the body are the routes' own (api/gate.py): each knows its
    # limit and roles. Middlewares run last-added first: CloseUnread sees every answer.
    app.add_middleware(SecurityHeaders)
    if settings.verify_fast_path:
        app.add_middleware(VerifyFastPath, services=services)
    app.add_middleware(CloseUnread)
    if settings.access_log:
        app.add_middleware(AccessLog)

    for router in (
        issuing.router,
        verifying.router,
        registry.router,
        audit.router,
        health.router,
        apikeys.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    return app
