"""DocumentRegistry: anchoring, batch/document lifecycle, one-time consumption and endorsement under the
leaf's terms, time views, inclusion proofs.

Every test runs on anvil and on the embedded py-evm chain (marked parity).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from functools import cache

import pytest
from eth_account.signers.local import LocalAccount

from anchor.deploy import party_id
from anchor.errors import ContractRevert
from anchor.issuing.leaf import Terms, leaf_hash
from anchor.issuing.merkle import MerkleTree, proof_length, root_from_proof, verify_inclusion
from anchor.registry import ZERO_ADDRESS, DocumentProof, Opening, ProposalKind, Role, Status
from tests.conftest import World, advance_time
from tests.registry_helpers import (
    CERTIFICATE,
    PERMIT,
    PHYTO,
    ZERO8,
    ZERO32,
    AnchoredBatch,
    IssuerSetup,
    add_ca,
    add_consumer,
    add_issuer,
    anchor_batch,
    bit,
    call,
    checksummed,
    doc_state_at,
    event,
    events,
    make_docs,
    pass_proposal,
    rand32,
    random_tree,
    reverts,
    send,
    tx_time,
)

# Every contract function and error on both EVMs (tests/conftest.py: the parity set).
pytestmark = pytest.mark.parity

TO_TH = Terms(destination="TH")
TO_MY = Terms(destination="MY")
TO_SG = Terms(destination="SG")


@dataclass(frozen=True)
class Env:
    """SG issues permits and CITES certificates; TH issues permits; TH recognizes SG for permits only.
    Each party's border service holds a consumer account."""

    world: World
    sg_issuer: IssuerSetup  # account 4: PERMIT + CERTIFICATE
    sg_issuer2: IssuerSetup  # account 5: PERMIT, same party and CA
    th_issuer: IssuerSetup  # account 6: PERMIT
    th_consumer: LocalAccount  # account 7
    my_consumer: LocalAccount  # account 8
    stranger: LocalAccount  # account 9: nobody
    sg_consumer: LocalAccount  # account 10


@pytest.fixture
def env(world: World) -> Env:
    sg_ca = add_ca(world, world.sg, bit(PERMIT, CERTIFICATE, PHYTO))
    sg_issuer = add_issuer(world, world.sg, 4, bit(PERMIT, CERTIFICATE), ca=sg_ca)
    sg_issuer2 = add_issuer(world, world.sg, 5, bit(PERMIT), ca=sg_ca)
    th_issuer = add_issuer(world, world.th, 6, bit(PERMIT))
    th_consumer = add_consumer(world, world.th, 7)
    my_consumer = add_consumer(world, world.my, 8)
    sg_consumer = add_consumer(world, world.sg, 10)
    world.reg.trust.recognize(world.th, "SG", bit(PERMIT))
    return Env(
        world, sg_issuer, sg_issuer2, th_issuer, th_consumer, my_consumer, world.account(9), sg_consumer
    )


def tampered(proof: DocumentProof, **changes: object) -> DocumentProof:
    return replace(proof, **changes)  # type: ignore[arg-type]


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def make_one_time(world: World, *types: int) -> None:
    """The consortium makes `types` (besides permits) consumable."""
    pass_proposal(world, [world.sg, world.th], ProposalKind.SET_ONE_TIME_TYPES, doc_types=bit(PERMIT, *types))


NO_STATE = {
    "revokedAt": 0,
    "revokeReason": 0,
    "supersededAt": 0,
    "consumedAt": 0,
    "consumedBy": ZERO8,
    "endorsed": 0,
}


# ====================================================================== anchoring


