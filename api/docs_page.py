"""The API docs page (/v1/docs): Swagger UI served from this service, never from a CDN.

The page runs on the same origin as the verification page, which keeps the caller's API key: a script
loaded from a third party could read it. So Swagger UI's script and stylesheet come from a pinned
Python package (fastapi-offline, installed with the service) and are served from here, and the page
is under the service's Content-Security-Policy like every other (api/limits.py): scripts, styles and
connections from this origin only, no inline script (the set-up is /static/docs.js).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

_SWAGGER_UI = Path(str(files("fastapi_offline").joinpath("static")))
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}


def install(app: FastAPI, static: Path) -> None:
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
