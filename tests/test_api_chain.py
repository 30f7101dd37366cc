"""The service and an unreliable chain: node down (bounded intake, INDETERMINATE, readiness, recovery on
its own when the node is back from its state file) and reorgs (evm_snapshot/evm_revert, anvil_reorg):
documents whose anchoring block is gone are anchored again and their bundles follow."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from api.auth import Role
from tests.api_helpers import Anvil, ApiEnv, TestClient, b64, make_env, permit, submission, wait_anchored
from tests.conftest import free_port

pytestmark = pytest.mark.devchain("evm_snapshot/evm_revert, anvil_reorg on a node of its own")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Anvil]:
    anvil = Anvil(free_port(), tmp_path / "anvil-state.json").start()
    yield anvil
    anvil.stop()


@pytest.fixture
def env(tmp_path: Path, node: Anvil) -> ApiEnv:
    return make_env(tmp_path / "env", node.url, {"backlog_limit": 5, "batch_max_wait_ms": 50})


def verify(c: TestClient, env: ApiEnv, doc: bytes, bundle: dict[str, Any]) -> dict[str, Any]:
    r = c.post(
        "/v1/verify", json={"document": b64(doc), "bundle": bundle}, headers=env.headers(Role.VERIFIER, "TH")
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def until(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_chain_down_bounded_intake_indeterminate_and_recovery(env: ApiEnv, node: Anvil) -> None:
    issuer = env.headers(Role.ISSUER, "SG")
    with TestClient(create_app(env.settings())) as c:
        doc = permit(1)
        first = c.post("/v1/documents?wait=10", json=submission([doc]), headers=issuer).json()["documents"][0]
        assert first["state"] == "anchored"
        assert c.get("/v1/health/ready").status_code == 200

        node.stop()
        ready = c.get("/v1/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["chain"]["ok"] is False
        assert c.get("/v1/health/live").status_code == 200
        verdict = verify(c, env, doc, first["bundle"])
        assert verdict["verdict"] == "INDETERMINATE"
        assert {ch["code"] for ch in verdict["checks"] if ch["status"] == "ERROR"} == {"CHAIN_UNAVAILABLE"}
        assert next(ch for ch in verdict["checks"] if ch["name"] == "integrity")["status"] == "VALID"

        waiting = [permit(10 + i) for i in range(4)]
        accepted = c.post("/v1/documents", json=submission(waiting[:3]), headers=issuer)
        assert accepted.status_code == 202 and {d["state"] for d in accepted.json()["documents"]} == {
            "pending"
        }
        full = c.post(
            "/v1/documents", json=submission(waiting[3:] * 1 + [permit(20), permit(21)]), headers=issuer
        )
        assert full.status_code == 503 and full.json()["code"] == "INTAKE_BACKLOG_FULL"
        assert full.headers["retry-after"]
        ids = [d["id"] for d in accepted.json()["documents"]]

        node.start()  # from its state file: the registries and the first anchoring are still there
        views = wait_anchored(_Wrapped(c, issuer), ids)
        assert [v["state"] for v in views] == ["anchored"] * 3
        until(lambda: c.get("/v1/health/ready").status_code == 200)
        assert verify(c, env, doc, first["bundle"])["verdict"] == "VALID"
        for d, v in zip(waiting[:3], views, strict=True):
            assert verify(c, env, d, v["bundle"])["verdict"] == "VALID"


def test_revert_below_the_anchoring_block_reanchors(env: ApiEnv, node: Anvil) -> None:
    issuer = env.headers(Role.ISSUER, "SG")
    with TestClient(create_app(env.settings())) as c:
        snapshot = node.call("evm_snapshot")
        docs = [permit(i, reorg="revert") for i in range(3)]
        before = c.post("/v1/documents?wait=10", json=submission(docs), headers=issuer).json()["documents"]
        assert {d["state"] for d in before} == {"anchored"}
        old_bundle = before[0]["bundle"]
        assert verify(c, env, docs[0], old_bundle)["verdict"] == "VALID"

        node.call("evm_revert", [snapshot])  # the anchoring block (and transaction) is gone
        node.call("evm_mine")
        node.call("evm_mine")  # a different chain, now longer than before
        ids = [d["id"] for d in before]
        until(lambda: _anchor_changed(c, issuer, ids[0], old_bundle))
        after = wait_anchored(_Wrapped(c, issuer), ids)
        assert verify(c, env, docs[0], old_bundle)["verdict"] == "INVALID"
        for d, v in zip(docs, after, strict=True):
            assert v["bundle"]["anchor"]["blockHash"] != old_bundle["anchor"]["blockHash"]
            assert verify(c, env, d, v["bundle"])["verdict"] == "VALID"


def test_reorg_at_the_same_height_reanchors(env: ApiEnv, node: Anvil) -> None:
    issuer = env.headers(Role.ISSUER, "SG")
    with TestClient(create_app(env.settings())) as c:
        docs = [permit(i, reorg="anvil") for i in range(2)]
        before = c.post("/v1/documents?wait=10", json=submission(docs), headers=issuer).json()["documents"]
        old_bundle = before[0]["bundle"]
        assert old_bundle["anchor"]["blockNumber"] == int(node.call("eth_blockNumber"), 16)
        node.call("anvil_reorg", [1, []])  # the head block replaced by an empty one
        ids = [d["id"] for d in before]
        until(lambda: _anchor_changed(c, issuer, ids[0], old_bundle))
        after = wait_anchored(_Wrapped(c, issuer), ids)
        for d, v in zip(docs, after, strict=True):
            assert verify(c, env, d, v["bundle"])["verdict"] == "VALID"
        assert verify(c, env, docs[0], old_bundle)["verdict"] == "INVALID"


def _anchor_changed(c: TestClient, headers: dict[str, str], doc_id: int, old: dict[str, Any]) -> bool:
    view = c.get(f"/v1/documents/{doc_id}", headers=headers).json()
    return view["state"] == "anchored" and view["bundle"]["anchor"]["blockHash"] != old["anchor"]["blockHash"]


class _Wrapped:
    """TestClient with fixed headers, shaped like the httpx.Client `wait_anchored` expects."""

    def __init__(self, c: TestClient, headers: dict[str, str]) -> None:
        self.c = c
        self.headers = headers

    def post(self, path: str, json: Any) -> Any:
        return self.c.post(path, json=json, headers=self.headers)
