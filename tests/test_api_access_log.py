"""`trustanchor serve` says where it listens and logs every request (method, path, status, time, the
key's public id), never an API key's secret."""

from __future__ import annotations

import re

import pytest

from api.auth import Role
from tests.api_helpers import ApiEnv, make_env, start_serve


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-log"), anvil_url)


def test_serve_logs_its_url_and_an_access_line_per_request_without_secrets(env: ApiEnv) -> None:
    served = start_serve(env, log_level="info")
    try:
        key = env.key(Role.VERIFIER, "TH")
        with served.client({"X-API-Key": key}) as c:
            assert c.get("/v1/registry/parties").status_code == 200
        with served.client({"X-API-Key": "ta_bogus_secretpart"}) as c:
            assert c.get("/v1/registry/parties").status_code == 401
    finally:
        served.stop()
    text = served.log.read_text()
    assert re.search(rf"listening on {re.escape(served.url)} \(page at /, API under /v1\)", text), text
    public_id = "_".join(key.split("_")[:2])
    assert re.search(rf"GET /v1/registry/parties 200 [0-9.]+ms key={public_id}\b", text), text
    assert re.search(r"GET /v1/registry/parties 401 [0-9.]+ms key=ta_bogus\b", text), text
    assert key not in text and key.split("_", 2)[2] not in text and "secretpart" not in text
