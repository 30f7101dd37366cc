"""Attacks that succeeded on the registries v1, each refused by v2 with a custom error, while the rightful
action still works. One test per attack (and variant), on anvil and on the embedded chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account.signers.local import LocalAccount

from anchor.cacert import pop_message, verify_pop
from anchor.deploy import party_id
from anchor.issuing.leaf import Terms
from anchor.issuing.merkle import MerkleTree
from anchor.issuing.signing import batch_message, sign_with_key, verify_signature
from anchor.pki import issue_signer
from anchor.registry import DocumentProof, Opening, ProposalKind, Role, Status
from tests.conftest import World, advance_time
from tests.registry_helpers import (
    ADMIN_DELAY,
    CERT_VALID_FROM,
    NOT_AFTER,
    NOT_BEFORE,
    ORIGIN,
    PERMIT,
    PHYTO,
    VET,
    ZERO32,
    AnchoredBatch,
    IssuerSetup,
    add_ca,
    add_consumer,
    add_issuer,
    anchor_batch,
    anchor_docs,
    bit,
    call,
    cert_hash,
    cert_id,
    change_admins,
    checksummed,
    event,
    fake_certificate,
    funded,
    make_cas,
    make_docs,
    pass_proposal,
    reverts,
    tx_time,
)

TO_TH = Terms(destination="TH")


def public_proof(world: World, batch: AnchoredBatch) -> DocumentProof:
    """What anyone reading the chain knows of a one-document batch: its Anchored event; root == leaf."""
    anchored = event(world, batch.receipt, "Anchored")
    assert anchored["size"] == 1
    return DocumentProof(anchored["issuer"], anchored["root"], anchored["root"], 0, ())


# ====================================================================== 1. consumption griefing


@dataclass(frozen=True)
class Border:
    """SG issues phytosanitary certificates, permits and certificates of origin; phytosanitary
    certificates are one-time; TH and MY recognize SG; each runs a border service (consumer account)."""

    world: World
    sg_issuer: IssuerSetup  # account 4
    th_consumer: LocalAccount  # account 5
    my_consumer: LocalAccount  # account 6


def border(world: World) -> Border:
    t = world.reg.trust
    ca = add_ca(world, world.sg, bit(PERMIT, PHYTO, ORIGIN))
    sg_issuer = add_issuer(world, world.sg, 4, bit(PERMIT, PHYTO, ORIGIN), ca=ca)
    pass_proposal(world, [world.sg, world.th], ProposalKind.SET_ONE_TIME_TYPES, doc_types=bit(PERMIT, PHYTO))
    t.recognize(world.th, "SG", bit(PERMIT, PHYTO, ORIGIN))
    t.recognize(world.my, "SG", bit(PERMIT, PHYTO))
    return Border(world, sg_issuer, add_consumer(world, world.th, 5), add_consumer(world, world.my, 6))


def test_consumption_griefing_with_public_chain_data_only(world: World) -> None:
    b, d = border(world), world.reg.documents
    batch = anchor_batch(world, b.sg_issuer, n=1, doc_type=PHYTO, terms=TO_TH)  # destined to TH
    seen = public_proof(world, batch)
    assert (seen.root, seen.leaf) == (batch.root, batch.leaf(0))
    # MY recognizes SG for phytosanitary certificates but cannot know the leaf's commitment: whatever
    # terms it makes up, either they do not name MY or they do not open the leaf.
    guesses = {
        "destination TH": (Opening(ZERO32, TO_TH), "NotDestinationConsumer"),
        "destination MY": (Opening(ZERO32, Terms("MY")), "TermsMismatch"),
        "the root as commitment": (Opening(seen.root, Terms("MY")), "TermsMismatch"),
        "MY, another validity": (Opening(seen.leaf, Terms("MY", 0, 2**40 - 1)), "TermsMismatch"),
        "no destination": (Opening(ZERO32, Terms()), "NoDestination"),
    }
    args: dict[str, dict[str, Any]] = {
        "NotDestinationConsumer": {"account": b.my_consumer, "destination": "TH"},
        "TermsMismatch": {"root": seen.root, "leaf": seen.leaf},
        "NoDestination": {"root": seen.root, "leaf": seen.leaf},
    }
    for what, (opening, error) in guesses.items():
        expected = args[error]
        with reverts(error, expected, _what=f"consume, {what}"):
            d.consume(b.my_consumer, seen, opening)
        with reverts(error, expected, _what=f"endorse, {what}"):
            d.endorse(b.my_consumer, seen, opening, 1)
    # MY's admin key fares no better: only consumer accounts consume.
    with reverts("NotDestinationConsumer", account=world.my, destination="MY"):
        d.consume(world.my, seen, Opening(ZERO32, Terms("MY")))
    assert d.document(seen.issuer, seen.root, seen.leaf)["state"]["consumedAt"] == 0
    # The rightful border consumes it.
    r = d.consume(b.th_consumer, batch.proof(0), batch.opening(0))
    assert event(world, r, "DocumentConsumed")["consumer"] == party_id("TH")


def test_consumption_griefing_with_the_full_opening_for_another_destination(world: World) -> None:
    b, d = border(world), world.reg.documents
    batch = anchor_batch(world, b.sg_issuer, n=2, doc_type=PHYTO, terms=TO_TH)
    p, opening = batch.proof(1), batch.opening(1)
    # MY got hold of the whole bundle (say, from the trader), yet the document is destined to TH.
    with reverts("NotDestinationConsumer", account=b.my_consumer, destination="TH"):
        d.consume(b.my_consumer, p, opening)
    with reverts("NotDestinationConsumer", account=b.my_consumer, destination="TH"):
        d.endorse(b.my_consumer, p, opening, 1)
    # Rewriting the destination in the opening does not open the leaf.
    with reverts("TermsMismatch", root=p.root, leaf=p.leaf):
        d.consume(b.my_consumer, p, Opening(opening.commitment, Terms("MY")))
    assert d.document(p.issuer, p.root, p.leaf)["state"]["consumedAt"] == 0
    d.consume(b.th_consumer, p, opening)
    assert d.document(p.issuer, p.root, p.leaf)["state"]["consumedBy"] == party_id("TH")


def test_consumption_griefing_of_a_non_one_time_type(world: World) -> None:
    b, d = border(world), world.reg.documents
    origin = anchor_batch(world, b.sg_issuer, n=1, doc_type=ORIGIN, terms=TO_TH)
    # Even the destination's own border cannot use up a certificate of origin: it is not one-time.
    for name, op in {
        "consume": lambda: d.consume(b.th_consumer, origin.proof(0), origin.opening(0)),
        "endorse": lambda: d.endorse(b.th_consumer, origin.proof(0), origin.opening(0), 1),
    }.items():
        with reverts("NotOneTime", docType=ORIGIN, _what=name):
            op()
    assert world.reg.trust.one_time_doc_types() == bit(PERMIT, PHYTO)
    p = origin.proof(0)
    assert d.document(p.issuer, p.root, p.leaf)["state"]["consumedAt"] == 0
    # It stays valid for every later check, and a one-time document of the same issuer is used normally.
    assert world.reg.trust.recognizes_ca_at("TH", b.sg_issuer.ca, ORIGIN, world.now())
    phyto = anchor_batch(world, b.sg_issuer, n=1, doc_type=PHYTO, terms=TO_TH)
    d.consume(b.th_consumer, phyto.proof(0), phyto.opening(0))


def test_consumption_griefing_of_a_superseded_documents_successor(world: World) -> None:
    b, d = border(world), world.reg.documents
    old = anchor_batch(world, b.sg_issuer, n=1, doc_type=PHYTO, terms=TO_TH)
    new = anchor_batch(world, b.sg_issuer, n=1, doc_type=PHYTO, terms=TO_TH)
    r = d.supersede(world.sg, old.proof(0), new.proof(0))
    # The amendment's address is public: the DocumentSuperseded event names it.
    link = event(world, r, "DocumentSuperseded")
    seen = DocumentProof(link["successorIssuer"], link["successorRoot"], link["successorLeaf"], 0, ())
    assert (seen.root, seen.leaf) == (new.root, new.leaf(0))
    with reverts("TermsMismatch", root=seen.root, leaf=seen.leaf):
        d.consume(b.my_consumer, seen, Opening(ZERO32, Terms("MY")))
    with reverts("NotDestinationConsumer", account=b.my_consumer, destination="TH"):
        d.consume(b.my_consumer, seen, Opening(ZERO32, TO_TH))
    with reverts("NotDestinationConsumer", account=b.my_consumer, destination="TH"):
        d.consume(b.my_consumer, seen, new.opening(0))  # even with the full opening
    # The superseded original is not usable by anyone; its successor is, by the destination.
    with reverts(
        "DocumentAlreadySuperseded",
        root=old.root,
        leaf=old.leaf(0),
        successorRoot=new.root,
        successorLeaf=new.leaf(0),
    ):
        d.consume(b.th_consumer, old.proof(0), old.opening(0))
    d.consume(b.th_consumer, seen, new.opening(0))
    assert d.document(seen.issuer, seen.root, seen.leaf)["state"]["consumedBy"] == party_id("TH")


@pytest.mark.devchain("evm_increaseTime")
def test_consumption_griefing_by_a_second_use(world: World) -> None:
    b, d = border(world), world.reg.documents
    batch = anchor_batch(world, b.sg_issuer, n=1, doc_type=PHYTO, terms=TO_TH)
    p, opening = batch.proof(0), batch.opening(0)
    r = d.consume(b.th_consumer, p, opening)  # the rightful use
    at = tx_time(world, r)
    advance_time(world.chain, 60)
    another_th_border = add_consumer(world, world.th, 7)
    for who in (b.th_consumer, another_th_border):
        with reverts("DocumentAlreadyConsumed", root=p.root, leaf=p.leaf, consumedBy="TH", consumedAt=at):
            d.consume(who, p, opening)
        with reverts("DocumentAlreadyConsumed", root=p.root, leaf=p.leaf, consumedBy="TH", consumedAt=at):
            d.endorse(who, p, opening, 1)
    state = d.document(p.issuer, p.root, p.leaf)["state"]
    assert (state["consumedBy"], state["consumedAt"]) == (party_id("TH"), at)


# ====================================================================== 2. CA squatting


@pytest.mark.devchain("evm_increaseTime")
def test_ca_squatting_neither_blocks_nor_impersonates(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    sg_root, sg_issuing = make_cas("SG")
    # MY copies SG's root certificate from SG's publications and registers it first (it holds no key).
    r = t.add_ca(world.my, sg_root.der, NOT_BEFORE, NOT_AFTER, bit(PHYTO), b"no key, no proof")
    my_root = cert_id("MY", sg_root.der)
    assert event(world, r, "CARegistered")["fingerprint"] == my_root
    # SG's own registration still succeeds, under an id of its own.
    r = t.add_ca(world.sg, sg_root.der, NOT_BEFORE, NOT_AFTER, bit(PHYTO), sg_root.pop(world, "SG"))
    sg_root_id = cert_id("SG", sg_root.der)
    assert event(world, r, "CARegistered")["fingerprint"] == sg_root_id != my_root
    assert (t.ca(sg_root_id).party, t.ca(my_root).party) == ("SG", "MY")
    with reverts("CAAlreadyRegistered", fingerprint=my_root, party="MY"):
        t.add_ca(world.my, sg_root.der, NOT_BEFORE, NOT_AFTER, bit(PHYTO))

    # SG's issuing CA, with SG's proof of possession; MY squats it too, copying SG's published proof.
    r = t.add_ca(world.sg, sg_issuing.der, NOT_BEFORE, NOT_AFTER, bit(PHYTO), sg_issuing.pop(world, "SG"))
    sg_ca = cert_id("SG", sg_issuing.der)
    copied_pop = event(world, r, "CACertificatePublished")["proofOfPossession"]
    r = t.add_ca(world.my, sg_issuing.der, NOT_BEFORE, NOT_AFTER, bit(PHYTO), copied_pop)
    my_ca = cert_id("MY", sg_issuing.der)
    published = event(world, r, "CACertificatePublished")
    assert (published["fingerprint"], published["party"]) == (my_ca, party_id("MY"))

    # Every audit checks the published proofs: SG's holds, MY's does not (it is bound to the party).
    def pop_holds(party: str, proof: bytes) -> bool:
        message = pop_message(world.chain.chain_id, t.address, party, cert_hash(sg_issuing.der))
        return verify_pop(sg_issuing.certificate, proof, message)

    assert pop_holds("SG", copied_pop)
    assert not pop_holds("MY", published["proofOfPossession"])

    # MY cannot manage SG's ids.
    for name, op in {
        "revokeCA": lambda: t.revoke_ca(world.my, sg_ca),
        "suspendCA": lambda: t.suspend_ca(world.my, sg_root_id),
        "authorizeIssuer": lambda: t.authorize_issuer(world.my, world.account(7).address, sg_ca, bit(PHYTO)),
    }.items():
        with reverts("NotYourCA", owner="SG", caller="MY", _what=name):
            op()

    # Issuers bound to each id; MY's can anchor, but a batch is its issuer's, not SG's.
    sg_issuer = add_issuer(world, world.sg, 4, bit(PHYTO), ca=sg_ca)
    my_issuer = add_issuer(world, world.my, 5, bit(PHYTO), ca=my_ca)
    t.recognize(world.th, "SG", bit(PHYTO))
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = issue_signer(
        "SG", signer_key.public_key(), sg_issuing.certificate, sg_issuing.key, valid_from=CERT_VALID_FROM
    )
    batch = anchor_batch(world, sg_issuer, n=3, doc_type=PHYTO, terms=TO_TH)

    def message(party: str, issuer: str) -> bytes:
        return batch_message(batch.root, batch.size, PHYTO, world.chain.chain_id, d.address, party, issuer)

    signature = sign_with_key(signer_key, message("SG", sg_issuer.address))
    d.anchor(my_issuer.account, batch.root, PHYTO, batch.size)
    sg_batch, my_batch = d.batch(sg_issuer.address, batch.root), d.batch(my_issuer.address, batch.root)
    assert checksummed(sg_batch)["issuer"] == sg_issuer.address
    assert checksummed(my_batch)["issuer"] == my_issuer.address
    assert d.document(my_issuer.address, batch.root, batch.leaf(0))["party"] == party_id("MY")
    assert verify_signature(signer_cert, signature.alg, signature.value, message("SG", sg_issuer.address))
    assert not verify_signature(signer_cert, signature.alg, signature.value, message("MY", my_issuer.address))
    # Recognition of SG does not extend to MY's squatted copy of SG's CA.
    now = world.now()
    assert t.recognizes_ca_at("TH", sg_ca, PHYTO, now)
    assert not t.recognizes_ca_at("TH", my_ca, PHYTO, now)

    # SG revoking its CA (backdated) leaves MY's id alone, and the other way round.
    advance_time(world.chain, 100)
    effective = batch.anchored_at + 10
    t.revoke_ca(world.sg, sg_ca, effective, reason=1)
    assert t.ca_status_at(sg_ca, effective) == Status.REVOKED
    assert (t.ca(my_ca).status, t.ca_status_at(my_ca, effective)) == (Status.ACTIVE, Status.ACTIVE)
    assert d.issuer_auth(my_issuer.address)["active"] and not d.issuer_auth(sg_issuer.address)["active"]
    t.revoke_ca(world.my, my_root, t.ca(my_root).registered_at, reason=1)
    assert t.ca_status_at(my_root, t.ca(my_root).registered_at) == Status.REVOKED
    assert t.ca(sg_root_id).status == Status.ACTIVE
    assert t.ca_status_at(sg_root_id, world.now()) == Status.ACTIVE
    # SG's batch anchored before its revocation's effective time stays valid; later anchorings do not.
    assert call(t, "anchoringValidAt", sg_issuer.address, batch.anchored_at)
    assert not call(t, "anchoringValidAt", sg_issuer.address, effective)


# ====================================================================== 3. a hot issuer key


def test_hot_issuer_key_acts_only_on_its_own_batches(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    ca = add_ca(world, world.sg, bit(VET, PHYTO))
    vet = add_issuer(world, world.sg, 4, bit(VET), ca=ca)  # the leaked hot key
    phyto = add_issuer(world, world.sg, 5, bit(PHYTO), ca=ca)
    batch = anchor_batch(world, phyto, n=4, doc_type=PHYTO)
    own = anchor_batch(world, vet, n=2, doc_type=VET)
    leaked, root = vet.account, batch.root
    for name, op in {
        "revokeBatch": lambda: d.revoke_batch(leaked, phyto.address, root),
        "revokeDocument": lambda: d.revoke_document(leaked, batch.proof(0)),
        "supersede": lambda: d.supersede(leaked, batch.proof(0), batch.proof(1)),
        "supersede by its own": lambda: d.supersede(leaked, batch.proof(0), own.proof(0)),
    }.items():
        with reverts("NotBatchIssuer", root=root, caller=leaked, issuer=phyto.account, _what=name):
            op()
    view = d.document(phyto.address, root, batch.leaf(0))
    assert view["batchRevocation"]["revokedAt"] == 0
    assert (view["state"]["revokedAt"], view["state"]["supersededAt"]) == (0, 0)
    # The party's admin acts on all of its batches; the phytosanitary issuer on its own.
    d.revoke_document(world.sg, batch.proof(0), reason=1)
    d.supersede(world.sg, batch.proof(1), batch.proof(2))
    d.revoke_document(phyto.account, batch.proof(3))
    # Once SG revokes the leaked key, it cannot act even on the batches it anchored itself.
    t.revoke_issuer(world.sg, vet.address, reason=1)
    for name, op in {
        "revokeBatch": lambda: d.revoke_batch(leaked, vet.address, own.root),
        "revokeDocument": lambda: d.revoke_document(leaked, own.proof(0)),
        "supersede": lambda: d.supersede(leaked, own.proof(0), own.proof(1)),
    }.items():
        with reverts("NotAuthorizedForParty", account=leaked, _what=name):
            op()
    with reverts("IssuerNotActive", account=leaked):
        anchor_batch(world, vet, doc_type=VET)
    d.revoke_batch(world.sg, vet.address, own.root, reason=1)
    d.revoke_batch(world.sg, phyto.address, root, reason=1)


# ====================================================================== 4. a service key is no admin key


def test_service_key_is_not_admin_key(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    th_issuer = add_issuer(world, world.th, 7, bit(PERMIT))
    t.recognize(world.sg, "TH", bit(PERMIT))
    service = add_consumer(world, world.sg, 4)  # SG's border service key
    pid, _ = t.propose(world.sg, ProposalKind.SET_THRESHOLD, threshold=3)
    cid, _ = t.propose_admin_change(world.sg, world.account(8).address, True)
    attacker = world.account(9).address
    for name, op in {
        "propose": lambda: t.propose(service, ProposalKind.REMOVE_PARTY, "TH"),
        "approve": lambda: t.approve(service, pid),
        "execute": lambda: t.execute(service, pid),
        "add an admin": lambda: t.propose_admin_change(service, attacker, True),
        "make itself admin": lambda: t.propose_admin_change(service, service.address, True),
        "remove an admin": lambda: t.propose_admin_change(service, world.sg.address, False),
        "approveAdminChange": lambda: t.approve_admin_change(service, cid),
        "cancelAdminChange": lambda: t.cancel_admin_change(service, cid),
        "executeAdminChange": lambda: t.execute_admin_change(service, cid),
        "recognize": lambda: t.recognize(service, "MY", bit(PERMIT)),
        "unrecognize": lambda: t.unrecognize(service, "TH", bit(PERMIT)),
        "addCA": lambda: t.add_ca(service, fake_certificate(), NOT_BEFORE, NOT_AFTER, bit(PERMIT)),
        "grantConsumer": lambda: t.grant_consumer(service, attacker),
    }.items():
        with reverts("NotPartyAdmin", account=service, _what=name):
            op()
    assert t.admins("SG") == [world.sg.address]
    # It does what it is for: use up a permit destined to SG.
    permit = anchor_batch(world, th_issuer, n=1, terms=Terms("SG"))
    r = d.consume(service, permit.proof(0), permit.opening(0))
    assert event(world, r, "DocumentConsumed")["account"] == service.address


@pytest.mark.devchain("evm_increaseTime")
def test_service_key_is_not_admin_stolen_admin_key_needs_a_majority(world: World) -> None:
    t = world.reg.trust
    a5, stolen = world.account(5), world.account(6)
    change_admins(world, [world.sg], a5.address, add=True)
    change_admins(world, [world.sg, a5], stolen.address, add=True)
    assert t.admins("SG") == [world.sg.address, a5.address, stolen.address]
    # The thief tries to take the party over: remove both other admins, add an accomplice.
    remove_sg, r = t.propose_admin_change(stolen, world.sg.address, False)
    ready_at = tx_time(world, r) + ADMIN_DELAY
    remove_a5, _ = t.propose_admin_change(stolen, a5.address, False)
    accomplice, _ = t.propose_admin_change(stolen, funded(world, 10).address, True)
    for change in (remove_sg, remove_a5, accomplice):
        with reverts("AdminChangeNotReady", changeId=change, approvals=1, needed=2, _what=f"change {change}"):
            t.execute_admin_change(stolen, change)
    with reverts("AdminChangeNotReady", changeId=remove_sg, approvals=1, needed=2, readyAt=ready_at):
        t.execute_admin_change(stolen, remove_sg)
    # The other admins cancel within the delay (even the admin a removal names may cancel it, if it is
    # not its own key's removal).
    r = t.cancel_admin_change(a5, remove_sg)
    assert event(world, r, "AdminChangeCancelled") == {"changeId": remove_sg, "admin": a5.address}
    t.cancel_admin_change(world.sg, remove_a5)
    t.cancel_admin_change(a5, accomplice)
    advance_time(world.chain, ADMIN_DELAY + 10)
    for change in (remove_sg, remove_a5, accomplice):
        with reverts("AdminChangeClosed", changeId=change, _what=f"change {change}"):
            t.execute_admin_change(stolen, change)
    assert t.admins("SG") == [world.sg.address, a5.address, stolen.address]

    # The victims remove the stolen key by majority; it cannot cancel its own removal.
    removal, _ = t.propose_admin_change(world.sg, stolen.address, False)
    with reverts("CannotCancelOwnRemoval", changeId=removal, admin=stolen):
        t.cancel_admin_change(stolen, removal)
    t.approve_admin_change(a5, removal)
    r = t.execute_admin_change(a5, removal)
    assert event(world, r, "AdminRemoved") == {"party": party_id("SG"), "admin": stolen.address}
    assert event(world, r, "AdminChangeExecuted") == {"changeId": removal, "approvals": 2}
    assert t.admins("SG") == [world.sg.address, a5.address]
    assert t.role_of(stolen.address) == (Role.NONE, "")
    with reverts("NotPartyAdmin", account=stolen):
        t.propose_admin_change(stolen, world.sg.address, False)


# ====================================================================== 5. front-running an anchoring


def test_front_running_anchor_neither_blocks_nor_takes_over(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    sg_issuer = add_issuer(world, world.sg, 4, bit(PERMIT))
    attacker = add_issuer(world, world.th, 5, bit(PERMIT))
    t.recognize(world.my, "SG", bit(PERMIT))
    my_border = add_consumer(world, world.my, 6)
    # SG's batch, whose root (all the attacker needs) it saw in the mempool and anchors first.
    docs = make_docs(4, PERMIT, Terms("MY"))
    tree = MerkleTree([doc.leaf for doc in docs])
    r = d.anchor(attacker.account, tree.root, PERMIT, tree.size)
    attacker_at = tx_time(world, r)
    batch = anchor_docs(world, sg_issuer, docs)  # SG's anchoring still succeeds
    assert batch.root == tree.root
    assert checksummed(d.batch(sg_issuer.address, tree.root))["issuer"] == sg_issuer.address
    assert checksummed(d.batch(attacker.address, tree.root))["issuer"] == attacker.address
    assert d.document(sg_issuer.address, tree.root, tree.leaf(0))["party"] == party_id("SG")
    assert d.document(attacker.address, tree.root, tree.leaf(0))["party"] == party_id("TH")
    with reverts("RootAlreadyAnchored", root=tree.root, issuer=attacker.account, anchoredAt=attacker_at):
        d.anchor(attacker.account, tree.root, PERMIT, tree.size)

    # The attacker's party has no hold on SG's batch, and its copy is no successor of SG's documents.
    copy = AnchoredBatch(tree, attacker.account, PERMIT, r, attacker_at, tuple(docs))
    for name, op in {
        "revokeBatch by the issuer": lambda: d.revoke_batch(attacker.account, sg_issuer.address, tree.root),
        "revokeBatch by the admin": lambda: d.revoke_batch(world.th, sg_issuer.address, tree.root),
        "revokeDocument": lambda: d.revoke_document(world.th, batch.proof(0)),
        "supersede": lambda: d.supersede(world.th, batch.proof(0), copy.proof(1)),
    }.items():
        with reverts("NotIssuingParty", root=tree.root, callerParty="TH", issuingParty="SG", _what=name):
            op()
    with reverts("NotIssuingParty", root=tree.root, callerParty="SG", issuingParty="TH"):
        d.supersede(world.sg, batch.proof(0), copy.proof(1))
    # Revoking its own copy touches nothing of SG's.
    d.revoke_batch(world.th, attacker.address, tree.root)
    assert d.document(sg_issuer.address, tree.root, tree.leaf(0))["batchRevocation"]["revokedAt"] == 0

    # SG's documents' lifecycle is unaffected.
    d.revoke_document(sg_issuer.account, batch.proof(0), reason=2)
    d.supersede(world.sg, batch.proof(1), batch.proof(2))
    r = d.consume(my_border, batch.proof(3), batch.opening(3))
    assert event(world, r, "DocumentConsumed")["issuer"] == sg_issuer.address
    view = d.document(sg_issuer.address, tree.root, tree.leaf(1))
    assert (view["successorIssuer"], view["successorLeaf"]) == (sg_issuer.address.lower(), tree.leaf(2))
    d.revoke_batch(world.sg, sg_issuer.address, tree.root)


# ====================================================================== 6. governance griefing


def test_governance_griefing_reserved_admin_account(world: World) -> None:
    t = world.reg.trust
    ca = add_ca(world, world.my)
    future_admin = world.account(7).address
    pid, _ = t.propose(world.sg, ProposalKind.ADD_PARTY, "ID", future_admin)
    # MY tries to burn the proposed admin's account by giving it a role first.
    for name, op in {
        "make it MY's admin": lambda: t.propose_admin_change(world.my, future_admin, True),
        "make it MY's issuer": lambda: t.authorize_issuer(world.my, future_admin, ca, bit(PERMIT)),
        "make it MY's consumer": lambda: t.grant_consumer(world.my, future_admin),
        "name it in another AddParty": lambda: t.propose(
            world.my, ProposalKind.ADD_PARTY, "ZZ", future_admin
        ),
    }.items():
        with reverts("AccountReserved", account=future_admin, proposalId=pid, _what=name):
            op()
    assert t.role_of(future_admin) == (Role.NONE, "")
    t.approve(world.th, pid)
    r = t.execute(world.th, pid)
    assert event(world, r, "PartyAdded") == {
        "party": party_id("ID"),
        "admin": future_admin,
        "proposalId": pid,
    }
    assert t.role_of(future_admin) == (Role.ADMIN, "ID")


def test_governance_griefing_stale_approval_after_readmission(world: World) -> None:
    t = world.reg.trust
    # MY proposes a change (its approval counts at once), then is removed and readmitted.
    pid, _ = t.propose(world.my, ProposalKind.SET_ONE_TIME_TYPES, doc_types=bit(PERMIT, PHYTO))
    pass_proposal(world, [world.sg, world.th], ProposalKind.REMOVE_PARTY, "MY")
    new_my = world.account(4)
    pass_proposal(world, [world.sg, world.th], ProposalKind.ADD_PARTY, "MY", new_my.address)
    t.approve(world.sg, pid)
    # MY's approval from its earlier membership does not come back with it.
    with reverts("InsufficientApprovals", proposalId=pid, approvals=1, threshold=2):
        t.execute(world.sg, pid)
    assert t.one_time_doc_types() == bit(PERMIT)
    # Approved again in its current membership, it counts.
    t.approve(new_my, pid)
    t.execute(world.sg, pid)
    assert t.one_time_doc_types() == bit(PERMIT, PHYTO)


@pytest.mark.devchain("evm_increaseTime")
def test_governance_griefing_readmission_restores_nothing(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    th_ca = add_ca(world, world.th, bit(PERMIT))
    old_issuer = add_issuer(world, world.th, 4, bit(PERMIT), ca=th_ca)
    old_border = add_consumer(world, world.th, 5)
    t.recognize(world.sg, "TH", bit(PERMIT))
    sg_issuer = add_issuer(world, world.sg, 8, bit(PERMIT))
    t.recognize(world.th, "SG", bit(PERMIT))
    advance_time(world.chain, 10)
    pass_proposal(world, [world.sg, world.my], ProposalKind.REMOVE_PARTY, "TH")
    advance_time(world.chain, 10)
    new_admin = world.account(6)
    _, r = pass_proposal(world, [world.sg, world.my], ProposalKind.ADD_PARTY, "TH", new_admin.address)
    admitted = tx_time(world, r)
    advance_time(world.chain, 10)
    now = world.now()
    # Its old issuer stays revoked, its old border key has no role, and recognitions given to or by it in
    # its earlier membership count for nothing.
    assert t.issuer(old_issuer.address).status == Status.REVOKED
    with reverts("IssuerNotActive", account=old_issuer.account):
        anchor_batch(world, old_issuer)
    assert t.role_of(old_border.address) == (Role.NONE, "")
    permit = anchor_batch(world, sg_issuer, n=1, terms=TO_TH)
    with reverts("NotDestinationConsumer", account=old_border, destination="TH"):
        d.consume(old_border, permit.proof(0), permit.opening(0))
    assert t.recognition_at("SG", "TH", now) == 0
    assert not t.recognizes_ca_at("SG", th_ca, PERMIT, now)
    assert t.recognition_at("TH", "SG", now) == 0
    with reverts("EffectiveTimeBeforeAdmission", effectiveAt=admitted - 5, admittedAt=admitted):
        t.recognize(world.sg, "TH", bit(PERMIT), admitted - 5)
    # The rightful path: the new admin authorizes a new issuer and border key, and recognitions are given
    # afresh.
    new_issuer = add_issuer(world, new_admin, 7, bit(PERMIT), ca=th_ca)
    anchor_batch(world, new_issuer)
    t.recognize(world.sg, "TH", bit(PERMIT))
    assert t.recognizes_ca_at("SG", th_ca, PERMIT, world.now())
    t.recognize(new_admin, "SG", bit(PERMIT))
    new_border = add_consumer(world, new_admin, 9)
    d.consume(new_border, permit.proof(0), permit.opening(0))
