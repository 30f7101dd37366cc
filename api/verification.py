"""Verification for the API: the library's Verifier, run on the event loop, and a chain-less fallback.

The head block comes from `HeadRequests` (asynchronous, shared between concurrent verifications; see
api/heads.py) and is handed to the Verifier, whose own reads are then answered from its head-synced
cache; only when the head moved does it read the chain (the registries' logs since its last head).
All of this runs on the event loop's thread, so one Verifier and its caches serve every request.

A Verifier needs a chain connection to exist. While the node is down (even since start-up) the
service still answers with the library's `verify_without_chain`: the checks that need no chain run,
the others are ERROR CHAIN_UNAVAILABLE, and the verdict is INDETERMINATE - the same verdict the
Verifier gives when the node fails under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography import x509

from anchor.bundle import Bundle
from anchor.deploy import Manifest
from anchor.errors import ChainUnavailable, ConfigError
from anchor.verify import Verifier, verify_without_chain

from .gateway import ChainGateway
from .heads import HeadRequests
from .problems import ApiError


class VerificationService:
    def __init__(self, gateway: ChainGateway, confirmations: int, cas: Sequence[x509.Certificate]) -> None:
        self.gateway = gateway
        self.confirmations = confirmations
        self.cas = list(cas)
        self.heads = HeadRequests(gateway.url)
        self._verifier: Verifier | None = None

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
        for after `arrived` (time.monotonic() when the request came in). Runs on the event loop."""
        try:
            head = await self.heads.head(arrived)
            found = self._get_verifier()
        except ChainUnavailable as e:
            head, found, why = None, None, str(e)
        else:
            why = f"chain unreachable at {self.gateway.url}"
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
