"""The service's view of the ledger: the trusted deployment manifest and lazily (re)made chain connections.

The service must start, accept documents and answer (INDETERMINATE) while the node is down, and
recover by itself when it comes back. So nothing connects at start-up: each thread makes its own
connection on first use (web3 providers are not shared across threads), and a failed attempt is simply
retried on the next call.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from anchor.chain import Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import Manifest
from anchor.errors import ChainUnavailable, ConfigError
from anchor.registry import Registries


class ChainGateway:
    def __init__(self, config: ChainConfig, manifest_path: Path, *, timeout: float = 10.0) -> None:
        if config.backend == "embedded":
            raise ConfigError(
                "the service needs a chain node (backend = anvil or rpc), not the embedded chain"
            )
        self.config = config
        self.manifest_path = manifest_path
        self.timeout = timeout
        self._local = threading.local()
        self._manifest: Manifest | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.config.url

    def manifest(self) -> Manifest:
        """The trusted deployment (ConfigError if there is none yet; read again until there is)."""
        with self._lock:
            if self._manifest is None:
                self._manifest = Manifest.load(self.manifest_path)
            return self._manifest

    def chain(self) -> Chain:
        """This thread's connection; ChainUnavailable while the node does not answer."""
        chain: Chain | None = getattr(self._local, "chain", None)
        if chain is None:
            retry_at: float = getattr(self._local, "retry_at", 0.0)
            if time.monotonic() < retry_at:
                raise ChainUnavailable(f"chain unreachable at {self.url}")
            try:
                chain = connect(self.config, timeout=self.timeout)
            except ChainUnavailable:
                self._local.retry_at = time.monotonic() + 0.2
                raise
            self._local.chain = chain
        return chain

    def registries(self) -> Registries:
        return Registries.open(self.chain(), self.manifest(), source=str(self.manifest_path))