def test_anchor_records_the_batch(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    tree = random_tree(7)
    r = d.anchor(env.sg_issuer.account, tree.root, CERTIFICATE, 7)
    at = tx_time(w, r)
    assert event(w, r, "Anchored") == {
        "root": tree.root,
        "issuer": env.sg_issuer.address,
        "docType": CERTIFICATE,
        "size": 7,
    }
    assert checksummed(d.batch(env.sg_issuer.address, tree.root)) == {
        "issuer": env.sg_issuer.address,
        "anchoredAt": at,
        "docType": CERTIFICATE,
        "size": 7,
    }
    view = d.document(env.sg_issuer.address, tree.root, tree.leaf(3))
    assert view["batch"] == d.batch(env.sg_issuer.address, tree.root)
    assert view["party"] == party_id("SG")
    assert view["batchRevocation"] == {"revokedAt": 0, "reason": 0}
    assert view["state"] == NO_STATE
    assert (view["successorIssuer"], view["successorRoot"], view["successorLeaf"]) == (
        ZERO_ADDRESS,
        ZERO32,
        ZERO32,
    )
    assert d.batch(env.sg_issuer.address, rand32())["anchoredAt"] == 0
    # A batch is the issuer's: the same root under another account is no batch.
    assert d.batch(env.sg_issuer2.address, tree.root)["anchoredAt"] == 0
    assert d.document(env.sg_issuer2.address, tree.root, tree.leaf(3))["party"] == ZERO8


def test_anchor_by_unauthorized_accounts(env: Env) -> None:
    d = env.world.reg.documents
    # Nobody, an admin, and a consumer account: none is an issuer.
    for who in (env.stranger, env.world.sg, env.th_consumer):
        with reverts("IssuerNotActive", account=who):
            d.anchor(who, rand32(), PERMIT, 1)


def test_anchor_by_suspended_issuer(env: Env) -> None:
    w = env.world
    w.reg.trust.suspend_issuer(w.sg, env.sg_issuer.address)
    with reverts("IssuerNotActive", account=env.sg_issuer.account):
        anchor_batch(w, env.sg_issuer)
    anchor_batch(w, env.sg_issuer2)  # the party's other issuers are unaffected
    w.reg.trust.resume_issuer(w.sg, env.sg_issuer.address)
    anchor_batch(w, env.sg_issuer)


def test_anchor_by_revoked_issuer(env: Env) -> None:
    w = env.world
    w.reg.trust.revoke_issuer(w.sg, env.sg_issuer.address)
    with reverts("IssuerNotActive", account=env.sg_issuer.account):
        anchor_batch(w, env.sg_issuer)
    with reverts("IssuerNotActive", account=env.sg_issuer.account):
        w.reg.documents.anchor_many(env.sg_issuer.account, [rand32()], [PERMIT], [1])


def test_anchor_doc_type_not_allowed(env: Env) -> None:
    d = env.world.reg.documents
    for doc_type in (PHYTO, 63, 64, 255):  # PHYTO is in the CA's types but not the issuer's
        with reverts("DocumentTypeNotAllowed", account=env.sg_issuer.account, docType=doc_type):
            d.anchor(env.sg_issuer.account, rand32(), doc_type, 1)
    with reverts("DocumentTypeNotAllowed", account=env.sg_issuer2.account, docType=CERTIFICATE):
        d.anchor(env.sg_issuer2.account, rand32(), CERTIFICATE, 1)


@pytest.mark.devchain("evm_increaseTime")
def test_anchor_duplicate_root(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    advance_time(w.chain, 10)
    with reverts(
        "RootAlreadyAnchored", root=batch.root, issuer=env.sg_issuer.account, anchoredAt=batch.anchored_at
    ):
        d.anchor(env.sg_issuer.account, batch.root, PERMIT, batch.size)
    # Another account anchoring the same root makes a batch of its own and leaves the first one alone.
    for who in (env.sg_issuer2, env.th_issuer):
        r = d.anchor(who.account, batch.root, PERMIT, batch.size)
        assert checksummed(d.batch(who.address, batch.root)) == {
            "issuer": who.address,
            "anchoredAt": tx_time(w, r),
            "docType": PERMIT,
            "size": batch.size,
        }
        with reverts("RootAlreadyAnchored", root=batch.root, issuer=who.account, anchoredAt=tx_time(w, r)):
            d.anchor(who.account, batch.root, PERMIT, batch.size)
    assert checksummed(d.batch(env.sg_issuer.address, batch.root)) == {
        "issuer": env.sg_issuer.address,
        "anchoredAt": batch.anchored_at,
        "docType": PERMIT,
        "size": batch.size,
    }
    assert d.document(env.th_issuer.address, batch.root, batch.leaf(0))["party"] == party_id("TH")
    assert d.document(env.sg_issuer.address, batch.root, batch.leaf(0))["party"] == party_id("SG")


def test_anchor_zero_root_and_zero_size(env: Env) -> None:
    d = env.world.reg.documents
    with reverts("InvalidRoot"):
        d.anchor(env.sg_issuer.account, ZERO32, PERMIT, 1)
    with reverts("InvalidBatchSize", size=0):
        d.anchor(env.sg_issuer.account, rand32(), PERMIT, 0)


def test_anchor_many(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    acc = env.sg_issuer.account
    roots = [rand32() for _ in range(3)]
    r = d.anchor_many(acc, roots, [PERMIT, CERTIFICATE, PERMIT], [1, 2, 2**32 - 1])
    at = tx_time(w, r)
    assert events(w, r, "Anchored") == [
        {"root": roots[0], "issuer": acc.address, "docType": PERMIT, "size": 1},
        {"root": roots[1], "issuer": acc.address, "docType": CERTIFICATE, "size": 2},
        {"root": roots[2], "issuer": acc.address, "docType": PERMIT, "size": 2**32 - 1},
    ]
    assert [checksummed(d.batch(acc.address, x)) for x in roots] == [
        {"issuer": acc.address, "anchoredAt": at, "docType": PERMIT, "size": 1},
        {"issuer": acc.address, "anchoredAt": at, "docType": CERTIFICATE, "size": 2},
        {"issuer": acc.address, "anchoredAt": at, "docType": PERMIT, "size": 2**32 - 1},
    ]

    x, y = rand32(), rand32()
    with reverts("LengthMismatch", roots=2, docTypes=1, sizes=2):
        d.anchor_many(acc, [x, y], [PERMIT], [1, 1])
    with reverts("LengthMismatch", roots=2, docTypes=2, sizes=3):
        d.anchor_many(acc, [x, y], [PERMIT, PERMIT], [1, 1, 1])
    with reverts("LengthMismatch", roots=1, docTypes=2, sizes=2):
        d.anchor_many(acc, [x], [PERMIT, PERMIT], [1, 1])
    # A duplicate inside the same call, and a duplicate of an earlier batch: all or nothing.
    with reverts("RootAlreadyAnchored", root=y, issuer=acc):
        d.anchor_many(acc, [x, y, y], [PERMIT] * 3, [1] * 3)
    with reverts("RootAlreadyAnchored", root=roots[1], issuer=acc, anchoredAt=at):
        d.anchor_many(acc, [x, roots[1]], [PERMIT] * 2, [1] * 2)
    with reverts("DocumentTypeNotAllowed", account=acc, docType=PHYTO):
        d.anchor_many(acc, [x, y], [PERMIT, PHYTO], [1, 1])
    with reverts("InvalidRoot"):
        d.anchor_many(acc, [x, ZERO32], [PERMIT] * 2, [1] * 2)
    with reverts("InvalidBatchSize", size=0):
        d.anchor_many(acc, [x, y], [PERMIT] * 2, [1, 0])
    with reverts("IssuerNotActive", account=env.stranger):
        d.anchor_many(env.stranger, [x], [PERMIT], [1])
    assert d.batch(acc.address, x)["anchoredAt"] == 0
    assert d.batch(acc.address, y)["anchoredAt"] == 0
    # Another issuer's batches of the same roots are its own.
    d.anchor_many(env.sg_issuer2.account, roots, [PERMIT] * 3, [1] * 3)
    assert d.batch(acc.address, roots[1])["docType"] == CERTIFICATE


def test_anchoring_one_root_costs_at_most_50000_gas(env: Env) -> None:
    d = env.world.reg.documents
    gas = []
    for _ in range(3):
        r = d.anchor(env.sg_issuer.account, rand32(), PERMIT, 1000)
        gas.append(r.gas_used)
    # Worst-case calldata: no zero byte anywhere in the root, a nonzero type, the largest size.
    worst = bytes(random.randrange(1, 256) for _ in range(32))
    gas.append(d.anchor(env.sg_issuer.account, worst, CERTIFICATE, 2**32 - 1).gas_used)
    assert max(gas) <= 50_000, gas


def test_sync_issuer_only_from_the_trust_registry(env: Env) -> None:
    w = env.world
    for who in (w.sg, env.stranger, env.sg_issuer.account):
        with reverts("NotTrustRegistry", caller=who):
            send(w, who, w.reg.documents, "syncIssuer", who.address, party_id("SG"), 2**64 - 1, True)
    assert not w.reg.documents.issuer_auth(env.stranger.address)["active"]


def test_leaf_of_is_the_leaf_v2_layout(env: Env) -> None:
    d = env.world.reg.documents
    salt, digest = bytes(range(16)), bytes(range(32))
    for doc_type, terms in (
        (PERMIT, Terms()),
        (PERMIT, Terms("TH", 1_700_000_000, 1_800_000_000, 12, "KG")),
        (CERTIFICATE, Terms("SG", 0, 2**40 - 1, 2**64 - 1, "PCS")),
        (63, Terms(valid_from=1)),
    ):
        doc = make_docs(1, doc_type, terms)[0]
        doc = replace(doc, salt=salt, digest=digest)
        assert d.leaf_of(doc.opening, doc_type) == leaf_hash(doc_type, salt, digest, terms) == doc.leaf
        assert d.leaf_of(doc.opening, (doc_type + 1) % 64) != doc.leaf  # the type is committed too


# ====================================================================== batch revocation


@pytest.mark.devchain("evm_increaseTime")
def test_revoke_batch(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    issuer = env.sg_issuer.address
    with reverts("NotIssuingParty", root=batch.root, callerParty="TH", issuingParty="SG"):
        d.revoke_batch(w.th, issuer, batch.root)
    with reverts("NotIssuingParty", root=batch.root, callerParty="TH", issuingParty="SG"):
        d.revoke_batch(env.th_issuer.account, issuer, batch.root)
    # Another issuer account of the same party acts only on its own batches.
    with reverts("NotBatchIssuer", root=batch.root, caller=env.sg_issuer2.account, issuer=issuer):
        d.revoke_batch(env.sg_issuer2.account, issuer, batch.root)
    for who in (env.stranger, env.sg_consumer):
        with reverts("NotAuthorizedForParty", account=who):
            d.revoke_batch(who, issuer, batch.root)
    unknown = rand32()
    with reverts("UnknownBatch", issuer=issuer, root=unknown):
        d.revoke_batch(w.sg, issuer, unknown)
    with reverts("UnknownBatch", issuer=env.sg_issuer2.address, root=batch.root):
        d.revoke_batch(w.sg, env.sg_issuer2.address, batch.root)

    r = d.revoke_batch(w.sg, issuer, batch.root, reason=5)
    at = tx_time(w, r)
    assert event(w, r, "BatchRevocationRecorded") == {
        "root": batch.root,
        "issuer": issuer,
        "party": party_id("SG"),
        "reason": 5,
        "account": w.sg.address,
    }
    view = d.document(issuer, batch.root, batch.leaf(0))
    assert view["batchRevocation"] == {"revokedAt": at, "reason": 5}
    assert view["state"] == NO_STATE  # the batch is revoked, not each document
    advance_time(w.chain, 10)
    for who in (w.sg, env.sg_issuer.account):
        with reverts("BatchAlreadyRevoked", root=batch.root, revokedAt=at):
            d.revoke_batch(who, issuer, batch.root)
    # The issuer account that anchored a batch may revoke it itself.
    other = anchor_batch(w, env.sg_issuer2)
    r = d.revoke_batch(env.sg_issuer2.account, env.sg_issuer2.address, other.root, reason=1)
    assert event(w, r, "BatchRevocationRecorded")["party"] == party_id("SG")
    assert event(w, r, "BatchRevocationRecorded")["account"] == env.sg_issuer2.address


# ====================================================================== document revocation


@pytest.mark.devchain("evm_increaseTime")
def test_revoke_document(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=5)
    p = batch.proof(2)
    r = d.revoke_document(w.sg, p, reason=3)
    at = tx_time(w, r)
    assert event(w, r, "DocumentRevoked") == {
        "root": p.root,
        "leaf": p.leaf,
        "party": party_id("SG"),
        "issuer": env.sg_issuer.address,
        "reason": 3,
        "account": w.sg.address,
    }
    state = d.document(p.issuer, p.root, p.leaf)["state"]
    assert (state["revokedAt"], state["revokeReason"]) == (at, 3)
    assert (
        d.document(p.issuer, p.root, batch.leaf(1))["state"]["revokedAt"] == 0
    )  # its neighbours are unaffected
    advance_time(w.chain, 10)
    with reverts("DocumentAlreadyRevoked", root=p.root, leaf=p.leaf, revokedAt=at):
        d.revoke_document(env.sg_issuer.account, p)
    # The issuer account that anchored the batch may revoke too; another of the party's may not.
    with reverts("NotBatchIssuer", root=p.root, caller=env.sg_issuer2.account, issuer=env.sg_issuer.account):
        d.revoke_document(env.sg_issuer2.account, batch.proof(4))
    r = d.revoke_document(env.sg_issuer.account, batch.proof(4))
    assert event(w, r, "DocumentRevoked")["account"] == env.sg_issuer.address
    assert d.document(p.issuer, p.root, batch.leaf(4))["state"]["revokedAt"] > 0


def test_revoke_document_with_wrong_proof_or_by_the_wrong_party(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=5)
    p = batch.proof(2)
    outsider = rand32()
    bad = {
        "wrong index": tampered(p, index=3),
        "index out of range": tampered(p, index=5),
        "tampered path": tampered(p, path=(flip(p.path[0]), *p.path[1:])),
        "short path": tampered(p, path=p.path[:-1]),
        "long path": tampered(p, path=(*p.path, rand32())),
        "leaf not in the batch": tampered(p, leaf=outsider),
        "another leaf's path": tampered(p, path=batch.proof(1).path),
        "interior node as leaf": DocumentProof(
            p.issuer, p.root, batch.tree.levels[1][1], 1, tuple(batch.tree.levels[1][::2])
        ),
    }
    for what, proof in bad.items():
        with reverts(
            "InvalidInclusionProof", root=proof.root, leaf=proof.leaf, index=proof.index, _what=what
        ):
            d.revoke_document(w.sg, proof)
    with reverts("NotIssuingParty", root=p.root, callerParty="TH", issuingParty="SG"):
        d.revoke_document(w.th, p)
    with reverts("NotIssuingParty", root=p.root, callerParty="TH", issuingParty="SG"):
        d.revoke_document(env.th_issuer.account, p)
    for who in (env.stranger, env.th_consumer, env.sg_consumer):
        with reverts("NotAuthorizedForParty", account=who):
            d.revoke_document(who, p)
    unknown = tampered(p, root=rand32())
    with reverts("UnknownBatch", issuer=p.issuer, root=unknown.root):
        d.revoke_document(w.sg, unknown)
    # The same root under another issuer is another batch (here: none).
    with reverts("UnknownBatch", issuer=env.sg_issuer2.address, root=p.root):
        d.revoke_document(w.sg, tampered(p, issuer=env.sg_issuer2.address))
    assert d.document(p.issuer, p.root, p.leaf)["state"]["revokedAt"] == 0


# ====================================================================== supersession


def test_supersede(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    old = anchor_batch(w, env.sg_issuer, n=3)
    new = anchor_batch(w, env.sg_issuer2, n=2)  # another issuer account of the same party
    a, b = old.proof(1), new.proof(0)
    r = d.supersede(w.sg, a, b)  # an admin acts on all of its party's batches
    at = tx_time(w, r)
    assert event(w, r, "DocumentSuperseded") == {
        "root": a.root,
        "leaf": a.leaf,
        "party": party_id("SG"),
        "issuer": env.sg_issuer.address,
        "successorIssuer": env.sg_issuer2.address,
        "successorRoot": b.root,
        "successorLeaf": b.leaf,
        "account": w.sg.address,
    }
    view = d.document(a.issuer, a.root, a.leaf)
    assert (view["successorIssuer"], view["successorRoot"], view["successorLeaf"]) == (
        env.sg_issuer2.address.lower(),
        b.root,
        b.leaf,
    )
    assert view["state"]["supersededAt"] == at
    successor = d.document(b.issuer, b.root, b.leaf)
    assert (successor["successorRoot"], successor["successorLeaf"], successor["state"]["supersededAt"]) == (
        ZERO32,
        ZERO32,
        0,
    )
    # A superseded document cannot be superseded again, nor become a successor (no cycles).
    c = new.proof(1)
    with reverts(
        "DocumentAlreadySuperseded", root=a.root, leaf=a.leaf, successorRoot=b.root, successorLeaf=b.leaf
    ):
        d.supersede(w.sg, a, c)
    with reverts(
        "DocumentAlreadySuperseded", root=a.root, leaf=a.leaf, successorRoot=b.root, successorLeaf=b.leaf
    ):
        d.supersede(w.sg, b, a)
    # The successor can itself be amended later, by the issuer account that anchored both; and within one
    # batch.
    r = d.supersede(env.sg_issuer2.account, b, c)
    assert event(w, r, "DocumentSuperseded")["account"] == env.sg_issuer2.address
    assert d.document(b.issuer, b.root, b.leaf)["successorLeaf"] == c.leaf
    d.supersede(env.sg_issuer.account, old.proof(0), old.proof(2))
    assert d.document(a.issuer, old.root, old.leaf(0))["successorLeaf"] == old.leaf(2)


def test_supersede_rejections(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    sg = anchor_batch(w, env.sg_issuer, n=4)
    sg2 = anchor_batch(w, env.sg_issuer2, n=2)
    th = anchor_batch(w, env.th_issuer, n=2)
    a, b = sg.proof(0), sg.proof(1)
    with reverts("SupersedeBySelf", root=a.root, leaf=a.leaf):
        d.supersede(w.sg, a, a)
    # cross-party successor
    with reverts("NotIssuingParty", root=th.root, callerParty="SG", issuingParty="TH"):
        d.supersede(w.sg, a, th.proof(0))
    with reverts("NotIssuingParty", root=a.root, callerParty="TH", issuingParty="SG"):
        d.supersede(w.th, a, th.proof(0))
    # An issuer account supersedes only documents it anchored, by documents it anchored.
    with reverts("NotBatchIssuer", root=a.root, caller=env.sg_issuer2.account, issuer=env.sg_issuer.account):
        d.supersede(env.sg_issuer2.account, a, sg2.proof(0))
    with reverts(
        "NotBatchIssuer", root=sg2.root, caller=env.sg_issuer.account, issuer=env.sg_issuer2.account
    ):
        d.supersede(env.sg_issuer.account, a, sg2.proof(0))
    with reverts("NotIssuingParty", root=th.root, callerParty="SG", issuingParty="TH"):
        d.supersede(env.sg_issuer.account, a, th.proof(0))
    for who in (env.stranger, env.sg_consumer):
        with reverts("NotAuthorizedForParty", account=who):
            d.supersede(who, a, b)
    unknown = tampered(b, root=rand32())
    with reverts("UnknownBatch", issuer=b.issuer, root=unknown.root):
        d.supersede(w.sg, a, unknown)
    with reverts("InvalidInclusionProof", root=a.root, leaf=a.leaf, index=1):
        d.supersede(w.sg, tampered(a, index=1), b)
    foreign = rand32()
    with reverts("InvalidInclusionProof", root=b.root, leaf=foreign, index=b.index):
        d.supersede(w.sg, a, tampered(b, leaf=foreign))
    r = d.revoke_document(w.sg, sg.proof(2))
    revoked_at = tx_time(w, r)
    with reverts("DocumentAlreadyRevoked", root=a.root, leaf=sg.leaf(2), revokedAt=revoked_at):
        d.supersede(w.sg, a, sg.proof(2))  # revoked successor
    with reverts("DocumentAlreadyRevoked", root=a.root, leaf=sg.leaf(2), revokedAt=revoked_at):
        d.supersede(w.sg, sg.proof(2), a)  # revoked original
    other = anchor_batch(w, env.sg_issuer, n=2)
    r = d.revoke_batch(w.sg, other.issuer.address, other.root)
    with reverts("BatchRevoked", root=other.root, revokedAt=tx_time(w, r)):
        d.supersede(w.sg, other.proof(0), a)
    with reverts("BatchRevoked", root=other.root, revokedAt=tx_time(w, r)):
        d.supersede(w.sg, a, other.proof(0))
    certificate = anchor_batch(w, env.sg_issuer, n=2, doc_type=CERTIFICATE)
    with reverts("DocumentTypeMismatch", docType=PERMIT, successorDocType=CERTIFICATE):
        d.supersede(w.sg, a, certificate.proof(0))  # a permit is not amended by a certificate
    # A used-up document is neither amended nor an amendment.
    permit = anchor_batch(w, env.sg_issuer, n=2, terms=TO_TH)
    r = d.consume(env.th_consumer, permit.proof(0), permit.opening(0))
    for original, successor in ((permit.proof(0), b), (b, permit.proof(0))):
        with reverts("DocumentAlreadyConsumed", root=permit.root, leaf=permit.leaf(0), consumedBy="TH"):
            d.supersede(w.sg, original, successor)
    assert d.document(a.issuer, a.root, a.leaf)["state"]["supersededAt"] == 0


# ====================================================================== one-time consumption


@pytest.mark.devchain("evm_increaseTime")
def test_consume_once_then_never_again(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=3, terms=[TO_TH, TO_TH, TO_SG])
    p = batch.proof(1)
    r = d.consume(env.th_consumer, p, batch.opening(1))
    at = tx_time(w, r)
    assert event(w, r, "DocumentConsumed") == {
        "root": p.root,
        "leaf": p.leaf,
        "consumer": party_id("TH"),
        "issuer": env.sg_issuer.address,
        "account": env.th_consumer.address,
    }
    assert events(w, r, "DocumentEndorsed") == []  # no quantity: consumed whole
    state = d.document(p.issuer, p.root, p.leaf)["state"]
    assert (state["consumedBy"], state["consumedAt"], state["endorsed"]) == (party_id("TH"), at, 0)
    advance_time(w.chain, 60)
    # Permit re-use: the destination's consumer is told who used it and when.
    second = add_consumer(w, w.th, 11)
    for who in (env.th_consumer, second):
        with reverts("DocumentAlreadyConsumed", root=p.root, leaf=p.leaf, consumedBy="TH", consumedAt=at):
            d.consume(who, p, batch.opening(1))
    assert d.document(p.issuer, p.root, batch.leaf(0))["state"]["consumedAt"] == 0  # only that one document
    d.consume(second, batch.proof(0), batch.opening(0))
    # The issuing party recognizes its own CA, so its consumer may consume documents destined to it.
    d.consume(env.sg_consumer, batch.proof(2), batch.opening(2))
    assert d.document(p.issuer, p.root, batch.leaf(2))["state"]["consumedBy"] == party_id("SG")


def test_consume_only_by_a_consumer_of_the_destination(env: Env) -> None:
    w, t, d = env.world, env.world.reg.trust, env.world.reg.documents
    w.reg.trust.recognize(w.my, "SG", bit(PERMIT))
    batch = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    p, opening = batch.proof(0), batch.opening(0)
    # Nobody, issuers, admins (of the destination too) and another party's consumer.
    for who in (env.stranger, env.sg_issuer.account, env.th_issuer.account, w.th, w.sg, env.my_consumer):
        with reverts("NotDestinationConsumer", account=who, destination="TH"):
            d.consume(who, p, opening)
    # A consumer account whose role was revoked, or whose party was removed.
    t.revoke_consumer(w.th, env.th_consumer.address)
    with reverts("NotDestinationConsumer", account=env.th_consumer, destination="TH"):
        d.consume(env.th_consumer, p, opening)
    t.grant_consumer(w.th, env.th_consumer.address)
    to_my = anchor_batch(w, env.sg_issuer, terms=TO_MY)
    pass_proposal(w, [w.sg, w.th], ProposalKind.REMOVE_PARTY, "MY")
    assert t.role_of(env.my_consumer.address) == (Role.NONE, "")
    with reverts("NotDestinationConsumer", account=env.my_consumer, destination="MY"):
        d.consume(env.my_consumer, to_my.proof(0), to_my.opening(0))
    # A document without destination is nobody's to consume.
    open_batch = anchor_batch(w, env.sg_issuer)
    for who in (env.th_consumer, env.sg_consumer):
        with reverts("NoDestination", root=open_batch.root, leaf=open_batch.leaf(0)):
            d.consume(who, open_batch.proof(0), open_batch.opening(0))
    assert d.document(p.issuer, p.root, p.leaf)["state"]["consumedAt"] == 0
    d.consume(env.th_consumer, p, opening)


def test_consume_only_one_time_types(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    w.reg.trust.recognize(w.th, "SG", bit(CERTIFICATE))
    certificate = anchor_batch(w, env.sg_issuer, doc_type=CERTIFICATE, terms=TO_TH)
    for name, op in {
        "consume": lambda: d.consume(env.th_consumer, certificate.proof(0), certificate.opening(0)),
        "endorse": lambda: d.endorse(env.th_consumer, certificate.proof(0), certificate.opening(0), 1),
    }.items():
        with reverts("NotOneTime", docType=CERTIFICATE, _what=name):
            op()
    make_one_time(w, CERTIFICATE)
    d.consume(env.th_consumer, certificate.proof(0), certificate.opening(0))
    # And the other way: permits that are no longer one-time cannot be consumed.
    permit = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    pass_proposal(w, [w.sg, w.th], ProposalKind.SET_ONE_TIME_TYPES, doc_types=bit(CERTIFICATE))
    with reverts("NotOneTime", docType=PERMIT):
        d.consume(env.th_consumer, permit.proof(0), permit.opening(0))


def test_consume_needs_the_leafs_opening(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    terms = Terms("TH", 0, 0, 0, "")
    batch = anchor_batch(w, env.sg_issuer, n=3, terms=terms)
    p, opening = batch.proof(1), batch.opening(1)
    wrong = {
        "commitment": Opening(flip(opening.commitment), terms),
        "zero commitment": Opening(ZERO32, terms),
        "another document's commitment": batch.opening(0),
        "validity added": Opening(opening.commitment, replace(terms, valid_until=2**40 - 1)),
        "quantity added": Opening(opening.commitment, replace(terms, quantity=5, unit="KG")),
    }
    for what, bad in wrong.items():
        for name, op in {
            "consume": lambda bad=bad: d.consume(env.th_consumer, p, bad),
            "endorse": lambda bad=bad: d.endorse(env.th_consumer, p, bad, 1),
        }.items():
            with reverts("TermsMismatch", root=p.root, leaf=p.leaf, _what=f"{name} with {what}"):
                op()
    # A leaf the terms do open, but not in the batch at that index: the proof is checked.
    with reverts("InvalidInclusionProof", root=p.root, leaf=p.leaf, index=2):
        d.consume(env.th_consumer, tampered(p, index=2), opening)
    d.consume(env.th_consumer, p, opening)


@pytest.mark.devchain("evm_increaseTime")
def test_consume_within_the_validity_period(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    start = w.now()
    valid_from, valid_until = start + 1000, start + 5000
    terms = Terms("TH", valid_from, valid_until)
    batch = anchor_batch(w, env.sg_issuer, n=3, terms=terms)
    with reverts("NotYetValid", validFrom=valid_from) as e:
        d.consume(env.th_consumer, batch.proof(0), batch.opening(0))
    assert int(e.value.args_["nowTime"]) < valid_from  # type: ignore[call-overload]
    with reverts("NotYetValid", validFrom=valid_from):
        d.endorse(env.th_consumer, batch.proof(0), batch.opening(0), 1)
    advance_time(w.chain, 1000)
    d.consume(env.th_consumer, batch.proof(0), batch.opening(0))
    advance_time(w.chain, 3900)
    d.consume(env.th_consumer, batch.proof(1), batch.opening(1))
    advance_time(w.chain, 200)
    with reverts("DocumentExpired", validUntil=valid_until) as e:
        d.consume(env.th_consumer, batch.proof(2), batch.opening(2))
    assert int(e.value.args_["nowTime"]) > valid_until  # type: ignore[call-overload]
    assert d.document(batch.issuer.address, batch.root, batch.leaf(2))["state"]["consumedAt"] == 0


def test_endorse_partial_quantities(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    terms = Terms("TH", quantity=100, unit="KG")
    batch = anchor_batch(w, env.sg_issuer, n=3, terms=terms)
    p, opening = batch.proof(0), batch.opening(0)
    with reverts("ZeroAmount"):
        d.endorse(env.th_consumer, p, opening, 0)
    r = d.endorse(env.th_consumer, p, opening, 30)
    assert event(w, r, "DocumentEndorsed") == {
        "root": p.root,
        "leaf": p.leaf,
        "consumer": party_id("TH"),
        "issuer": env.sg_issuer.address,
        "account": env.th_consumer.address,
        "amount": 30,
        "endorsed": 30,
        "quantity": 100,
    }
    assert events(w, r, "DocumentConsumed") == []
    state = d.document(p.issuer, p.root, p.leaf)["state"]
    assert (state["endorsed"], state["consumedAt"]) == (30, 0)
    assert doc_state_at(w, p, w.now()) == (False, False, False)  # partly used is not used up
    with reverts("QuantityExceeded", requested=71, remaining=70):
        d.endorse(env.th_consumer, p, opening, 71)
    with reverts("NotDestinationConsumer", account=env.my_consumer, destination="TH"):
        d.endorse(env.my_consumer, p, opening, 1)
    d.endorse(env.th_consumer, p, opening, 50)
    r = d.endorse(env.th_consumer, p, opening, 20)  # reaches the quantity: used up
    at = tx_time(w, r)
    assert event(w, r, "DocumentEndorsed")["endorsed"] == 100
    assert event(w, r, "DocumentConsumed")["consumer"] == party_id("TH")
    state = d.document(p.issuer, p.root, p.leaf)["state"]
    assert (state["endorsed"], state["consumedAt"], state["consumedBy"]) == (100, at, party_id("TH"))
    for name, op in {
        "endorse": lambda: d.endorse(env.th_consumer, p, opening, 1),
        "consume": lambda: d.consume(env.th_consumer, p, opening),
    }.items():
        with reverts(
            "DocumentAlreadyConsumed", root=p.root, leaf=p.leaf, consumedBy="TH", consumedAt=at, _what=name
        ):
            op()
    # Consuming a document with a quantity endorses all that remains.
    d.endorse(env.th_consumer, batch.proof(1), batch.opening(1), 40)
    r = d.consume(env.th_consumer, batch.proof(1), batch.opening(1))
    assert (event(w, r, "DocumentEndorsed")["amount"], event(w, r, "DocumentEndorsed")["endorsed"]) == (
        60,
        100,
    )
    assert event(w, r, "DocumentConsumed")["leaf"] == batch.leaf(1)
    r = d.consume(env.th_consumer, batch.proof(2), batch.opening(2))
    assert event(w, r, "DocumentEndorsed")["amount"] == 100


def test_endorse_needs_a_quantity(env: Env) -> None:
    d = env.world.reg.documents
    batch = anchor_batch(env.world, env.sg_issuer, terms=TO_TH)
    with reverts("NoQuantity", root=batch.root, leaf=batch.leaf(0)):
        d.endorse(env.th_consumer, batch.proof(0), batch.opening(0), 1)
    d.consume(env.th_consumer, batch.proof(0), batch.opening(0))


def test_consume_requires_recognition(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    make_one_time(w, CERTIFICATE)
    to_my = anchor_batch(w, env.sg_issuer, terms=TO_MY)
    certificate = anchor_batch(w, env.sg_issuer, doc_type=CERTIFICATE, terms=TO_TH)
    th_permit = anchor_batch(w, env.th_issuer, terms=TO_SG)
    with reverts("NotRecognized", party="MY", issuer=env.sg_issuer.account, docType=PERMIT):
        d.consume(env.my_consumer, to_my.proof(0), to_my.opening(0))
    with reverts("NotRecognized", party="TH", issuer=env.sg_issuer.account, docType=CERTIFICATE):
        d.consume(env.th_consumer, certificate.proof(0), certificate.opening(0))  # TH recognizes permits only
    with reverts("NotRecognized", party="SG", issuer=env.th_issuer.account, docType=PERMIT):
        d.consume(env.sg_consumer, th_permit.proof(0), th_permit.opening(0))
    assert d.document(to_my.issuer.address, to_my.root, to_my.leaf(0))["state"]["consumedAt"] == 0
    w.reg.trust.recognize(w.my, "SG", bit(PERMIT))
    d.consume(env.my_consumer, to_my.proof(0), to_my.opening(0))


def test_consume_after_recognition_withdrawn(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    d.consume(env.th_consumer, batch.proof(0), batch.opening(0))
    w.reg.trust.unrecognize(w.th, "SG", bit(PERMIT))
    with reverts("NotRecognized", party="TH", issuer=env.sg_issuer.account, docType=PERMIT):
        d.consume(env.th_consumer, batch.proof(1), batch.opening(1))
    w.reg.trust.recognize(w.th, "SG", bit(PERMIT))
    d.consume(env.th_consumer, batch.proof(1), batch.opening(1))


def test_consume_of_revoked_superseded_or_batch_revoked_documents(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=4, terms=TO_TH)
    revoked_at = tx_time(w, d.revoke_document(w.sg, batch.proof(0)))
    d.supersede(w.sg, batch.proof(1), batch.proof(2))

    def consume(i: int) -> None:
        d.consume(env.th_consumer, batch.proof(i), batch.opening(i))

    with reverts("DocumentAlreadyRevoked", root=batch.root, leaf=batch.leaf(0), revokedAt=revoked_at):
        consume(0)
    with reverts(
        "DocumentAlreadySuperseded",
        root=batch.root,
        leaf=batch.leaf(1),
        successorRoot=batch.root,
        successorLeaf=batch.leaf(2),
    ):
        consume(1)
    batch_revoked_at = tx_time(w, d.revoke_batch(w.sg, batch.issuer.address, batch.root))
    for i in range(4):  # the batch revocation is reported first, for every leaf
        with reverts("BatchRevoked", root=batch.root, revokedAt=batch_revoked_at, _what=f"leaf {i}"):
            consume(i)


def test_consume_with_bad_proof_or_unknown_batch(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=6, terms=TO_TH)
    p, opening = batch.proof(4), batch.opening(4)
    for what, proof in {
        "wrong index": tampered(p, index=5),
        "tampered path": tampered(p, path=(*p.path[:-1], flip(p.path[-1]))),
        "short path": tampered(p, path=p.path[:-1]),
    }.items():
        with reverts("InvalidInclusionProof", root=p.root, leaf=proof.leaf, index=proof.index, _what=what):
            d.consume(env.th_consumer, proof, opening)
    # A foreign leaf is not what the terms open.
    with reverts("TermsMismatch", root=p.root, leaf=flip(p.leaf)):
        d.consume(env.th_consumer, tampered(p, leaf=flip(p.leaf)), opening)
    unknown = tampered(p, root=rand32())
    with reverts("UnknownBatch", issuer=p.issuer, root=unknown.root):
        d.consume(env.th_consumer, unknown, opening)
    with reverts("UnknownBatch", issuer=env.sg_issuer2.address, root=p.root):
        d.consume(env.th_consumer, tampered(p, issuer=env.sg_issuer2.address), opening)
    assert d.document(p.issuer, p.root, p.leaf)["state"]["consumedAt"] == 0


def test_consume_of_issuing_partys_documents_stops_when_it_is_removed(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    pass_proposal(w, [w.th, w.my], ProposalKind.REMOVE_PARTY, "SG")
    with reverts("NotRecognized", party="TH", issuer=env.sg_issuer.account, docType=PERMIT):
        d.consume(env.th_consumer, batch.proof(0), batch.opening(0))


@pytest.mark.devchain("evm_increaseTime")
def test_document_anchored_before_ca_revocation_stays_consumable(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    advance_time(w.chain, 10)
    w.reg.trust.revoke_ca(w.sg, env.sg_issuer.ca, reason=1)
    d.consume(env.th_consumer, batch.proof(0), batch.opening(0))
    assert d.document(batch.issuer.address, batch.root, batch.leaf(0))["state"]["consumedBy"] == party_id(
        "TH"
    )


# ====================================================================== state over time


@pytest.mark.devchain("evm_increaseTime")
def test_document_state_at_over_time(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=5, terms=TO_TH)
    t0 = batch.anchored_at
    consumed, revoked, superseded, successor, plain = (batch.proof(i) for i in range(5))

    def step() -> None:
        advance_time(w.chain, 10)

    step()
    tc = tx_time(w, d.consume(env.th_consumer, consumed, batch.opening(0)))
    step()
    tr = tx_time(w, d.revoke_document(w.sg, revoked))
    step()
    ts = tx_time(w, d.supersede(w.sg, superseded, successor))
    step()
    tb = tx_time(w, d.revoke_batch(w.sg, batch.issuer.address, batch.root))
    assert t0 < tc < tr < ts < tb

    no = (False, False, False)
    expected: dict[tuple[bytes, int], tuple[bool, bool, bool]] = {}
    for p in (consumed, revoked, superseded, successor, plain):
        expected[(p.leaf, t0)] = no
        expected[(p.leaf, tb - 1)] = no
        expected[(p.leaf, tb)] = (True, False, False)  # the batch revocation covers every leaf
    expected.update(
        {
            (consumed.leaf, tc - 1): no,
            (consumed.leaf, tc): (False, False, True),
            (consumed.leaf, tb - 1): (False, False, True),
            (consumed.leaf, tb): (True, False, True),
            (revoked.leaf, tr - 1): no,
            (revoked.leaf, tr): (True, False, False),
            (revoked.leaf, tb - 1): (True, False, False),
            (superseded.leaf, ts - 1): no,
            (superseded.leaf, ts): (False, True, False),
            (superseded.leaf, tb - 1): (False, True, False),
            (superseded.leaf, tb): (True, True, False),
            (successor.leaf, ts): no,
        }
    )
    leaves = {p.leaf: p for p in (consumed, revoked, superseded, successor, plain)}
    actual = {(leaf, time): doc_state_at(w, leaves[leaf], time) for leaf, time in expected}
    assert actual == expected
    # Unknown documents: nothing happened to them. The same leaf under another issuer: its revocation
    # state is that batch's own, but its use is the document's, whatever batch names it.
    assert doc_state_at(w, DocumentProof(batch.issuer.address, rand32(), rand32(), 0, ()), tb) == no
    assert doc_state_at(w, tampered(consumed, issuer=env.sg_issuer2.address), tb) == (False, False, True)


# ====================================================================== inclusion proofs


def verify_on_chain(world: World, root: bytes, leaf: bytes, index: int, size: int, path: list[bytes]) -> bool:
    return bool(call(world.reg.documents, "verifyInclusion", root, leaf, index, size, path))


def test_verify_inclusion_agrees_with_anchor_merkle_for_small_trees(world: World) -> None:
    checked = 0
    for size in range(1, 21):
        tree = random_tree(size)
        for index in range(size):
            path = tree.inclusion_proof(index)
            assert verify_inclusion(tree.leaf(index), index, size, path, tree.root)
            assert verify_on_chain(world, tree.root, tree.leaf(index), index, size, path), (size, index)
            checked += 1
    assert checked == 210


@cache
def large_tree(size: int) -> MerkleTree:
    rng = random.Random(size)
    return MerkleTree([rng.randbytes(32) for _ in range(size)])


def test_verify_inclusion_agrees_with_anchor_merkle_for_large_trees(world: World) -> None:
    for size in (255, 256, 257, 1000, 4097, 65_537):
        tree = large_tree(size)
        for index in sorted({0, 1, size // 2, size - 2, size - 1, random.randrange(size)}):
            path = tree.inclusion_proof(index)
            assert verify_on_chain(world, tree.root, tree.leaf(index), index, size, path), (size, index)
            assert not verify_on_chain(world, flip(tree.root), tree.leaf(index), index, size, path), (
                size,
                index,
            )
            bigger = verify_inclusion(tree.leaf(index), index, size + 1, path, tree.root)
            assert verify_on_chain(world, tree.root, tree.leaf(index), index, size + 1, path) == bigger
    # Sizes too large to build: the contract and anchor.merkle derive the same root from the same proof.
    rng = random.Random(9162)
    for size in (2**20 + 3, 2**31 + 12_345, 2**32 - 1):
        for index in (0, size - 1, rng.randrange(size)):
            leaf = rng.randbytes(32)
            path = [rng.randbytes(32) for _ in range(proof_length(index, size))]
            root = root_from_proof(leaf, index, size, path)
            assert verify_on_chain(world, root, leaf, index, size, path), (size, index)
            assert not verify_on_chain(world, root, leaf, index ^ 1, size, path), (size, index)


def test_verify_inclusion_rejects_tampered_proofs(world: World) -> None:
    rng = random.Random(7)
    for size in range(1, 11):
        tree = random_tree(size)
        for index in range(size):
            leaf, root, path = tree.leaf(index), tree.root, tree.inclusion_proof(index)
            variants: dict[str, tuple[bytes, bytes, int, int, list[bytes]]] = {
                "leaf": (root, flip(leaf), index, size, path),
                "root": (flip(root), leaf, index, size, path),
                "index out of range": (root, leaf, size, size, path),
                "extra element": (root, leaf, index, size, [*path, rng.randbytes(32)]),
            }
            if size > 1:
                variants["other index"] = (root, leaf, (index + 1) % size, size, path)
                variants["path element"] = (root, leaf, index, size, [flip(path[0]), *path[1:]])
                variants["missing element"] = (root, leaf, index, size, path[:-1])
                if len(path) > 1:
                    variants["reversed path"] = (root, leaf, index, size, path[::-1])
            for what, (r, lf, i, n, pth) in variants.items():
                assert not verify_on_chain(world, r, lf, i, n, pth), (size, index, what)
                assert not verify_inclusion(lf, i, n, pth, r), (size, index, what)
            # Another tree size is not tampering by itself: a proof fits every size with the same shape
            # of path (e.g. index 0 of 3 and of 4 leaves). Contract and library must agree either way.
            for n in (size + 1, 2 * size + 1):
                library = verify_inclusion(leaf, index, n, path, root)
                assert verify_on_chain(world, root, leaf, index, n, path) == library, (size, index, n)
    # An interior node is no leaf of a tree of the right size; only a wrong (smaller) size would let it
    # through, which is why the registry always verifies against the size anchored with the batch.
    tree = random_tree(4)
    interior, sibling = tree.levels[1]
    assert not verify_on_chain(world, tree.root, interior, 0, 4, [sibling])
    assert verify_on_chain(world, tree.root, interior, 0, 2, [sibling])


# ====================================================================== errors as users see them


def test_contract_revert_renders_as_one_readable_line(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    root = rand32()
    issuer = env.sg_issuer.address
    cases = [
        ("IssuerNotActive", lambda: d.anchor(env.stranger, rand32(), PERMIT, 1)),
        ("PartyNotMember", lambda: w.reg.trust.propose(w.sg, ProposalKind.REMOVE_PARTY, "XX")),
        ("UnknownBatch", lambda: d.revoke_batch(w.sg, issuer, root)),
        ("InvalidRoot", lambda: d.anchor(env.sg_issuer.account, ZERO32, PERMIT, 1)),
        ("InvalidStatusTransition", lambda: w.reg.trust.resume_issuer(w.sg, issuer)),
        ("AccountHasRole", lambda: w.reg.trust.grant_consumer(w.sg, env.th_consumer.address)),
    ]
    lines = []
    for name, op in cases:
        with reverts(name) as e:
            op()
        assert isinstance(e.value, ContractRevert)
        lines.append(str(e.value))
    issuer_line, *others = lines
    assert re.fullmatch(r"IssuerNotActive\(account=0x[0-9a-fA-F]{40}\)", issuer_line), issuer_line
    assert issuer_line.lower() == f"IssuerNotActive(account={env.stranger.address})".lower()
    assert [line.lower() for line in others] == [
        line.lower()
        for line in (
            "PartyNotMember(party='XX')",  # party ids read as their codes
            f"UnknownBatch(issuer={issuer}, root=0x{root.hex()})",
            "InvalidRoot()",
            f"InvalidStatusTransition(from={int(Status.ACTIVE)}, to={int(Status.ACTIVE)})",
            f"AccountHasRole(account={env.th_consumer.address}, party='TH', role={int(Role.CONSUMER)})",
        )
    ]
    assert all("\n" not in line for line in lines)


# ====================================================================== fixed gaps (regression tests)


def test_revoked_issuer_account_can_no_longer_act_on_its_own_batches(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=3)
    w.reg.trust.revoke_issuer(w.sg, env.sg_issuer.address, reason=1)  # key compromise
    assert not d.issuer_auth(env.sg_issuer.address)["active"]
    leaked = env.sg_issuer.account
    for name, op in {
        "revokeBatch": lambda: d.revoke_batch(leaked, leaked.address, batch.root),
        "revokeDocument": lambda: d.revoke_document(leaked, batch.proof(0)),
        "supersede": lambda: d.supersede(leaked, batch.proof(0), batch.proof(1)),
    }.items():
        with reverts("NotAuthorizedForParty", account=leaked, _what=name):
            op()
    # Its party's admin still acts on what it anchored.
    d.revoke_batch(w.sg, leaked.address, batch.root)


@pytest.mark.parametrize("revoked", ["ca", "issuer"])
@pytest.mark.devchain("evm_increaseTime")
def test_document_anchored_after_effective_revocation_cannot_be_consumed(env: Env, revoked: str) -> None:
    w, t, d = env.world, env.world.reg.trust, env.world.reg.documents
    advance_time(w.chain, 100)
    earlier = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    advance_time(w.chain, 100)
    batch = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    advance_time(w.chain, 100)
    effective = batch.anchored_at - 10  # the key was compromised before this batch was anchored
    if revoked == "ca":
        t.revoke_ca(w.sg, env.sg_issuer.ca, effective, reason=1)
        assert t.ca_status_at(env.sg_issuer.ca, batch.anchored_at) == Status.REVOKED
    else:
        t.revoke_issuer(w.sg, env.sg_issuer.address, effective, reason=1)
        assert t.issuer_status_at(env.sg_issuer.address, batch.anchored_at) == Status.REVOKED
    with reverts(
        "AnchoringNotValid", root=batch.root, issuer=env.sg_issuer.account, anchoredAt=batch.anchored_at
    ):
        d.consume(env.th_consumer, batch.proof(0), batch.opening(0))
    d.consume(env.th_consumer, earlier.proof(0), earlier.opening(0))  # anchored before: still valid


def test_another_partys_admin_cannot_be_captured_as_an_issuer(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    th_batch = anchor_batch(w, env.th_issuer)
    with reverts("AccountHasRole", account=w.th, party="TH", role=Role.ADMIN):
        w.reg.trust.authorize_issuer(w.sg, w.th.address, env.sg_issuer.ca, bit(PERMIT))
    d.revoke_batch(w.th, env.th_issuer.address, th_batch.root)  # TH's admin still acts for TH


def test_issuer_under_a_suspended_ca_cannot_anchor_until_it_resumes(env: Env) -> None:
    w, t, d = env.world, env.world.reg.trust, env.world.reg.documents
    t.suspend_ca(w.sg, env.sg_issuer.ca, 0, reason=6)
    assert not d.issuer_auth(env.sg_issuer.address)["active"]
    with reverts("IssuerNotActive", account=env.sg_issuer.address):
        anchor_batch(w, env.sg_issuer)
    t.resume_ca(w.sg, env.sg_issuer.ca)
    assert d.issuer_auth(env.sg_issuer.address)["active"]
    anchor_batch(w, env.sg_issuer)


def test_a_copied_root_gives_no_second_use_of_a_one_time_document(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    w.reg.trust.recognize(w.th, "MY", bit(PERMIT))  # TH trusts MY's permits too
    my_issuer = add_issuer(w, w.my, 11, bit(PERMIT))
    batch = anchor_batch(w, env.sg_issuer, terms=TO_TH)
    copy = AnchoredBatch(batch.tree, my_issuer.account, PERMIT, batch.receipt, batch.anchored_at, batch.docs)
    d.anchor(my_issuer.account, batch.root, PERMIT, batch.size)  # MY copies SG's root from the chain
    d.consume(env.th_consumer, batch.proof(0), batch.opening(0))
    # The same permit, presented again through MY's copy of the batch, must not be usable a second time.
    try:
        d.consume(env.th_consumer, copy.proof(0), copy.opening(0))
    except ContractRevert:
        return
    raise AssertionError("the permit was consumed a second time through a copied batch")
