"""The route class of every API router: the caller's key is checked, then the body read within the
route's limit, before FastAPI sees the request.

FastAPI reads and parses a route's JSON body before it resolves the route's dependencies, the key
check among them: without this, anyone could make the service receive and parse a body as large as
the limit allowed without a key at all. `GatedRoute` therefore

1. authorizes the caller from the headers with the route's own `RequireKey` (401/403 at once, nothing
   of the body read; the dependency then returns the same Principal),
2. refuses an announced Content-Length beyond the route's limit (413), and counts the body as it
   arrives against the same limit (`max_upload_bytes` for routes marked `upload_route`, else
   `max_request_bytes`),
3. for a route with a body model, reads the body and, if it is JSON, bounds its nesting and parses
   it - and when it is large, validates it too, off the event loop (api/offload.py) - before handing
   it to FastAPI, which would otherwise do both on the loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from anchor.errors import DocumentError
from anchor.issuing.canonical import check_json_nesting

from .deps import RequireKey
from .jsonbody import validate
from .limits import check_content_length, is_upload_route, limited
from .offload import INLINE_BYTES, sized
from .problems import ApiError
from .services import Services

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _key_check(dependant: Dependant) -> RequireKey | None:
    for sub in dependant.dependencies:
        if isinstance(sub.call, RequireKey):
            return sub.call
        found = _key_check(sub)
        if found is not None:
            return found
    return None


def _is_json(content_type: str | None) -> bool:
    essence = (content_type or "").split(";")[0].strip().lower()
    return essence == "application/json" or (essence.startswith("application/") and essence.endswith("+json"))


def _parse(body: bytes, model: type[BaseModel] | None) -> tuple[Any, Exception | None]:
    try:
        check_json_nesting(body)
    except DocumentError as e:
        raise ApiError(422, "INVALID_JSON", str(e), field="body") from None
    try:
        value = json.loads(body)
    except Exception as e:  # handed to FastAPI from json(), which answers it as it always did
        return None, e
    # Validating a large body takes time in proportion too (a 4 MiB submission of tiny documents:
    # about a second): done here, FastAPI's own validation of the model it gets is a no-op.
    return (value if model is None else validate(model, value)), None


class GatedRequest(Request):
    """A request whose JSON body may already be parsed (FastAPI asks `json()` for it)."""

    _parsed: tuple[Any, Exception | None] | None = None

    async def read_body(self, model: type[BaseModel] | None) -> None:
        """Read the body here, where a 413 is answered as such (FastAPI would turn an error while it
        reads into a 400), and parse it if FastAPI is going to."""
        body = await self.body()
        if body and _is_json(self.headers.get("content-type")):
            large = len(body) > INLINE_BYTES
            self._parsed = await sized(len(body), _parse, body, model if large else None)

    async def json(self) -> Any:
        if self._parsed is None:
            return await super().json()
        value, error = self._parsed
        if error is not None:
            raise error
        return value


class GatedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        key_check = _key_check(self.dependant)
        upload = is_upload_route(self.endpoint)
        has_body = self.body_field is not None and not isinstance(self.body_field.field_info, params.Form)
        annotation = self.body_field.field_info.annotation if self.body_field is not None else None
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None

        async def gated(request: Request) -> Response:
            services: Services = request.app.state.services
            headers = request.scope["headers"]
            if key_check is not None:
                key_check.remember(request.scope, key_check.authorize(services, headers))
            settings = services.settings
            limit = settings.max_upload_bytes if upload else settings.max_request_bytes
            check_content_length(headers, limit)
            gated_request = GatedRequest(request.scope, limited(request.receive, limit))
            if has_body:
                await gated_request.read_body(model)
            return await handler(gated_request)

        return gated
