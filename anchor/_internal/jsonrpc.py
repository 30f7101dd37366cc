"""A lean JSON-RPC client over one keep-alive HTTP connection, for hot read paths.

web3's HTTP provider spends about a millisecond per request in `requests` (proxy lookups, session
plumbing); a verification makes one small request, so that overhead would dominate it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from ..errors import ChainError, ChainUnavailable


class RpcError(ChainError):
    """The node answered a request with a JSON-RPC error; `data` carries revert data when there is some."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        self.data = error.get("data")
        super().__init__(f"node error: {error.get('message', error)}")


class JsonRpc:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ChainError(f"unsupported RPC URL scheme in {url}")
        self.url = url
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._https = parts.scheme == "https"
        self._path = parts.path or "/"
        self._timeout = timeout
        self._head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        ).encode()
        self._local = threading.local()
        self._ids = itertools.count(1)

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        for attempt in (0, 1):
            try:
                status, data = self._exchange(body)
            except (OSError, http.client.HTTPException, ValueError) as e:
                self._drop()
                if attempt == 1:
                    raise ChainUnavailable(f"chain unreachable at {self.url}: {e}") from None
                continue
            if status != 200:
                raise ChainError(f"RPC HTTP {status} from {self.url}")
            return json.loads(data)
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            sock.close()
        self._local.sock = None

    def _exchange(self, body: bytes) -> tuple[int, bytes]:
        """One HTTP/1.1 request on a kept-alive socket.

        http.client spends ~150 µs per request in header parsing (the email package), and even a
        buffered reader's line-by-line parsing costs ~40 µs on a ~90 µs round trip; a verification makes
        one tiny request, so the answer is read with plain recv calls into one buffer.
        """
        if self._https:
            return self._exchange_https(body)
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
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
        if chunked:
            data = _read_chunked(sock, rest)
        elif length is not None:
            while len(rest) < length:
                _recv_into(sock, rest, max(65536, length - len(rest)))
            data = bytes(rest[:length])
        else:
            while _recv_into(sock, rest, 65536, eof_ok=True):
                pass
            data = bytes(rest)
            close = True
        if close:
            self._drop()
        return status, data

    def _exchange_https(self, body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout)
        try:
            conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        ids = [next(self._ids) for _ in requests]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in zip(ids, requests, strict=True)
        ]
        answers = self._post(payload if len(payload) > 1 else payload[0])
        if isinstance(answers, dict):
            answers = [answers]
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


def _recv_into(sock: socket.socket, buf: bytearray, size: int, *, eof_ok: bool = False) -> int:
    """Append up to `size` bytes from `sock` to `buf`; the number appended (0 only at EOF if allowed)."""
    chunk = sock.recv(size)
    if not chunk and not eof_ok:
        raise ConnectionResetError("connection closed by the node")
    buf += chunk
    return len(chunk)


def _read_chunked(sock: socket.socket, buf: bytearray) -> bytes:
    """The body of a chunked response whose first bytes are already in `buf`."""
    out = bytearray()
    pos = 0
    while True:
        while (eol := buf.find(b"\r\n", pos)) < 0:
            _recv_into(sock, buf, 65536)
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
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
