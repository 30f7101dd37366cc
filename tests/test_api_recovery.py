"""Crash recovery with real process kills: a real `trustanchor serve` against a real anvil SIGKILLs itself
at a named moment (TRUSTANCHOR_CRASH_AT) of intake or anchoring; the restarted service must lose no
accepted document, anchor none twice, and finish what the crash interrupted."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api_helpers import (
    Anvil,
    ApiEnv,
    anchored_roots,
    b64,
    make_env,
    permit,
    start_serve,
    submission,
    wait_anchored,
)
from tests.conftest import free_port


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    anvil = Anvil(free_port(), tmp_path_factory.mktemp("anvil") / "state.json").start()
    yield anvil
    anvil.stop()


@pytest.fixture
def env(tmp_path: Path, node: Anvil) -> ApiEnv:
    return make_env(tmp_path, node.url)


def batches(env: ApiEnv) -> list[dict[str, Any]]:
    with sqlite3.connect(env.home / "api" / "service.sqlite") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT id, state, tx_hash, nonce, root, size FROM batches")]


def assert_anchored_once(env: ApiEnv, client: httpx.Client, ids: list[int], docs: list[bytes]) -> None:
    """Every document anchored, in a root anchored exactly once, with a bundle that verifies VALID."""
    views = wait_anchored(client, ids)
    assert [v["state"] for v in views] == ["anchored"] * len(ids), views
    roots = anchored_roots(env.url, env.manifest.document_registry.address)
    assert len(roots) == len(set(roots))  # no root anchored twice
    assert {v["batch"]["root"] for v in views} <= set(roots)
    verifier = {"X-API-Key": env.key(Role.VERIFIER, "TH")}
    for doc, view in zip(docs, views, strict=True):
        r = client.post("/v1/verify", json={"document": b64(doc), "bundle": view["bundle"]}, headers=verifier)
        assert r.json()["verdict"] == "VALID", r.json()


def crash_during(env: ApiEnv, point: str, docs: list[bytes], wait: float = 0) -> list[int] | None:
    """Start serve armed to die at `point`, submit `docs`; the submission's ids if it was answered."""
    served = start_serve(env, crash_at=point)
    ids = None
    try:
        with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as c:
            try:
                r = c.post(f"/v1/documents?wait={wait}", json=submission(docs))
                ids = [d["id"] for d in r.json()["documents"]]
            except httpx.HTTPError:
                pass  # the process died under the request
        assert served.wait_dead(30) == -9
    finally:
        served.stop()
    return ids


def restart(env: ApiEnv) -> Any:
    return start_serve(env)


def test_kill_during_intake_before_commit_accepts_nothing(env: ApiEnv) -> None:
    docs = [permit(i) for i in range(3)]
    assert crash_during(env, "intake_before_commit", docs) is None
    served = restart(env)
    try:
        with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as c:
            assert c.get("/v1/documents").json()["documents"] == []  # never accepted, never reported accepted
            ids = [d["id"] for d in c.post("/v1/documents", json=submission(docs)).json()["documents"]]
            assert_anchored_once(env, c, ids, docs)
    finally:
        served.stop()


def test_kill_after_commit_keeps_the_documents_and_a_retry_gets_the_same_ids(env: ApiEnv) -> None:
    docs = [permit(i) for i in range(4)]
    assert crash_during(env, "intake_after_commit", docs) is None  # the client never heard back
    served = restart(env)
    try:
        with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as c:
            stored = [d["id"] for d in c.get("/v1/documents").json()["documents"]]
            assert len(stored) == 4
            retried = [d["id"] for d in c.post("/v1/documents", json=submission(docs)).json()["documents"]]
            assert retried == stored
            assert_anchored_once(env, c, retried, docs)
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("point", "persisted"),
    [
        ("batch_signed", None),  # nothing of the batch persisted: batched anew
        ("batch_persisted", "signed"),  # persisted, never sent: the same raw transaction is sent
        ("after_send", "signed"),  # sent and mined, not recorded as sent: the receipt is found
        ("before_receipt_record", "sent"),  # mined, receipt seen, anchoring not recorded
    ],
)
def test_kill_during_anchoring_recovers(env: ApiEnv, point: str, persisted: str | None) -> None:
    docs = [permit(i, point=point) for i in range(5)]
    ids = crash_during(env, point, docs)
    assert ids is not None and len(ids) == 5  # accepted (answered) before the batcher ran
    left = batches(env)
    if persisted is None:
        assert left == []
    else:
        assert [b["state"] for b in left] == [persisted]
    served = restart(env)
    try:
        with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as c:
            assert_anchored_once(env, c, ids, docs)
            views = wait_anchored(c, ids)
    finally:
        served.stop()
    after = batches(env)
    assert [b["state"] for b in after] == ["anchored"]
    if persisted is not None:  # the transaction signed before the crash is the one that anchored
        assert after[0]["tx_hash"] == left[0]["tx_hash"] == views[0]["batch"]["transactionHash"]


@pytest.mark.devchain("evm_setAutomine, anvil_dropAllTransactions on a node of its own")
def test_dropped_transaction_is_sent_again(env: ApiEnv, node: Anvil) -> None:
    """The node forgets the pending transaction (mempool dropped): the same bytes are sent again."""
    node.call("evm_setAutomine", [False])
    served = start_serve(env)
    try:
        with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as c:
            docs = [permit(i, dropped=True) for i in range(3)]
            ids = [d["id"] for d in c.post("/v1/documents", json=submission(docs)).json()["documents"]]
            _wait(lambda: [b["state"] for b in batches(env)] == ["sent"])
            first = batches(env)[0]
            node.call("anvil_dropAllTransactions")
            node.call("evm_setAutomine", [True])
            assert_anchored_once(env, c, ids, docs)
            assert batches(env)[0]["tx_hash"] == first["tx_hash"]
    finally:
        node.call("evm_setAutomine", [True])
        served.stop()


def _wait(predicate: Any, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    """The worker processes of a supervising `serve` (not multiprocessing's resource tracker)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            out.append(int(stat.parent.name))
    return out


def test_workers_share_the_store_and_survive_kills(env: ApiEnv) -> None:
    """Two worker processes: both take documents, exactly one anchors; SIGKILLed workers are restarted
    and the batcher lock passes to whichever worker holds it next."""
    import os
    import signal

    served = start_serve(env, extra_env={"TRUSTANCHOR_API_WORKERS": "2"})
    try:
        with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as c:
            _wait(lambda: len(_children(served.proc.pid)) == 2)
            docs = [permit(i, workers=True) for i in range(12)]
            ids = []
            for k in range(0, 12, 3):  # several connections: the kernel spreads them over the workers
                with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as other:
                    ids += [
                        d["id"]
                        for d in other.post("/v1/documents", json=submission(docs[k : k + 3])).json()[
                            "documents"
                        ]
                    ]
            assert_anchored_once(env, c, ids, docs)
            assert c.get("/v1/health/ready").status_code == 200
            first = _children(served.proc.pid)
            for pid in first:
                os.kill(pid, signal.SIGKILL)
            _wait(lambda: len(set(_children(served.proc.pid)) - set(first)) == 2)
            more = [permit(i, after_kill=True) for i in range(3)]
            _wait(lambda: _answers(served.url))
            with served.client({"X-API-Key": env.key(Role.ISSUER, "SG")}) as again:
                more_ids = [
                    d["id"] for d in again.post("/v1/documents", json=submission(more)).json()["documents"]
                ]
                assert_anchored_once(env, again, more_ids, more)
    finally:
        served.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/v1/health/live", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
