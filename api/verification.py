"""Verification for the API: the library's Verifier, on one thread of its own, and a chain-less fallback.

The head block comes from `HeadRequests` (awaited off the loop, shared between concurrent
verifications; see api/ledger.py) and is handed to the Verifier, whose own reads are then answered from its head-synced
cache; only when the head moved does it read the chain (the registries' logs since its last head).
One Verifier and its caches serve every request, so it is never used by two threads at once: every
verification runs on the service's one verification thread, never on the event loop, which meanwhile
keeps answering other requests (a large document's canonicalization takes time in proportion to its
size, and a head that moved costs the Verifier a round trip to the node).

A Verifier needs a chain connection to exist. While the node is down (even since start-up) the
service still answers with the library's `verify_without_chain`: the checks that need no chain run,
the others are ERROR CHAIN_UNAVAILABLE, and the verdict is INDETERMINATE - the same verdict the
Verifier gives when the node fails under it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from anchor.bundle import Bundle
from anchor.deploy import Manifest
from anchor.errors import ChainUnavailable, ConfigError
from anchor.verify import ChainHead, Verifier, verify_without_chain
from anchor.verify.offline import OfflineVerifier, age_words

from .ledger import ChainGateway, HeadRequests
from .models import PartyList, PartyView, VerdictView
from .offline import TrustPacks, offline_verifier
from .problems import ApiError


@dataclass(frozen=True)
class OfflineSettings:
    """Verify from the trust pack alone (`serve --offline`): its file, the pinned witnesses, the oldest
    checkpoint accepted."""

    packs: TrustPacks
    pins: Path
    max_age: int
    clock: Callable[[], float] = time.time  # what "now" is for a checkpoint's age


class VerificationService:
    def __init__(
        self,
        gateway: ChainGateway,
        confirmations: int,
        cas: Sequence[x509.Certificate],
        *,
        offline: OfflineSettings | None = None,
    ) -> None:
        self.gateway = gateway
        self.confirmations = confirmations
        self.cas = list(cas)
        self.heads = HeadRequests(gateway.url)
        self.offline = offline
        self._verifier: Verifier | None = None
        self._offline: tuple[int, OfflineVerifier] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="trustanchor-verify")

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

    async def verify(self, document: bytes, bundle: Bundle, party: str, arrived: float) -> VerdictView:
        """The verdict (the structure of `trustanchor verify --json`), read at a head block asked for
        after `arrived` (time.monotonic() when the request came in); offline, as of the trust pack's
        checkpoint, without asking any node."""
        loop = asyncio.get_running_loop()
        if self.offline is not None:
            return await loop.run_in_executor(self._thread, self._offline_verdict, document, bundle, party)
        try:
            head = await self.heads.head(arrived)
        except ChainUnavailable as e:
            head, chain_read, why = None, False, str(e)
        else:
            chain_read, why = True, f"chain unreachable at {self.gateway.url}"
        return await loop.run_in_executor(
            self._thread, self._verdict, document, bundle, party, head, chain_read, why
        )

    def _verdict(
        self, document: bytes, bundle: Bundle, party: str, head: ChainHead | None, chain_read: bool, why: str
    ) -> VerdictView:
        found = self._get_verifier() if chain_read else None
        if head is None or found is None:
            verdict = verify_without_chain(
                document, bundle, party, self.manifest(), why, ca_certificates=self.cas
            )
        else:
            verdict = found.verify(document, bundle, party, head=head)
        return VerdictView.model_validate(verdict.to_dict())

    def _offline_verdict_verifier(self) -> OfflineVerifier:
        """The verifier of the current pack (rebuilt when the pack file changes)."""
        assert self.offline is not None
        pack, _ = self.offline.packs.current()
        if self._offline is None or self._offline[0] != id(pack):
            verifier = offline_verifier(
                self.offline.packs,
                self.offline.pins,
                self.manifest(),
                self.offline.max_age,
                self.cas,
                clock=self.offline.clock,
            )
            self._offline = (id(pack), verifier)
        return self._offline[1]

    def _offline_verdict(self, document: bytes, bundle: Bundle, party: str) -> VerdictView:
        verdict = self._offline_verdict_verifier().verify(document, bundle, party)
        return VerdictView.model_validate(verdict.to_dict())

    def offline_readiness(self) -> tuple[bool, dict[str, Any]]:
        """Offline, the service is ready when its trust pack is readable, accepted by the pinned witness
        keys and younger than the maximum age."""
        assert self.offline is not None
        try:
            self._offline_verdict_verifier()
        except ApiError as e:
            return False, {"trustPack": {"ok": False, "detail": e.detail}}
        assert self._offline is not None
        verifier = self._offline[1]
        cp, accepted = verifier.checkpoint, verifier.accepted
        age = max(0, int(self.offline.clock()) - cp.block_time)
        fresh = age <= self.offline.max_age
        detail = (
            f"checkpoint of {cp.size} events at block {cp.block}, {age_words(age)} old; {accepted.message}"
        )
        return accepted.ok and fresh, {
            "trustPack": {
                "ok": accepted.ok and fresh,
                "code": accepted.code
                if accepted.ok and fresh
                else ("STALE_CHECKPOINT" if accepted.ok else accepted.code),
                "detail": detail,
                "events": cp.size,
                "block": cp.block,
                "blockTime": cp.block_time,
                "ageSeconds": age,
            }
        }

    def offline_parties(self) -> PartyList:
        """The parties as the trust pack's checkpoint has them (offline, the page's "Verifying as")."""
        verifier = self._offline_verdict_verifier()
        s = verifier.accepted.snapshot
        if s is None:
            raise ApiError(503, verifier.accepted.code, verifier.accepted.message)
        return PartyList(
            block=verifier.checkpoint.block,
            at=None,
            threshold=s.threshold,
            parties=[
                PartyView(
                    party=pid,
                    member=p.member,
                    admins=list(p.admins),
                    cas=["0x" + c.hex() for c in p.cas],
                    issuers=list(p.issuers),
                )
                for pid, p in sorted(s.parties.items())
            ],
        )

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
