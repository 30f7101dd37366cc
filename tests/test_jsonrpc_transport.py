"""The JSON-RPC transport against a real threaded HTTP(S) server: what is resent after a lost connection
(reads) and what never is (transactions), the cap on an answer's size, and one TLS connection kept alive
across requests."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from anchor._internal.jsonrpc import JsonRpc, OutcomeUnknown, ResponseTooLarge
from anchor.errors import ChainError, ChainUnavailable

RAW_TX = "0x02f8" + "ab" * 100


class Node(ThreadingHTTPServer):
    """Answers every JSON-RPC request with `result(method)`; drops the connection without an answer for
    the first `drops` requests, as a node restarting or a proxy timing out mid-request would."""

    daemon_threads = True

    def __init__(self, result: Callable[[str], Any] = lambda m: "0x1", framing: str = "length") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.result = result
        self.framing = framing
        self.drops = 0
        self.requests: list[Any] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.silent_close = False  # close each connection after its answer, without saying so
        self.closed = threading.Semaphore(0)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.release()

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: Node

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        node = self.server
        with node.lock:
            node.requests.append(request)
            drop = node.drops > 0
            node.drops -= drop
        if drop:
            self.close_connection = True
            return
        many = request if isinstance(request, list) else [request]
        answers = [{"jsonrpc": "2.0", "id": r["id"], "result": node.result(r["method"])} for r in many]
        body = json.dumps(answers if isinstance(request, list) else answers[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if node.framing == "length":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = node.silent_close
        elif node.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 4096):
                part = body[i : i + 4096]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:  # the body ends where the connection does
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[..., Node]]:
    nodes: list[Node] = []

    def start(*args: Any, tls: ssl.SSLContext | None = None, **kw: Any) -> Node:
        node = Node(*args, **kw)
        if tls is not None:
            node.socket = tls.wrap_socket(node.socket, server_side=True)
        threading.Thread(target=node.serve_forever, daemon=True).start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.shutdown()
        node.server_close()


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_call", [{"to": "0x" + "11" * 20, "data": "0x"}, "latest"]),
        ("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "0x10"}]),
        ("eth_getBlockByNumber", ["latest", False]),
        ("eth_getTransactionReceipt", ["0x" + "22" * 32]),
    ],
)
def test_a_read_lost_with_its_connection_is_sent_again(
    serve: Callable[..., Node], method: str, params: list[Any]
) -> None:
    node = serve(lambda m: "0x2a")
    node.drops = 1
    assert JsonRpc(node.url).call(method, params) == "0x2a"
    assert [r["method"] for r in node.requests] == [method, method]
    assert node.connections == 2


def test_a_raw_transaction_is_never_sent_twice(serve: Callable[..., Node]) -> None:
    node = serve(lambda m: "0x" + "33" * 32)
    node.drops = 1
    rpc = JsonRpc(node.url)
    with pytest.raises(OutcomeUnknown, match="after sending eth_sendRawTransaction: its outcome is unknown"):
        rpc.call("eth_sendRawTransaction", [RAW_TX])
    assert [r["method"] for r in node.requests] == ["eth_sendRawTransaction"]
    # A batch holding a transaction is not resent either, and the next request opens a new connection.
    node.drops = 1
    with pytest.raises(OutcomeUnknown, match="eth_getTransactionCount, eth_sendRawTransaction"):
        rpc.batch(
            [("eth_getTransactionCount", ["0x" + "44" * 20, "pending"]), ("eth_sendRawTransaction", [RAW_TX])]
        )
    assert len(node.requests) == 2
    assert rpc.call("eth_sendRawTransaction", [RAW_TX]) == "0x" + "33" * 32
    assert len(node.requests) == 3


def test_a_transaction_is_not_sent_on_a_connection_the_node_closed(serve: Callable[..., Node]) -> None:
    """A node closing an idle kept-alive connection (its keep-alive timeout) is noticed before sending:
    the transaction goes out once, on a new connection, instead of being lost with the old one."""
    node = serve(lambda m: "0x5")
    node.silent_close = True
    rpc = JsonRpc(node.url)
    assert rpc.call("eth_chainId", []) == "0x5"
    assert node.closed.acquire(timeout=10)  # the node has closed its end
    assert rpc.call("eth_sendRawTransaction", [RAW_TX]) == "0x5"
    assert [r["method"] for r in node.requests] == ["eth_chainId", "eth_sendRawTransaction"]
    assert node.connections == 2


def test_nothing_is_sent_when_no_connection_opens(serve: Callable[..., Node]) -> None:
    node = serve()
    url = node.url
    node.shutdown()
    node.server_close()
    with pytest.raises(ChainUnavailable, match="chain unreachable") as e:
        JsonRpc(url).call("eth_sendRawTransaction", [RAW_TX])
    assert not isinstance(e.value, OutcomeUnknown)


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_an_answer_beyond_the_cap_is_refused(serve: Callable[..., Node], framing: str) -> None:
    node = serve(lambda m: "0x" + "ab" * (5_000 if m == "eth_getLogs" else 10), framing=framing)
    rpc = JsonRpc(node.url, max_response=2_000)
    with pytest.raises(ResponseTooLarge, match=r"more than 2,000 bytes \(max_response\)") as e:
        rpc.call("eth_getLogs", [{}])
    assert isinstance(e.value, ChainError)
    assert len(node.requests) == 1  # refused, not asked again
    assert rpc.call("eth_chainId", []) == "0x" + "ab" * 10  # the transport is still usable


def test_the_default_cap_lets_a_large_answer_through(serve: Callable[..., Node]) -> None:
    node = serve(lambda m: "0x" + "ab" * 1_000_000, framing="chunked")
    assert JsonRpc(node.url).call("eth_getLogs", [{}]) == "0x" + "ab" * 1_000_000


# ---------------------------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's own CA), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trustanchor test node")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        # Fixed, wide validity: the test does not depend on today's date.
        .not_valid_before(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return d / "cert.pem", d / "key.pem"


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    return ctx


def test_one_tls_connection_serves_many_requests(
    serve: Callable[..., Node], certificate: tuple[Path, Path]
) -> None:
    node = serve(lambda m: "0x7", tls=_server_tls(certificate))
    rpc = JsonRpc(node.url, ssl_context=ssl.create_default_context(cafile=str(certificate[0])))
    assert [rpc.call("eth_blockNumber", []) for _ in range(5)] == ["0x7"] * 5
    assert rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])]) == ["0x7", "0x7"]
    assert len(node.requests) == 6
    assert node.connections == 1


def test_tls_reads_are_resent_and_transactions_are_not(
    serve: Callable[..., Node], certificate: tuple[Path, Path]
) -> None:
    node = serve(lambda m: "0x7", tls=_server_tls(certificate))
    rpc = JsonRpc(node.url, ssl_context=ssl.create_default_context(cafile=str(certificate[0])))
    node.drops = 1
    assert rpc.call("eth_getLogs", [{}]) == "0x7"
    node.drops = 1
    with pytest.raises(OutcomeUnknown, match="outcome is unknown"):
        rpc.call("eth_sendRawTransaction", [RAW_TX])
    assert [r["method"] for r in node.requests] == ["eth_getLogs", "eth_getLogs", "eth_sendRawTransaction"]


def test_tls_answers_are_capped(serve: Callable[..., Node], certificate: tuple[Path, Path]) -> None:
    node = serve(lambda m: "0x" + "ab" * 5_000, tls=_server_tls(certificate), framing="chunked")
    rpc = JsonRpc(
        node.url, ssl_context=ssl.create_default_context(cafile=str(certificate[0])), max_response=2_000
    )
    with pytest.raises(ResponseTooLarge, match="max_response"):
        rpc.call("eth_getLogs", [{}])


def test_a_certificate_no_trusted_ca_signed_is_refused(
    serve: Callable[..., Node], certificate: tuple[Path, Path]
) -> None:
    node = serve(tls=_server_tls(certificate))
    with pytest.raises(ChainUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        JsonRpc(node.url).call("eth_chainId", [])  # the system's CAs, which do not know the test's
    assert node.requests == []
