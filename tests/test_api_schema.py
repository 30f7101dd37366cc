"""Schemathesis against the served OpenAPI document: generated requests (valid and invalid) for every
operation, with a key of the role each operation needs; the service never answers 5xx, and its answers
match the documented status codes, content types and schemas."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from api.auth import Role
from tests.api_helpers import ApiEnv, TestClient, make_env, permit, submission

ROLE_BY_PREFIX = (
    ("/v1/documents", Role.ISSUER, "SG"),
    ("/v1/intake", Role.AUDITOR, "SG"),
    ("/v1/verify", Role.VERIFIER, "TH"),
    ("/v1/consume", Role.VERIFIER, "TH"),
    ("/v1/registry", Role.AUDITOR, "TH"),
    ("/v1/audit", Role.AUDITOR, "TH"),
    ("/v1/apikeys", Role.REGISTRY_ADMIN, "MY"),
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(
        tmp_path_factory.mktemp("api-schema"),
        anvil_url,
        {"max_documents_per_request": 50, "backlog_limit": 100_000},
    )


@pytest.fixture(scope="module")
def app(env: ApiEnv) -> Iterator[Any]:
    application = create_app(env.settings())
    with TestClient(application) as client:  # runs the lifespan: the batcher anchors what is submitted
        r = client.post(
            "/v1/documents?wait=10", json=submission([permit(1)]), headers=env.headers(Role.ISSUER, "SG")
        )
        assert r.json()["documents"][0]["state"] == "anchored"
        yield application


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/v1/openapi.json", app)


# A quick pass in CI; TRUSTANCHOR_FUZZ_EXAMPLES=500 digs deeper (examples per operation and mode) with
# fresh random inputs (see the hypothesis profiles in conftest.py).
EXAMPLES = int(os.environ.get("TRUSTANCHOR_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def headers_for(path: str, env: ApiEnv) -> dict[str, str]:
    for prefix, role, party in ROLE_BY_PREFIX:
        if path.startswith(prefix):
            return env.headers(role, party)
    return {}


# schemathesis' pytest integration (`from_fixture(...).parametrize()`) does not run on pytest 9, so each
# operation's strategies are driven by hypothesis directly.
def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(api_schema: Any, env: ApiEnv, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        try:
            fuzz(operation, mode, headers_for(operation.path, env))()
        except Unsatisfiable:  # e.g. no parameters to make invalid
            assert mode is GenerationMode.NEGATIVE
