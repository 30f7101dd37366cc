"""The agency service's FastAPI application (`create_app(settings)`): its routers and middleware, the
OpenAPI document, the API docs page and the verification page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from . import problems
from .middleware import AccessLog, CloseUnread, SecurityHeaders, VerifyFastPath
from .models import ConsumeRequest, VerifyRequest
from .problems import PROBLEM_JSON
from .routers import apikeys, audit, health, issuing, offline, registry, verifying
from .services import Services, build_services
from .settings import ServiceSettings
from .store import CrashPoints

STATIC = Path(__file__).parent / "static"
_DESCRIPTION = """Issuing, verification and registry reads for Trust Anchor.

Authenticate with an API key (`X-API-Key: ta_…` or `Authorization: Bearer ta_…`); each key has one role
(issuer, verifier, auditor, registry-admin) and acts for one party. Errors are RFC 9457 problem details
(`application/problem+json`) with a stable `code`; invalid input names the offending field."""
_RAW_BODIES: tuple[type[BaseModel], ...] = (VerifyRequest, ConsumeRequest)
_SWAGGER_UI = Path(str(files("fastapi_offline").joinpath("static")))
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}


def create_app(settings: ServiceSettings, *, crash: CrashPoints | None = None) -> FastAPI:
    """Build the services (store, chain gateway, batcher, verifiers) and the app; the batcher runs while
    the app is being served (lifespan)."""
    services: Services = build_services(settings, crash or CrashPoints.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.offline:  # offline there is no node to anchor on: verification only
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
        docs_url=None,  # our own page (below): FastAPI's loads Swagger UI from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    problems.install(app)
    _install_openapi(app)
    _install_docs_page(app, STATIC)
    # Body limits and the key check before the body are the routes' own (api/middleware.py GatedRoute):
    # each knows its limit and roles. Middlewares run last-added first: CloseUnread sees every answer.
    app.add_middleware(SecurityHeaders)
    if settings.verify_fast_path:
        app.add_middleware(VerifyFastPath, services=services, handler=verifying.verify_json)
    app.add_middleware(CloseUnread)
    if settings.access_log:
        app.add_middleware(AccessLog)

    for router in (
        issuing.router,
        verifying.router,
        offline.router,
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


def _install_openapi(app: FastAPI) -> None:
    """FastAPI's document, plus the bodies of routes that parse their JSON strictly themselves, and problem
    responses under application/problem+json."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _RAW_BODIES:
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(body.pop("$defs", {}))
            components[model.__name__] = body
        for path in schema.get("paths", {}).values():
            for op in path.values():
                for status, response in op.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.isdigit() and int(status) >= 400 and "application/json" in content:
                        schema_ = content.pop("application/json").get("schema")
                        if schema_ and "Problem" in str(schema_):
                            content[PROBLEM_JSON] = {"schema": schema_}
                        else:
                            content["application/json"] = {"schema": schema_}
                    if status == "422" and "application/json" not in content:
                        content.setdefault(PROBLEM_JSON, {"schema": {"$ref": "#/components/schemas/Problem"}})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# The API docs page (/v1/docs): Swagger UI served from this service, never from a CDN. The page runs on
# the same origin as the verification page, which keeps the caller's API key: a script loaded from a
# third party could read it. So Swagger UI's script and stylesheet come from a pinned Python package
# (fastapi-offline, installed with the service) and are served from here, and the page is under the
# service's Content-Security-Policy like every other (api/middleware.py): no inline script (the set-up
# is /static/docs.js).
def _install_docs_page(app: FastAPI, static: Path) -> None:
    page = static / "docs.html"
    for name in _ASSETS:
        if not (_SWAGGER_UI / name).is_file():
            raise RuntimeError(f"Swagger UI asset {name} is missing from {_SWAGGER_UI}")

    @app.get("/v1/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        return FileResponse(page, media_type="text/html; charset=utf-8")

    def asset(name: str, media_type: str) -> None:
        path = _SWAGGER_UI / name

        async def serve() -> FileResponse:
            return FileResponse(path, media_type=media_type)

        app.add_api_route(f"/v1/docs/{name}", serve, methods=["GET"], include_in_schema=False)

    for name, media_type in _ASSETS.items():
        asset(name, media_type)
