"""The OpenAPI document: FastAPI's, plus the bodies of routes that parse their JSON strictly themselves,
and problem responses under application/problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from .models.verifying import ConsumeRequest, VerifyRequest
from .problems import PROBLEM_JSON

_RAW_BODIES: tuple[type[BaseModel], ...] = (VerifyRequest, ConsumeRequest)


def install(app: FastAPI) -> None:
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
