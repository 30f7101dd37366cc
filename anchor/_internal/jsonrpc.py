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
        self._local = threading.local()
        self._ids = itertools.count(1)

    def _conn(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self._timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn

    def _post(self, payload: Any) -> Any:
        # bytes, not str: http.client then sends headers and body in one segment, which avoids the
        # Nagle / delayed-ACK stall that otherwise costs a fraction of a millisecond per request.
        body = json.dumps(payload).encode()
        for attempt in (0, 1):
            try:
                conn = self._conn()
                conn.request("POST", self._path, body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise ChainError(f"RPC HTTP {resp.status} from {self.url}")
                return json.loads(data)
            except (OSError, http.client.HTTPException) as e:
                stale: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
                if stale is not None:
                    stale.close()
                self._local.conn = None
                if attempt == 1:
                    raise ChainUnavailable(f"chain unreachable at {self.url}: {e}") from None
        raise AssertionError("unreachable")

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
                raise ChainError(f"node error: {a['error'].get('message', a['error'])}")
            out.append(a.get("result"))
        return out


class ProviderRpc:
    """The same interface over a web3 provider (the embedded chain has no HTTP endpoint)."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        out = []
        for m, p in requests:
            try:
                r = self.provider.make_request(m, p)
            except Exception as e:
                raise ChainUnavailable(f"chain unreachable: {str(e).splitlines()[0][:200]}") from None
            if r.get("error"):
                raise ChainError(f"node error: {r['error']}")
            out.append(_plain(r.get("result")))
        return out


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
