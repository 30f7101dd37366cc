"""The lean JSON-RPC client's HTTP/1.1 reading, against a scripted server on a real socket: every way a
node may frame its answer, answers split across packets, large bodies, and connections it closes."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from anchor._internal.jsonrpc import JsonRpc, RpcError
from anchor.errors import ChainError, ChainUnavailable

Reply = Callable[[bytes], list[bytes]]  # request body -> the pieces to send back, in order


def _result(body: bytes, result: object) -> bytes:
    request = json.loads(body)
    return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()


class Server:
    """Answers each request on a connection with the pieces `reply` gives; `close_after` requests per
    connection, then closes it (as a node's keep-alive timeout would)."""

    def __init__(self, reply: Reply, close_after: int = 1_000_000) -> None:
        self.reply = reply
        self.close_after = close_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            for _ in range(self.close_after):
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = int(
                    next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
                        b":"
                    )[1]
                )
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                for piece in self.reply(body):
                    conn.sendall(piece)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(reply: Reply, **kw: int) -> Server:
        servers.append(Server(reply, **kw))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def content_length(result: object, *, split: bool = False) -> Reply:
    def reply(body: bytes) -> list[bytes]:
        payload = _result(body, result)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(
            payload
        )
        whole = head + payload
        # Split inside the headers and inside the body: the client must not assume one packet.
        return [whole[:7], whole[7 : len(head) + 3], whole[len(head) + 3 :]] if split else [whole]

    return reply


def chunked(result: object, trailer: bool = False) -> Reply:
    def reply(body: bytes) -> list[bytes]:
        payload = _result(body, result)
        parts = [payload[:5], payload[5:40], payload[40:]]
        out = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]
        out += [b"%x;ext=1\r\n" % len(p) + p + b"\r\n" for p in parts if p]
        out.append(b"0\r\n" + (b"X-Trailer: yes\r\n" if trailer else b"") + b"\r\n")
        return out

    return reply


@pytest.mark.parametrize(
    "reply",
    [
        content_length("0x2a"),
        content_length("0x2a", split=True),
        chunked("0x2a"),
        chunked("0x2a", trailer=True),
    ],
    ids=["content-length", "split-packets", "chunked", "chunked-with-trailer"],
)
def test_each_framing_reads_the_same_answer_and_keeps_the_connection(
    serve: Callable[..., Server], reply: Reply
) -> None:
    server = serve(reply)
    rpc = JsonRpc(server.url)
    assert [rpc.call("eth_blockNumber", []) for _ in range(5)] == ["0x2a"] * 5
    assert server.connections == 1


def test_a_body_delimited_by_closing_the_connection(serve: Callable[..., Server]) -> None:
    def reply(body: bytes) -> list[bytes]:
        return [b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", _result(body, "0x2a")]

    server = serve(reply, close_after=1)
    rpc = JsonRpc(server.url)
    assert [rpc.call("eth_blockNumber", []) for _ in range(3)] == ["0x2a"] * 3
    assert server.connections == 3


def test_a_large_answer_arrives_whole(serve: Callable[..., Server]) -> None:
    logs = [{"data": "0x" + "ab" * 200, "index": i} for i in range(5_000)]  # about 2 MB
    server = serve(content_length(logs))
    assert JsonRpc(server.url).call("eth_getLogs", [{}]) == logs


def test_a_connection_the_node_closed_is_reopened_once(serve: Callable[..., Server]) -> None:
    server = serve(content_length("0x1"), close_after=1)
    rpc = JsonRpc(server.url)
    assert [rpc.call("eth_chainId", []) for _ in range(3)] == ["0x1"] * 3
    assert server.connections == 3


def test_rpc_errors_http_errors_and_silence(serve: Callable[..., Server]) -> None:
    def error(body: bytes) -> list[bytes]:
        payload = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": json.loads(body)["id"],
                "error": {"code": 3, "message": "execution reverted", "data": "0x08c379a0"},
            }
        ).encode()
        return [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload]

    with pytest.raises(RpcError, match="execution reverted") as e:
        JsonRpc(serve(error).url).call("eth_call", [])
    assert e.value.data == "0x08c379a0"
    refused = serve(lambda body: [b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"])
    with pytest.raises(ChainError, match="RPC HTTP 503"):
        JsonRpc(refused.url).call("eth_chainId", [])
    mute = serve(lambda body: [])  # reads the request, never answers
    with pytest.raises(ChainUnavailable, match="chain unreachable"):
        JsonRpc(mute.url, timeout=0.3).call("eth_chainId", [])
    hangs_up = serve(
        lambda body: [b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"jsonrpc"'], close_after=1
    )
    with pytest.raises(ChainUnavailable, match="closed by the node"):
        JsonRpc(hangs_up.url).call("eth_chainId", [])
