"""Verification for the API: the library's Verifier, one thread at a time, and a chain-less fallback.

The head block comes from `HeadRequests` (asynchronous, shared between concurrent verifications; see
api/heads.py) and is handed to the Verifier, whose own reads are then answered from its head-synced
cache; only when the head moved does it read the chain (the registries' logs since its last head).
One Verifier and its caches serve every request, so it is never used by two threads at once: a
verification of a small document runs on the event loop's thread (it takes about 60 µs, less than a
hop to another thread), one of a large document - whose canonicalization takes time in proportion to
its size - runs on the service's one verification thread, and while that thread has work, every
verification queues behind it there, so the event loop keeps answering meanwhile.

A Verifier needs a chain connection to exist. While the node is down (even since start-up) the
service still answers with the library's `verify_without_chain`: the checks that need no chain run,
the others are ERROR CHAIN_UNAVAILABLE, and the verdict is INDETERMINATE - the same verdict the
Verifier gives when the node fails under it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptography import x509

from anchor.bundle import Bundle
from anchor.deploy import Manifest
from anchor.errors import ChainUnavailable, ConfigError
from anchor.verify import ChainHead, Verifier, verify_without_chain

from .gateway import ChainGateway
from .heads import HeadRequests
from .offload import INLINE_BYTES
from .problems import ApiError


class VerificationService:
    def __init__(self, gateway: ChainGateway, confirmations: int, cas: Sequence[x509.Certificate]) -> None:
        self.gateway = gateway
        self.confirmations = confirmations
        self.cas = list(cas)
        self.heads = HeadRequests(gateway.url)
        self._verifier: Verifier | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="trustanchor-verify")
        self._queued = 0  # verifications given to the thread and not finished; read on the loop only

    def manifest(self) -> Manifest:
        try:
            return self.gateway.manifest()
        except ConfigError as e:
            raise ApiError(503, "DEPLOYMENT_NOT_FOUND", str(e), headers={"Retry-After": "5"}) from None

    def _get_verifier(self) -> Verifier | None:
        if self._verifier is None:
            manifest = self.manifest()
            try:
                chain = self.gateway.chain()
            except ChainUnavailable:
                return None
            try:
                verifier = Verifier(
                    chain, manifest, confirmations=self.confirmations, ca_certificates=self.cas
                )
            except ConfigError as e:
                raise ApiError(503, "DEPLOYMENT_MISMATCH", str(e)) from None
            self._verifier = verifier
        return self._verifier

    async def verify(self, document: bytes, bundle: Bundle, party: str, arrived: float) -> dict[str, Any]:
        """Verdict.to_dict() (the structure of `trustanchor verify --json`), read at a head block asked
        for after `arrived` (time.monotonic() when the request came in)."""
        try:
            head = await self.heads.head(arrived)
        except ChainUnavailable as e:
            head, chain_read, why = None, False, str(e)
        else:
            chain_read, why = True, f"chain unreachable at {self.gateway.url}"
        if len(document) <= INLINE_BYTES and self._queued == 0:
            return self._verdict(document, bundle, party, head, chain_read, why)
        loop = asyncio.get_running_loop()
        self._queued += 1
        future = self._thread.submit(self._verdict, document, bundle, party, head, chain_read, why)
        # Counted down when the thread is done with it, even if the request is cancelled meanwhile.
        future.add_done_callback(lambda _: self._finished(loop))
        return await asyncio.wrap_future(future)

    def _finished(self, loop: asyncio.AbstractEventLoop) -> None:
        def count_down() -> None:
            self._queued -= 1

        with contextlib.suppress(RuntimeError):  # the loop is gone: nothing is counting any more
            loop.call_soon_threadsafe(count_down)

    def _verdict(
        self, document: bytes, bundle: Bundle, party: str, head: ChainHead | None, chain_read: bool, why: str
    ) -> dict[str, Any]:
        found = self._get_verifier() if chain_read else None
        if head is None or found is None:
            verdict = verify_without_chain(
                document, bundle, party, self.manifest(), why, ca_certificates=self.cas
            )
            return verdict.to_dict()
        return found.verify(document, bundle, party, head=head).to_dict()

    def trusted(self, bundle: Bundle, field: str = "bundle") -> None:
        """Refuse (422) a bundle for another chain or registry before acting on it."""
        m = self.manifest()
        a = bundle.anchor
        if a.chain_id != m.chain_id or a.registry.lower() != m.document_registry.address.lower():
            raise ApiError(
                422,
                "FOREIGN_BUNDLE",
                f"the bundle belongs to registry {a.registry} on chain {a.chain_id}, not the trusted one",
                field=field,
            )

    def close(self) -> None:
        self.heads.close()
        self._thread.shutdown(wait=False, cancel_futures=True)
