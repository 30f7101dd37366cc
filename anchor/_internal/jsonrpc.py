"""The library's one synchronous JSON-RPC transport: one keep-alive connection per thread (TLS too).

web3's HTTP provider spends about a millisecond per request in `requests` (proxy lookups, session
plumbing); a verification makes one small request, so that overhead would dominate it.

A request lost with its connection is sent again only when asking twice cannot change anything
(:data:`IDEMPOTENT`): a resent eth_sendRawTransaction whose first copy did arrive comes back "already
known", which would report a sent transaction as failed. Such a loss is :class:`OutcomeUnknown`.
"""

from __future__ import annotations

import http.client
import itertools
import json
import select
import socket
import ssl
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..errors import ChainError, ChainUnavailable

# A node's answer larger than this is refused rather than held in memory (a misconfigured eth_getLogs
# over a public node's whole history can run to gigabytes).
DEFAULT_MAX_RESPONSE = 64 * 2**20

# Reads, and estimates computed from reads: asking again after a lost answer is harmless.
IDEMPOTENT = frozenset(
    {
        "eth_blockNumber",
        "eth_call",
        "eth_chainId",
        "eth_estimateGas",
        "eth_feeHistory",
        "eth_gasPrice",
        "eth_getBalance",
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getCode",
        "eth_getLogs",
        "eth_getStorageAt",
        "eth_getTransactionByHash",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "eth_maxPriorityFeePerGas",
        "eth_syncing",
        "net_version",
        "web3_clientVersion",
    }
)


