"""Serving the app with uvicorn (what `trustanchor serve` runs): one process, or several workers.

With `workers` > 1 this process supervises that many worker processes. Each binds its own listening
socket to the same address with SO_REUSEPORT, so the kernel spreads connections evenly over them (with
one shared socket, whichever worker is already busy tends to accept most connections). Each builds the
app from the settings handed down in TRUSTANCHOR_API_WORKER_SETTINGS and takes every kind of request;
exactly one of them - whichever holds the store's batcher lock - anchors, and another takes over if it
dies. A worker that dies is started again.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import socket
import time
from typing import Any

import uvicorn

from anchor.errors import ConfigError

from .app import create_app
from .services import build_services
from .settings import ServiceSettings
from .store import CrashPoints

WORKER_SETTINGS_ENV = "TRUSTANCHOR_API_WORKER_SETTINGS"
log = logging.getLogger("trustanchor.api")


def _tune_gc() -> None:
    # Everything loaded so far lives as long as the process: keep the collector from walking it again
    # and again, and collect the young generation less often (verification allocates many small
    # short-lived objects; a full collection over a large heap shows up as latency outliers).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _listen(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A listening socket created as IPPROTO_TCP: asyncio only turns Nagle off (TCP_NODELAY) for
    connections of such sockets, and with Nagle on a response written in two parts waits ~40 ms for a
    delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _config(settings: ServiceSettings, app: Any, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )


def _setup_logging(log_level: str) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _worker(log_level: str) -> None:
    """One worker process: its own socket on the shared port, its own app, its own event loop."""
    _setup_logging(log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor asks workers to stop with SIGTERM
    settings = ServiceSettings.model_validate_json(os.environ[WORKER_SETTINGS_ENV])
    sock = _listen(settings.host, settings.port, reuse_port=True)
    app = create_app(settings)
    _tune_gc()
    uvicorn.Server(_config(settings, app, log_level)).run(sockets=[sock])


def serve(settings: ServiceSettings, *, log_level: str = "info") -> None:
    _setup_logging(log_level)
    if settings.workers == 1:
        app = create_app(settings)
        _tune_gc()
        sock = _listen(settings.host, settings.port, reuse_port=False)
        host, port = sock.getsockname()[:2]
        log.info("listening on %s (page at /, API under /v1)", _url(host, port))
        uvicorn.Server(_config(settings, app, log_level)).run(sockets=[sock])
        return
    if settings.port == 0:
        raise ConfigError("several workers need a fixed port (port 0 would give each its own)")
    _supervise(settings, log_level)


def _supervise(settings: ServiceSettings, log_level: str) -> None:
    build_services(settings, CrashPoints(None)).close()  # a configuration error stops us here, once
    os.environ[WORKER_SETTINGS_ENV] = settings.to_json()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers: list[Any] = []

    def start() -> Any:
        process = context.Process(target=_worker, args=(log_level,), name="trustanchor-worker")
        process.start()
        return process

    workers = [start() for _ in range(settings.workers)]
    log.info(
        "listening on %s with %d workers (page at /, API under /v1)",
        _url(settings.host, settings.port),
        settings.workers,
    )
    restarts: list[float] = []
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(workers):
                if not process.is_alive() and not stopping:
                    log.warning("worker %d exited with %s; starting it again", process.pid, process.exitcode)
                    restarts = [t for t in restarts if time.monotonic() - t < 30] + [time.monotonic()]
                    if len(restarts) > 3 * settings.workers:
                        raise ConfigError("workers keep exiting (see the log above); stopping")
                    workers[i] = start()
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
        for process in workers:
            process.join(10)
            if process.is_alive():
                process.kill()
