"""Property: online and offline verification give the same verdict for the same state.

Hypothesis draws a random history of registry actions (revocations, supersession, uses of one-time
permits, issuer and CA status changes, recognition, time passing; some refused by the contracts, which
leaves no trace) on top of an issuing scenario on anvil. Then, at the head block, every bundle is
verified by each member party twice: online by the Verifier reading the node, and offline by an
OfflineVerifier holding only a witnessed trust pack made at that block and the bundle refreshed with
its status proof. Every check (name, status, code, message) and the decision must be the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor.bundle import Bundle
from anchor.checkpoint.pack import TrustPack
from anchor.doctypes import mask_of
from anchor.errors import ContractRevert
from anchor.issuing.leaf import Terms
from anchor.registry import DocumentProof, Opening
from anchor.verify import Verdict
from tests.conftest import World, advance_time, dev_rpc
from tests.issuing_helpers import ORIGIN, PERMIT, PHYTO, Scenario, build_scenario, json_doc
from tests.offline_helpers import OfflineKit

# `world` is on anvil (the embedded chain would retest the same Python, see tests/conftest.py), and each
# example starts from a snapshot of the state after setup.
pytestmark = pytest.mark.devchain("evm_snapshot/evm_revert around each example, evm_increaseTime")

PARTIES = ("TH", "SG", "MY")
MASKS = [mask_of([PHYTO]), mask_of([PERMIT]), mask_of([PHYTO, ORIGIN, PERMIT])]
# Seconds an effective time is backdated by (0: now); the larger ones reach back before the anchoring.
BACKDATE = [0, 0, 5, 600, 100_000]
ADVANCE = [1, 90, 3600, 90_000]
CONSUMER_INDEX = {"TH": 7, "SG": 8, "MY": 9}  # one consumer account per party (dev accounts)


@dataclass
class History:
    """The scenario and what the random actions pick from."""

    sc: Scenario
    kit: OfflineKit
    items: list[tuple[bytes, Bundle]]  # every issued document with its bundle
    phyto: list[Bundle]  # two batches of phytosanitary certificates (successors for supersede)
    permits: list[Bundle]  # one-time permits: to TH, to TH with a quantity, to MY

    @property
    def world(self) -> World:
        return self.sc.world


def setup_history(world: World, tmp_path: Path) -> History:
    sc = build_scenario(world, tmp_path)
    amended = [json_doc(10 + i, amendment="corrected consignee") for i in range(2)]
    second = sc.issue(amended)
    permit_docs, permits = sc.issue_permits(1, Terms(destination="TH"))
    counted_docs, counted = sc.issue_permits(1, Terms(destination="TH", quantity=500, unit="pieces"), first=1)
    my_docs, to_my = sc.issue_permits(1, Terms(destination="MY"), first=2)
    kit = OfflineKit.of(sc)
    for party in PARTIES:
        sc.consumer(party, CONSUMER_INDEX[party])
    docs = [*sc.docs, *amended, *permit_docs, *counted_docs, *my_docs]
    bundles = [*sc.bundles, *second, *permits, *counted, *to_my]
    return History(
        sc, kit, list(zip(docs, bundles, strict=True)), [*sc.bundles, *second], [*permits, *counted, *to_my]
    )


def act(h: History, action: str, a: int, b: int) -> None:
    """One registry action; `a` and `b` pick its target and parameters."""
    w, sc = h.world, h.sc
    trust, documents = w.reg.trust, w.reg.documents
    admins = {"SG": w.sg, "TH": w.th, "MY": w.my}
    backdate = BACKDATE[b % len(BACKDATE)]
    effective = w.now() - backdate if backdate else 0
    phyto = h.phyto[a % len(h.phyto)]
    permit = h.permits[a % len(h.permits)]
    # Mostly the issuer's own party acts; sometimes another party's admin, which the registry refuses.
    actor = sc.issuer if b % 3 else admins[PARTIES[b % 3]]
    if action == "revoke_document":
        documents.revoke_document(actor, DocumentProof.of(phyto if a % 4 else permit), 16)
    elif action == "revoke_batch":
        target = phyto if a % 4 else permit
        documents.revoke_batch(actor, target.anchor.issuer, bytes.fromhex(target.batch.root[2:]), b % 20)
    elif action == "supersede":
        successor = h.phyto[(a + 1 + b) % len(h.phyto)]
        documents.supersede(actor, DocumentProof.of(phyto), DocumentProof.of(successor))
    elif action in ("consume", "endorse"):
        # Mostly the destination's consumer (the only one allowed), sometimes another party's.
        destination = permit.terms.destination or "TH"
        party = destination if b % 4 else PARTIES[b % 3]
        consumer = sc.consumer(party, CONSUMER_INDEX[party])
        proof, opening = DocumentProof.of(permit), Opening.of(permit)
        if action == "consume":
            documents.consume(consumer, proof, opening)
        else:
            documents.endorse(consumer, proof, opening, [1, 200, 499, 500][b % 4])
    elif action == "issuer_status":
        issuer_fn = (trust.suspend_issuer, trust.revoke_issuer)[a % 2]
        issuer_fn(w.sg, sc.issuer.address, effective, 9)
    elif action == "resume_issuer":
        trust.resume_issuer(w.sg, sc.issuer.address, effective)
    elif action == "ca_status":
        ca_fn = (trust.suspend_ca, trust.revoke_ca)[a % 2]
        ca_fn(w.sg, sc.fingerprint, effective, 1)
    elif action == "resume_ca":
        trust.resume_ca(w.sg, sc.fingerprint, effective)
    elif action in ("recognize", "unrecognize"):
        party = PARTIES[a % 3]
        getattr(trust, action)(admins[party], "SG", MASKS[b % len(MASKS)], effective)
    elif action == "advance_time":
        advance_time(w.chain, ADVANCE[a % len(ADVANCE)])
    else:
        raise AssertionError(action)


ACTIONS = st.tuples(
    st.sampled_from(
        [
            "revoke_document",
            "revoke_batch",
            "supersede",
            "consume",
            "consume",
            "endorse",
            "endorse",
            "issuer_status",
            "resume_issuer",
            "ca_status",
            "ca_status",
            "resume_ca",
            "recognize",
            "unrecognize",
            "unrecognize",
            "advance_time",
            "advance_time",
        ]
    ),
    st.integers(0, 15),
    st.integers(0, 15),
)


@contextlib.contextmanager
def back_to_setup(world: World) -> Iterator[None]:
    """Run one example from the state right after setup, and leave that state behind for the next.

    The `world` fixture is per test function, not per hypothesis example, and issuing anew for each
    example would cost more than the example: a snapshot of the setup state, reverted to after each
    example (anvil forgets a snapshot once reverted to, hence a new one each time), gives every
    example the same start. It sits inside the `world` fixture's own snapshot, which stays untouched.
    """
    url = world.chain.config.url
    snapshot = dev_rpc(url, "evm_snapshot")
    try:
        yield
    finally:
        assert dev_rpc(url, "evm_revert", [snapshot]) is True


def _checks(verdict: Verdict) -> list[tuple[str, str, str, str, bool]]:
    # Messages too: offline, a border officer reads the same sentence (successor, consumer, dates).
    return [(c.name, c.status.value, c.code, c.message, c.warning) for c in verdict.checks]


def test_online_and_offline_verdicts_agree_after_random_histories(world: World, tmp_path: Path) -> None:
    h = setup_history(world, tmp_path)
    setup_block = world.chain.block_number()
    seen: dict[str, set[str]] = {}

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(history=st.lists(ACTIONS, min_size=1, max_size=8))
    def agree(history: list[tuple[str, int, int]]) -> None:
        with back_to_setup(world):
            assert world.chain.block_number() == setup_block
            for action, a, b in history:
                with contextlib.suppress(ContractRevert):  # a refused action leaves no trace
                    act(h, action, a, b)
            checkpointer = h.kit.checkpointer()
            cp = checkpointer.checkpoint
            assert cp is not None
            # The pack goes through its file form, as a verifier receives it.
            pack = TrustPack.from_json(h.kit.pack(checkpointer).to_json())
            offline = h.kit.verifier(pack, h.kit.pins(checkpointer))
            assert offline.accepted.ok, offline.accepted.message
            online = h.sc.verifier()
            for doc, bundle in h.items:
                refreshed = h.kit.refresh(checkpointer, bundle)
                for party in PARTIES:
                    on = online.verify(doc, bundle, party)
                    off = offline.verify(doc, refreshed, party)
                    assert (on.read_at_block, on.read_at_block_hash) == (cp.block, cp.block_hash)
                    assert _checks(off) == _checks(on), (history, bundle.document.name, party)
                    assert off.verdict == on.verdict
                    assert (off.terms, off.anchored_at) == (on.terms, on.anchored_at)
                    assert off.details["asOf"]["block"] == cp.block
                    for name, _, code, _, _ in _checks(on):
                        seen.setdefault(name, set()).add(code)

    agree()
    # The histories reached more than the happy path: without this the property could hold vacuously.
    assert {"DOCUMENT_REVOKED", "BATCH_REVOKED", "SUPERSEDED", "CONSUMED"} & seen["document_status"], seen
    assert len(seen["document_status"]) >= 3 and len(seen["ca_status"]) >= 2, seen
    assert len(seen["recognition"]) >= 2 and len(seen["terms"]) >= 2, seen
