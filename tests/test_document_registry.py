"""DocumentRegistry: anchoring, batch/document lifecycle, one-time consumption, time views, inclusion proofs.

Every test runs on anvil and on the embedded py-evm chain (the `world` fixture is parametrized).
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
from anchor.merkle import MerkleTree, proof_length, root_from_proof, verify_inclusion
from anchor.registry import DocumentProof, ProposalKind, Status
from tests.conftest import World, advance_time
from tests.registry_helpers import (
    CERTIFICATE,
    PERMIT,
    PHYTO,
    ZERO8,
    ZERO32,
    IssuerSetup,
    add_ca,
    add_issuer,
    anchor_batch,
    bit,
    call,
    checksummed,
    doc_state_at,
    event,
    events,
    pass_proposal,
    rand32,
    random_tree,
    reverts,
    send,
    tx_time,
)


@dataclass(frozen=True)
class Env:
    """SG issues permits and CITES certificates; TH issues permits; TH recognizes SG for permits only."""

    world: World
    sg_issuer: IssuerSetup  # account 4: PERMIT + CERTIFICATE
    sg_issuer2: IssuerSetup  # account 5: PERMIT, same party and CA
    th_issuer: IssuerSetup  # account 6: PERMIT
    stranger: LocalAccount  # account 9: nobody


@pytest.fixture
def env(world: World) -> Env:
    sg_ca = add_ca(world, world.sg, bit(PERMIT, CERTIFICATE, PHYTO))
    sg_issuer = add_issuer(world, world.sg, 4, bit(PERMIT, CERTIFICATE), ca=sg_ca)
    sg_issuer2 = add_issuer(world, world.sg, 5, bit(PERMIT), ca=sg_ca)
    th_issuer = add_issuer(world, world.th, 6, bit(PERMIT))
    world.reg.trust.recognize(world.th, "SG", bit(PERMIT))
    return Env(world, sg_issuer, sg_issuer2, th_issuer, world.account(9))


def tampered(proof: DocumentProof, **changes: object) -> DocumentProof:
    return replace(proof, **changes)  # type: ignore[arg-type]


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


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
    assert checksummed(d.batch(tree.root)) == {
        "issuer": env.sg_issuer.address,
        "anchoredAt": at,
        "docType": CERTIFICATE,
        "size": 7,
    }
    view = d.document(tree.root, tree.leaf(3))
    assert view["batch"] == d.batch(tree.root)
    assert view["party"] == party_id("SG")
    assert view["batchRevocation"] == {"revokedAt": 0, "reason": 0}
    assert view["state"] == {
        "revokedAt": 0,
        "revokeReason": 0,
        "supersededAt": 0,
        "consumedAt": 0,
        "consumedBy": ZERO8,
    }
    assert (view["successorRoot"], view["successorLeaf"]) == (ZERO32, ZERO32)
    assert d.batch(rand32())["anchoredAt"] == 0


def test_anchor_by_unauthorized_accounts(env: Env) -> None:
    d = env.world.reg.documents
    for who in (env.stranger, env.world.sg):  # nobody, and an admin that is no issuer
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


def test_anchor_duplicate_root(env: Env) -> None:
    w = env.world
    batch = anchor_batch(w, env.sg_issuer)
    advance_time(w.chain, 10)
    for who in (env.sg_issuer, env.sg_issuer2, env.th_issuer):
        with reverts(
            "RootAlreadyAnchored", root=batch.root, issuer=env.sg_issuer.account, anchoredAt=batch.anchored_at
        ):
            w.reg.documents.anchor(who.account, batch.root, PERMIT, batch.size)
    assert w.reg.documents.batch(batch.root)["anchoredAt"] == batch.anchored_at


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
    assert [checksummed(d.batch(x)) for x in roots] == [
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
    assert d.batch(x)["anchoredAt"] == 0
    assert d.batch(y)["anchoredAt"] == 0


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
    for who in (w.sg, env.stranger):
        with reverts("NotTrustRegistry", caller=who):
            send(w, who, w.reg.documents, "syncIssuer", who.address, party_id("SG"), 2**64 - 1, True)
    assert not w.reg.documents.issuer_auth(env.stranger.address)["active"]


# ====================================================================== batch revocation


def test_revoke_batch(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    with reverts("NotIssuingParty", root=batch.root, caller="TH", issuingParty="SG"):
        d.revoke_batch(w.th, batch.root)
    with reverts("NotIssuingParty", root=batch.root, caller="TH", issuingParty="SG"):
        d.revoke_batch(env.th_issuer.account, batch.root)
    with reverts("NotAuthorizedForParty", account=env.stranger):
        d.revoke_batch(env.stranger, batch.root)
    unknown = rand32()
    with reverts("UnknownBatch", root=unknown):
        d.revoke_batch(w.sg, unknown)

    r = d.revoke_batch(w.sg, batch.root, reason=5)
    at = tx_time(w, r)
    assert event(w, r, "BatchRevocationRecorded") == {
        "root": batch.root,
        "party": party_id("SG"),
        "reason": 5,
    }
    assert d.document(batch.root, batch.leaf(0))["batchRevocation"] == {"revokedAt": at, "reason": 5}
    advance_time(w.chain, 10)
    for who in (w.sg, env.sg_issuer.account):
        with reverts("BatchAlreadyRevoked", root=batch.root, revokedAt=at):
            d.revoke_batch(who, batch.root)
    # Another issuer account of the same party may act for the party too.
    other = anchor_batch(w, env.sg_issuer)
    r = d.revoke_batch(env.sg_issuer2.account, other.root, reason=1)
    assert event(w, r, "BatchRevocationRecorded")["party"] == party_id("SG")


# ====================================================================== document revocation


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
        "reason": 3,
    }
    state = d.document(p.root, p.leaf)["state"]
    assert (state["revokedAt"], state["revokeReason"]) == (at, 3)
    assert d.document(p.root, batch.leaf(1))["state"]["revokedAt"] == 0  # its neighbours are unaffected
    advance_time(w.chain, 10)
    with reverts("DocumentAlreadyRevoked", root=p.root, leaf=p.leaf, revokedAt=at):
        d.revoke_document(env.sg_issuer.account, p)
    # An issuer account of the party may revoke too.
    d.revoke_document(env.sg_issuer2.account, batch.proof(4))
    assert d.document(p.root, batch.leaf(4))["state"]["revokedAt"] > 0


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
            p.root, batch.tree.levels[1][1], 1, tuple(batch.tree.levels[1][::2])
        ),
    }
    for what, proof in bad.items():
        with reverts(
            "InvalidInclusionProof", root=proof.root, leaf=proof.leaf, index=proof.index, _what=what
        ):
            d.revoke_document(w.sg, proof)
    with reverts("NotIssuingParty", root=p.root, caller="TH", issuingParty="SG"):
        d.revoke_document(w.th, p)
    with reverts("NotAuthorizedForParty", account=env.stranger):
        d.revoke_document(env.stranger, p)
    unknown = tampered(p, root=rand32())
    with reverts("UnknownBatch", root=unknown.root):
        d.revoke_document(w.sg, unknown)
    assert d.document(p.root, p.leaf)["state"]["revokedAt"] == 0


# ====================================================================== supersession


def test_supersede(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    old = anchor_batch(w, env.sg_issuer, n=3)
    new = anchor_batch(w, env.sg_issuer2, n=2)  # another issuer account of the same party
    a, b = old.proof(1), new.proof(0)
    r = d.supersede(w.sg, a, b)
    at = tx_time(w, r)
    assert event(w, r, "DocumentSuperseded") == {
        "root": a.root,
        "leaf": a.leaf,
        "party": party_id("SG"),
        "successorRoot": b.root,
        "successorLeaf": b.leaf,
    }
    view = d.document(a.root, a.leaf)
    assert (view["successorRoot"], view["successorLeaf"]) == (b.root, b.leaf)
    assert view["state"]["supersededAt"] == at
    successor = d.document(b.root, b.leaf)
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
    # The successor can itself be amended later, by an issuer account too; and within one batch.
    d.supersede(env.sg_issuer.account, b, c)
    assert d.document(b.root, b.leaf)["successorLeaf"] == c.leaf
    d.supersede(w.sg, old.proof(0), old.proof(2))
    assert d.document(old.root, old.leaf(0))["successorLeaf"] == old.leaf(2)


def test_supersede_rejections(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    sg = anchor_batch(w, env.sg_issuer, n=4)
    th = anchor_batch(w, env.th_issuer, n=2)
    a, b = sg.proof(0), sg.proof(1)
    with reverts("SupersedeBySelf", root=a.root, leaf=a.leaf):
        d.supersede(w.sg, a, a)
    with reverts("NotIssuingParty", root=th.root, caller="SG", issuingParty="TH"):  # cross-party successor
        d.supersede(w.sg, a, th.proof(0))
    with reverts("NotIssuingParty", root=a.root, caller="TH", issuingParty="SG"):
        d.supersede(w.th, a, th.proof(0))
    with reverts("NotAuthorizedForParty", account=env.stranger):
        d.supersede(env.stranger, a, b)
    unknown = tampered(b, root=rand32())
    with reverts("UnknownBatch", root=unknown.root):
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
    r = d.revoke_batch(w.sg, other.root)
    with reverts("BatchRevoked", root=other.root, revokedAt=tx_time(w, r)):
        d.supersede(w.sg, other.proof(0), a)
    with reverts("BatchRevoked", root=other.root, revokedAt=tx_time(w, r)):
        d.supersede(w.sg, a, other.proof(0))
    certificate = anchor_batch(w, env.sg_issuer, n=2, doc_type=CERTIFICATE)
    with reverts("DocumentTypeMismatch", docType=PERMIT, successorDocType=CERTIFICATE):
        d.supersede(w.sg, a, certificate.proof(0))  # a permit is not amended by a certificate
    assert d.document(a.root, a.leaf)["state"]["supersededAt"] == 0


# ====================================================================== one-time consumption


def test_consume_once_then_never_again(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=3)
    p = batch.proof(1)
    r = d.consume(w.th, p)
    at = tx_time(w, r)
    assert event(w, r, "DocumentConsumed") == {
        "root": p.root,
        "leaf": p.leaf,
        "consumer": party_id("TH"),
        "account": w.th.address,
    }
    state = d.document(p.root, p.leaf)["state"]
    assert (state["consumedBy"], state["consumedAt"]) == (party_id("TH"), at)
    advance_time(w.chain, 60)
    # Permit re-use: whoever tries next is told who used it and when.
    w.reg.trust.recognize(w.my, "SG", bit(PERMIT))
    for who in (w.th, w.my, w.sg):
        with reverts("DocumentAlreadyConsumed", root=p.root, leaf=p.leaf, consumedBy="TH", consumedAt=at):
            d.consume(who, p)
    assert d.document(p.root, batch.leaf(0))["state"]["consumedAt"] == 0  # only that one document
    d.consume(w.my, batch.proof(0))
    # The issuing party recognizes its own CA, so it may consume its own documents.
    d.consume(w.sg, batch.proof(2))
    assert d.document(p.root, batch.leaf(2))["state"]["consumedBy"] == party_id("SG")


def test_consume_requires_recognition(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    permit = anchor_batch(w, env.sg_issuer, doc_type=PERMIT)
    certificate = anchor_batch(w, env.sg_issuer, doc_type=CERTIFICATE)
    with reverts("NotRecognized", party="MY", issuer=env.sg_issuer.account, docType=PERMIT):
        d.consume(w.my, permit.proof(0))
    with reverts("NotRecognized", party="TH", issuer=env.sg_issuer.account, docType=CERTIFICATE):
        d.consume(w.th, certificate.proof(0))  # TH recognizes SG for permits only
    with reverts("NotRecognized", party="SG", issuer=env.th_issuer.account, docType=PERMIT):
        d.consume(w.sg, anchor_batch(w, env.th_issuer).proof(0))
    assert d.document(permit.root, permit.leaf(0))["state"]["consumedAt"] == 0


def test_consume_after_recognition_withdrawn(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    d.consume(w.th, batch.proof(0))
    w.reg.trust.unrecognize(w.th, "SG", bit(PERMIT))
    with reverts("NotRecognized", party="TH", issuer=env.sg_issuer.account, docType=PERMIT):
        d.consume(w.th, batch.proof(1))
    w.reg.trust.recognize(w.th, "SG", bit(PERMIT))
    d.consume(w.th, batch.proof(1))


def test_consume_of_revoked_superseded_or_batch_revoked_documents(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=4)
    revoked_at = tx_time(w, d.revoke_document(w.sg, batch.proof(0)))
    d.supersede(w.sg, batch.proof(1), batch.proof(2))
    with reverts("DocumentAlreadyRevoked", root=batch.root, leaf=batch.leaf(0), revokedAt=revoked_at):
        d.consume(w.th, batch.proof(0))
    with reverts(
        "DocumentAlreadySuperseded",
        root=batch.root,
        leaf=batch.leaf(1),
        successorRoot=batch.root,
        successorLeaf=batch.leaf(2),
    ):
        d.consume(w.th, batch.proof(1))
    batch_revoked_at = tx_time(w, d.revoke_batch(w.sg, batch.root))
    for i in range(4):  # the batch revocation is reported first, for every leaf
        with reverts("BatchRevoked", root=batch.root, revokedAt=batch_revoked_at, _what=f"leaf {i}"):
            d.consume(w.th, batch.proof(i))


def test_consume_by_non_admins(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    for who in (env.stranger, env.th_issuer.account, env.sg_issuer.account):
        with reverts("NotAuthorizedForParty", account=who):
            d.consume(who, batch.proof(0))
    # An admin of a party that has been removed no longer acts for it.
    w.reg.trust.recognize(w.my, "SG", bit(PERMIT))
    pass_proposal(w, [w.sg, w.th], ProposalKind.REMOVE_PARTY, "MY")
    with reverts("NotAuthorizedForParty", account=w.my):
        d.consume(w.my, batch.proof(0))
    assert d.document(batch.root, batch.leaf(0))["state"]["consumedAt"] == 0


def test_consume_with_bad_proof_or_unknown_batch(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=6)
    p = batch.proof(4)
    for what, proof in {
        "wrong index": tampered(p, index=5),
        "tampered path": tampered(p, path=(*p.path[:-1], flip(p.path[-1]))),
        "foreign leaf": tampered(p, leaf=rand32()),
    }.items():
        with reverts("InvalidInclusionProof", root=p.root, leaf=proof.leaf, index=proof.index, _what=what):
            d.consume(w.th, proof)
    unknown = tampered(p, root=rand32())
    with reverts("UnknownBatch", root=unknown.root):
        d.consume(w.th, unknown)
    assert d.document(p.root, p.leaf)["state"]["consumedAt"] == 0


def test_consume_of_issuing_partys_documents_stops_when_it_is_removed(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    pass_proposal(w, [w.th, w.my], ProposalKind.REMOVE_PARTY, "SG")
    with reverts("NotRecognized", party="TH", issuer=env.sg_issuer.account, docType=PERMIT):
        d.consume(w.th, batch.proof(0))


def test_document_anchored_before_ca_revocation_stays_consumable(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer)
    advance_time(w.chain, 10)
    w.reg.trust.revoke_ca(w.sg, env.sg_issuer.ca, reason=1)
    d.consume(w.th, batch.proof(0))
    assert d.document(batch.root, batch.leaf(0))["state"]["consumedBy"] == party_id("TH")


# ====================================================================== state over time


def test_document_state_at_over_time(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer, n=5)
    t0 = batch.anchored_at
    consumed, revoked, superseded, successor, plain = (batch.proof(i) for i in range(5))

    def step() -> None:
        advance_time(w.chain, 10)

    step()
    tc = tx_time(w, d.consume(w.th, consumed))
    step()
    tr = tx_time(w, d.revoke_document(w.sg, revoked))
    step()
    ts = tx_time(w, d.supersede(w.sg, superseded, successor))
    step()
    tb = tx_time(w, d.revoke_batch(w.sg, batch.root))
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
    # Unknown documents: nothing happened to them.
    assert doc_state_at(w, DocumentProof(rand32(), rand32(), 0, ()), tb) == no


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
    cases = [
        ("IssuerNotActive", lambda: d.anchor(env.stranger, rand32(), PERMIT, 1)),
        ("PartyNotMember", lambda: w.reg.trust.propose(w.sg, ProposalKind.REMOVE_PARTY, "XX")),
        ("UnknownBatch", lambda: d.revoke_batch(w.sg, root)),
        ("InvalidRoot", lambda: d.anchor(env.sg_issuer.account, ZERO32, PERMIT, 1)),
        ("InvalidStatusTransition", lambda: w.reg.trust.resume_issuer(w.sg, env.sg_issuer.address)),
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
    assert others == [
        "PartyNotMember(party='XX')",  # party ids read as their codes
        f"UnknownBatch(root=0x{root.hex()})",
        "InvalidRoot()",
        f"InvalidStatusTransition(from={int(Status.ACTIVE)}, to={int(Status.ACTIVE)})",
    ]
    assert all("\n" not in line for line in lines)


# ====================================================================== fixed gaps (regression tests)


def test_revoked_issuer_account_can_no_longer_act_for_its_party(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    batch = anchor_batch(w, env.sg_issuer2)
    w.reg.trust.revoke_issuer(w.sg, env.sg_issuer.address, reason=1)  # key compromise
    assert not d.issuer_auth(env.sg_issuer.address)["active"]
    with pytest.raises(ContractRevert):
        d.revoke_batch(env.sg_issuer.account, batch.root)


@pytest.mark.parametrize("revoked", ["ca", "issuer"])
def test_document_anchored_after_effective_revocation_cannot_be_consumed(env: Env, revoked: str) -> None:
    w, t, d = env.world, env.world.reg.trust, env.world.reg.documents
    advance_time(w.chain, 100)
    batch = anchor_batch(w, env.sg_issuer)
    advance_time(w.chain, 100)
    effective = batch.anchored_at - 10  # the key was compromised before this batch was anchored
    if revoked == "ca":
        t.revoke_ca(w.sg, env.sg_issuer.ca, effective, reason=1)
        assert t.ca_status_at(env.sg_issuer.ca, batch.anchored_at) == Status.REVOKED
    else:
        t.revoke_issuer(w.sg, env.sg_issuer.address, effective, reason=1)
        assert t.issuer_status_at(env.sg_issuer.address, batch.anchored_at) == Status.REVOKED
    with pytest.raises(ContractRevert):
        d.consume(w.th, batch.proof(0))


def test_another_partys_admin_cannot_be_captured_as_an_issuer(env: Env) -> None:
    w, d = env.world, env.world.reg.documents
    th_batch = anchor_batch(w, env.th_issuer)
    try:
        w.reg.trust.authorize_issuer(w.sg, w.th.address, env.sg_issuer.ca, bit(PERMIT))
    except ContractRevert as e:
        assert e.error == "AccountIsAdminOfAnotherParty"
        return
    # Otherwise TH's admin must still act for TH (today: NotIssuingParty(root, caller=SG, issuingParty=TH)).
    d.revoke_batch(w.th, th_batch.root)


def test_issuer_under_a_suspended_ca_cannot_anchor_until_it_resumes(env: Env) -> None:
    w, t, d = env.world, env.world.reg.trust, env.world.reg.documents
    t.suspend_ca(w.sg, env.sg_issuer.ca, 0, reason=6)
    assert not d.issuer_auth(env.sg_issuer.address)["active"]
    with reverts("IssuerNotActive", account=env.sg_issuer.address):
        anchor_batch(w, env.sg_issuer)
    t.resume_ca(w.sg, env.sg_issuer.ca)
    assert d.issuer_auth(env.sg_issuer.address)["active"]
    anchor_batch(w, env.sg_issuer)
