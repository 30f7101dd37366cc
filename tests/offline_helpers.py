"""Witnesses, trust packs and offline verifiers on top of an issuing Scenario (tests/issuing_helpers.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from anchor.audit.source import AuditSource
from anchor.bundle import Bundle
from anchor.checkpoint.note import SignedCheckpoint, cosign
from anchor.checkpoint.pack import Consistency, Pins, TrustPack
from anchor.checkpoint.state import Checkpointer
from anchor.checkpoint.status import refreshed
from anchor.verify.offline import OfflineVerifier
from tests.issuing_helpers import Scenario

# Dev accounts the witnesses use (the scenario's issuer is 4, its consumers 7).
WITNESS_INDEX = {"SG": 20, "TH": 21, "MY": 22}


@dataclass
class OfflineKit:
    """A scenario's registries seen through checkpoints: witnesses granted, packs made at the head."""

    scenario: Scenario
    witnesses: dict[str, LocalAccount] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario) -> OfflineKit:
        kit = cls(scenario)
        w = scenario.world
        admins = {"SG": w.sg, "TH": w.th, "MY": w.my}
        for party, index in WITNESS_INDEX.items():
            account = w.account(index)
            w.reg.trust.grant_witness(admins[party], account.address)
            kit.witnesses[party] = account
        return kit

    def checkpointer(self) -> Checkpointer:
        w = self.scenario.world
        source = AuditSource.from_chain(w.chain, w.reg.manifest)
        checkpointer = Checkpointer(source)
        checkpointer.advance(source.head())
        return checkpointer

    def pack(
        self,
        checkpointer: Checkpointer,
        signers: Sequence[str] = ("SG", "TH"),
        *,
        keys: dict[str, bytes] | None = None,
        since: Sequence[tuple[int, bytes]] = (),
    ) -> TrustPack:
        cp = checkpointer.checkpoint
        assert cp is not None
        keys = keys or {}
        cosigs = tuple(cosign(cp, p, keys.get(p) or bytes(self.witnesses[p].key)) for p in signers)
        consistency = tuple(
            Consistency(size, root, tuple(checkpointer.log.consistency_proof(size, cp.size)))
            for size, root in since
            if size < cp.size
        )
        return TrustPack(SignedCheckpoint(cp, cosigs), checkpointer.trust, consistency)

    def pins(self, checkpointer: Checkpointer, *, with_checkpoint: bool = False) -> Pins:
        cp = checkpointer.checkpoint
        assert cp is not None
        return Pins.of(checkpointer.snapshot, cp, accepted=with_checkpoint)

    def refresh(self, checkpointer: Checkpointer, bundle: Bundle) -> Bundle:
        return Bundle.from_json(refreshed(checkpointer, bundle).to_json())

    def verifier(
        self, pack: TrustPack, pins: Pins, *, now: int | None = None, **kwargs: Any
    ) -> OfflineVerifier:
        clock_time = pack.checkpoint.block_time if now is None else now
        kwargs.setdefault("max_age", 24 * 3600)
        return OfflineVerifier(pack, pins, self.scenario.manifest, clock=lambda: clock_time, **kwargs)
