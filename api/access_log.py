"""The access log: one line per request — method, path, status, milliseconds and the API key's public id
(never the key: its secret part is not logged). Logger `trustanchor.access`, INFO; `access_log = false`
turns it off (the verification hot path pays about 10 µs a line)."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("trustanchor.access")


def key_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The public id of an API key (`ta_<id>_<secret>` -> `ta_<id>`), or '-' without one."""
    for name, value in headers:
        if name == b"x-api-key":
            parts = value.decode("latin-1").split("_")
            return "_".join(parts[:2]) if len(parts) >= 3 else "malformed"
    return "-"


class AccessLog:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                "%s %s %d %.1fms key=%s",
                scope.get("method", "?"),
                scope.get("path", "?"),
                status,
                (time.perf_counter() - started) * 1000,
                key_id(scope.get("headers") or []),
            )
