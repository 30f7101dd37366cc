"""The service's shared head requests, against a real anvil: concurrent verifications share one
request, yet none takes an answer to a request sent before it arrived."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time

import pytest

from anchor._internal.anvil import rpc
from anchor.errors import ChainUnavailable
from api.ledger import HeadRequests
from tests.conftest import free_port


def _latest(url: str) -> tuple[int, str]:
    block = rpc(url, "eth_getBlockByNumber", ["latest", False])
    assert isinstance(block, dict)
    return int(block["number"], 16), block["hash"]


def test_concurrent_arrivals_share_one_request(anvil_url: str) -> None:
    async def run() -> None:
        heads = HeadRequests(anvil_url)
        try:
            arrived = time.monotonic()
            answers = await asyncio.gather(*(heads.head(arrived) for _ in range(30)))
            assert heads.sent == 1
            assert len(set(answers)) == 1
            number, block_hash = _latest(anvil_url)
            assert (answers[0].number, answers[0].hash) == (number, block_hash)
        finally:
            heads.close()

    asyncio.run(run())


@pytest.mark.devchain("evm_mine")
def test_an_arrival_after_a_request_was_sent_waits_for_a_newer_one(anvil_url: str) -> None:
    async def run() -> None:
        heads = HeadRequests(anvil_url)
        try:
            first = await heads.head(time.monotonic())
            rpc(anvil_url, "evm_mine")
            # The earlier answer predates this arrival: it must not be reused.
            second = await heads.head(time.monotonic())
            assert heads.sent == 2
            assert second.number == first.number + 1
            assert (second.number, second.hash) == _latest(anvil_url)
        finally:
            heads.close()

    asyncio.run(run())


def test_no_node_is_chain_unavailable() -> None:
    async def run() -> None:
        heads = HeadRequests(f"http://127.0.0.1:{free_port()}", timeout=1)
        try:
            with pytest.raises(ChainUnavailable, match="chain unreachable"):
                await heads.head(time.monotonic())
        finally:
            heads.close()

    asyncio.run(run())


class _Oversized(http.server.BaseHTTPRequestHandler):
    """A "node" whose every answer is 1 MiB of JSON-looking padding."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"jsonrpc":"2.0","id":1,"result":"' + b"0" * (1024 * 1024) + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_oversized_answer_is_chain_unavailable() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Oversized)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    async def run() -> None:
        heads = HeadRequests(f"http://127.0.0.1:{server.server_address[1]}", max_answer_bytes=64 * 1024)
        try:
            with pytest.raises(ChainUnavailable, match="more than 65,536 bytes"):
                await heads.head(time.monotonic())
        finally:
            heads.close()

    try:
        asyncio.run(run())
    finally:
        server.shutdown()
        server.server_close()
