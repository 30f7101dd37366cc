"""The chain head for verifications: asynchronous, single-flight eth_blockNumber requests.

Every verification first needs the node's head block. Asking for it asynchronously keeps the event
loop serving other requests while the node answers, and lets concurrent verifications share one
request: a verification takes the answer of a request *sent after it arrived* (its own, or one
another verification sent meanwhile). A verdict is therefore exactly as fresh as if the verification
had asked alone - a document revoked before the request came in is seen revoked - while under load the
node gets about one head request per round trip instead of one per verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from anchor.errors import ChainError, ChainUnavailable
from anchor.verify import ChainHead


class _Connection:
    """One keep-alive HTTP/1.1 connection to the node, for small JSON-RPC requests."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.path = parts.path or "/"
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        if self._streams is None or self._loop is not loop:
            context = ssl.create_default_context() if self.tls else None
            self._streams = await asyncio.open_connection(self.host, self.port, ssl=context)
            self._loop = loop
        return self._streams

    def close(self) -> None:
        if self._streams is not None:
            with contextlib.suppress(RuntimeError):  # its loop is gone
                self._streams[1].close()
        self._streams = None

    async def post(self, body: bytes) -> bytes:
        request = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in (0, 1):
            try:
                return await asyncio.wait_for(self._exchange(request), self.timeout)
            except (TimeoutError, OSError, EOFError, asyncio.IncompleteReadError, ValueError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, request: bytes) -> bytes:
        reader, writer = await self._open()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = head.partition(b"\r\n")
        if b" 200 " not in status_line + b" ":
            raise ValueError(f"HTTP status {status_line[:40]!r}")
        length, chunked = None, False
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None:
            return await reader.readexactly(length)
        if not chunked:
            raise ValueError("response without length")
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return body
            body = body[:-2]


class HeadRequests:
    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url
        self._conn = _Connection(url, timeout)
        self._last: tuple[float, ChainHead] | None = None  # (sent at, answer) of the latest request
        self._flight: tuple[float, asyncio.Future[None]] | None = None
        self.sent = 0

    async def head(self, arrived: float) -> ChainHead:
        """The head block read by a request sent at or after `arrived`."""
        while True:
            if self._last is not None and self._last[0] >= arrived:
                return self._last[1]
            if self._flight is not None:
                await asyncio.shield(self._flight[1])
                continue
            sent_at = time.monotonic()
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._flight = (sent_at, done)
            self.sent += 1
            try:
                answer = await self._fetch()
                self._last = (sent_at, answer)
                return answer
            finally:
                self._flight = None
                done.set_result(None)

    async def _fetch(self) -> ChainHead:
        body = b'{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["latest",false]}'
        try:
            data: Any = json.loads(await self._conn.post(body))
        except Exception as e:
            raise ChainUnavailable(f"chain unreachable at {self.url}: {type(e).__name__}") from None
        result = data.get("result") if isinstance(data, dict) else None
        try:
            return ChainHead.from_block(result)
        except ChainError:
            raise ChainUnavailable(f"the node at {self.url} gave no head block") from None

    def close(self) -> None:
        self._conn.close()