class RpcError(ChainError):
    """The node answered a request with a JSON-RPC error; `data` carries revert data when there is some."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        self.data = error.get("data")
        super().__init__(f"node error: {error.get('message', error)}")


class OutcomeUnknown(ChainUnavailable):
    """The connection was lost after a request that changes state was sent: it may have taken effect."""


class ResponseTooLarge(ChainError):
    """The node's answer exceeds the transport's `max_response`."""


class _NotSent(Exception):
    """No connection could be opened: nothing reached the node."""


class JsonRpc:
    def __init__(
        self,
        url: str,
        timeout: float = 10.0,
        *,
        max_response: int = DEFAULT_MAX_RESPONSE,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ChainError(f"unsupported RPC URL scheme in {url}")
        self.url = url
        self._host = parts.hostname or "127.0.0.1"
        try:
            self._port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ChainError(f"invalid port in RPC URL {url}") from None
        self._https = parts.scheme == "https"
        # The system's CAs, certificate and host name checked (the default context does both).
        self._ssl = ssl_context or (ssl.create_default_context() if self._https else None)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self.max_response = max_response
        self._head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        ).encode()
        self._local = threading.local()
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        ids = [next(self._ids) for _ in requests]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in zip(ids, requests, strict=True)
        ]
        answers = self._post(payload if len(payload) > 1 else payload[0], [m for m, _ in requests])
        if isinstance(answers, dict):
            answers = [answers]
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            raise ChainError(f"the node at {self.url} answered something that is not JSON-RPC")
        by_id = {a.get("id"): a for a in answers}
        out = []
        for i in ids:
            a = by_id.get(i)
            if a is None:
                raise ChainError(f"RPC answer missing for request {i}")
            if a.get("error"):
                err = a["error"]
                raise RpcError(err if isinstance(err, dict) else {"message": str(err)})
            out.append(a.get("result"))
        return out

    def close(self) -> None:
        """Close this thread's connection (the next request opens a new one)."""
        self._drop()

    def _post(self, payload: Any, methods: Iterable[str]) -> Any:
        body = json.dumps(payload).encode()
        named = sorted(set(methods))
        retry = all(m in IDEMPOTENT for m in named)
        for attempt in (0, 1):
            try:
                status, data = self._exchange(body)
            except _NotSent as e:
                self._drop()
                raise ChainUnavailable(f"chain unreachable at {self.url}: {e}") from None
            except ResponseTooLarge:
                self._drop()
                raise
            except (OSError, http.client.HTTPException, ValueError) as e:
                self._drop()
                if not retry:
                    raise OutcomeUnknown(
                        f"lost the connection to {self.url} after sending {', '.join(named)}: "
                        f"its outcome is unknown, check the chain before sending it again ({_text(e)})"
                    ) from None
                if attempt == 1:
                    raise ChainUnavailable(f"chain unreachable at {self.url}: {_text(e)}") from None
                continue
            if status != 200:
                raise ChainError(f"RPC HTTP {status} from {self.url}")
            try:
                return json.loads(data)
            except ValueError:
                raise ChainError(f"the node at {self.url} answered something that is not JSON") from None
        raise AssertionError("unreachable")

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"the node at {self.url} answered more than {self.max_response:,} bytes (max_response): "
            "ask for less, e.g. a smaller block range"
        )

    def _drop(self) -> None:
        for name in ("sock", "https"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
            setattr(self._local, name, None)

    def _exchange(self, body: bytes) -> tuple[int, bytes]:
        """One HTTP/1.1 request on a kept-alive socket.

        http.client spends ~150 µs per request in header parsing (the email package), and even a
        buffered reader's line-by-line parsing costs ~40 µs on a ~90 µs round trip; a verification makes
        one tiny request, so the answer is read with plain recv calls into one buffer.
        """
        if self._https:
            return self._exchange_https(body)
        sock = getattr(self._local, "sock", None)
        if sock is not None and _closed_by_peer(sock):
            self._drop()
            sock = None
        if sock is None:
            try:
                sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
            except OSError as e:
                raise _NotSent(_text(e)) from None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.sock = sock
        sock.sendall(self._head % len(body) + body)
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            if len(buf) > 65536:
                raise ValueError("HTTP response headers too long")
            _recv_into(sock, buf, 65536)
        lines = bytes(buf[:end]).split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        chunked = close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        rest = buf[end + 4 :]
        cap = self.max_response
        if chunked:
            data = _read_chunked(sock, rest, cap)
            if data is None:
                raise self._too_large()
        elif length is not None:
            if length > cap:
                raise self._too_large()
            while len(rest) < length:
                _recv_into(sock, rest, max(65536, length - len(rest)))
            data = bytes(rest[:length])
        else:
            while len(rest) <= cap and _recv_into(sock, rest, 65536, eof_ok=True):
                pass
            if len(rest) > cap:
                raise self._too_large()
            data = bytes(rest)
            close = True
        if close:
            self._drop()
        return status, data

    def _exchange_https(self, body: bytes) -> tuple[int, bytes]:
        conn: http.client.HTTPSConnection | None = getattr(self._local, "https", None)
        if conn is not None and conn.sock is not None and _closed_by_peer(conn.sock):
            self._drop()
            conn = None
        if conn is None:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._ssl
            )
            self._local.https = conn
        if conn.sock is None:
            try:
                conn.connect()
            except OSError as e:
                raise _NotSent(_text(e)) from None
        conn.request("POST", self._path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        cap = self.max_response
        if resp.length is not None and resp.length > cap:
            raise self._too_large()
        data = resp.read(cap + 1)
        if len(data) > cap:
            raise self._too_large()
        if not resp.isclosed():
            resp.read()  # the end of a chunked body: the connection is then free for the next request
        return resp.status, data


def _text(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle kept-alive connection that has become readable was closed by the node (or holds junk):
    reusing it would lose the next request, which cannot be resent safely unless it is idempotent."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _recv_into(sock: socket.socket, buf: bytearray, size: int, *, eof_ok: bool = False) -> int:
    """Append up to `size` bytes from `sock` to `buf`; the number appended (0 only at EOF if allowed)."""
    chunk = sock.recv(size)
    if not chunk and not eof_ok:
        raise ConnectionResetError("connection closed by the node")
    buf += chunk
    return len(chunk)


def _read_chunked(sock: socket.socket, buf: bytearray, cap: int) -> bytes | None:
    """The body of a chunked response whose first bytes are already in `buf`; None beyond `cap`."""
    out = bytearray()
    pos = 0
    while True:
        while (eol := buf.find(b"\r\n", pos)) < 0:
            _recv_into(sock, buf, 65536)
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        if len(out) + size > cap:
            return None
        start = eol + 2
        if size == 0:
            # Optional trailer lines, then an empty line.
            while True:
                while (eol := buf.find(b"\r\n", start)) < 0:
                    _recv_into(sock, buf, 65536)
                if eol == start:
                    return bytes(out)
                start = eol + 2
        while len(buf) < start + size + 2:
            _recv_into(sock, buf, max(65536, start + size + 2 - len(buf)))
        out += buf[start : start + size]
        pos = start + size + 2


class Web3Rpc:
    """The same interface over web3's API, for the embedded chain: its provider does not take raw
    JSON-RPC parameters (hex block numbers, camelCase filters), so each method is translated here."""

    def __init__(self, w3_or_provider: Any) -> None:
        from web3 import Web3

        w3 = w3_or_provider if hasattr(w3_or_provider, "eth") else Web3(w3_or_provider)
        self.eth = w3.eth

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        out = []
        for m, p in requests:
            try:
                out.append(_plain(self._answer(m, p)))
            except (ChainError, NotImplementedError):
                raise
            except Exception as e:
                raise ChainUnavailable(f"chain unreachable: {str(e).splitlines()[0][:200]}") from None
        return out

    def _answer(self, method: str, params: list[Any]) -> Any:
        from web3 import Web3
        from web3.exceptions import BlockNotFound

        if method == "eth_blockNumber":
            return self.eth.block_number
        if method == "eth_chainId":
            return self.eth.chain_id
        if method == "eth_getBlockByNumber":
            try:
                return self.eth.get_block(_block_id(params[0]))
            except BlockNotFound:
                return None
        if method == "eth_call":
            tx = {"to": Web3.to_checksum_address(params[0]["to"]), "data": params[0]["data"]}
            return self.eth.call(tx, _block_id(params[1]))  # type: ignore[arg-type]
        if method == "eth_getTransactionReceipt":
            from web3.exceptions import TransactionNotFound

            try:
                return self.eth.get_transaction_receipt(params[0])
            except TransactionNotFound:
                return None
        if method == "eth_getTransactionByHash":
            from web3.exceptions import TransactionNotFound

            try:
                return self.eth.get_transaction(params[0])
            except TransactionNotFound:
                return None
        if method == "eth_getLogs":
            f = params[0]
            logs = self.eth.get_logs(
                {
                    "fromBlock": _block_id(f.get("fromBlock", "earliest")),
                    "toBlock": _block_id(f.get("toBlock", "latest")),
                    "address": Web3.to_checksum_address(f["address"]),
                }
            )
            return [log for log in logs if _topics_match(list(log["topics"]), f.get("topics") or [])]
        raise NotImplementedError(f"{method} is not translated for the embedded chain")


ProviderRpc = Web3Rpc  # accepts a provider too


def _block_id(value: Any) -> Any:
    return int(value, 16) if isinstance(value, str) and value.startswith("0x") else value


def _topics_match(topics: list[bytes], wanted: list[Any]) -> bool:
    """JSON-RPC topic filter semantics: per position None (any), one topic, or a list of alternatives."""
    have = ["0x" + bytes(t).hex() for t in topics]
    for i, want in enumerate(wanted):
        if want is None:
            continue
        options = {w.lower() for w in (want if isinstance(want, list) else [want])}
        if i >= len(have) or have[i] not in options:
            return False
    return True


def _plain(value: Any) -> Any:
    """Provider answers come as HexBytes/ints in AttributeDicts; make them look like JSON-RPC's."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value
