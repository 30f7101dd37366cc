"""The findings only the audit can make on the v2 registries: proofs of possession checked off chain,
one CA key registered by several parties, one root anchored by several accounts, and a use of a
one-time document by a party that did not recognize its issuer (forged, as the contract refuses it)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from eth_account.signers.local import LocalAccount

from anchor.audit import (
    AuditSource,
    Finding,
    Fold,
    ResumeStore,
    check_consistency,
    find,
    replay,
    replay_incremental,
    state_at,
    write_report,
)
from anchor.audit.events import Event
from anchor.audit.snapshot import Document, Snapshot
from anchor.audit.tables import build_tables
from anchor.audit.terms_check import check_uses, judge
from anchor.cacert import pop_message, sign_pop
from anchor.issuing.leaf import Terms, leaf_of_opening
from anchor.pki import make_root_ca
from tests.conftest import World
from tests.registry_helpers import (
    CERT_VALID_FROM,
    NOT_AFTER,
    NOT_BEFORE,
    PERMIT,
    AnchoredBatch,
    TestCA,
    add_consumer,
    add_issuer,
    anchor_batch,
    bit,
    call,
    cert_hash,
    cert_id,
    fake_certificate,
    make_cas,
    reverts,
    tx_time,
)
from tests.test_audit_support import new_world, real_ca


def _audit(w: World, url: str) -> tuple[AuditSource, Snapshot, list[Finding]]:
    src = AuditSource.connect(url, w.reg.manifest)
    snap = replay(src, src.head())
    report = check_consistency(src, snap)
    assert report.ok, report.mismatches[:5]
    return src, snap, find(snap, consistency=report)


def _of(found: list[Finding], kind: str) -> list[Finding]:
    return [f for f in found if f.kind == kind]


def _add(w: World, admin: LocalAccount, der: bytes, proof: bytes) -> None:
    w.reg.trust.add_ca(admin, der, NOT_BEFORE, NOT_AFTER, bit(PERMIT), proof)


def test_proofs_of_possession_are_checked_against_the_published_certificates(anvil_url: str) -> None:
    w = new_world(anvil_url)
    sg, th, my = (make_cas(p)[0] for p in ("SG", "TH", "MY"))
    good = real_ca(w, w.sg, bit(PERMIT), sg)
    # TH registers its CA without a proof (an old tool, or a certificate it does not hold).
    w.reg.trust.register_ca(w.th, th.info, bit(PERMIT))
    # MY signs the message meant for SG: a real signature by the right key, but bound to another party.
    wrong_party = sign_pop(
        my.key, my.info, pop_message(w.chain.chain_id, w.reg.trust.address, "SG", my.info.fingerprint)
    )
    _add(w, w.my, my.der, wrong_party)
    # Junk in place of a proof, and a proof next to a certificate that is no certificate at all.
    junk_ca = make_cas("MY")[0]
    _add(w, w.my, junk_ca.der, b"\x30\x06\x02\x01\x01\x02\x01\x01")
    not_a_cert = fake_certificate()
    _add(w, w.my, not_a_cert, b"proof")
    no_cert_no_proof = fake_certificate()
    _add(w, w.sg, no_cert_no_proof, b"")

    src, snap, found = _audit(w, anvil_url)
    assert snap.cas[good].certificate == sg.der and snap.cas[good].certificate_hash == cert_hash(sg.der)

    def hexid(party: str, der: bytes) -> str:
        return "0x" + cert_id(party, der).hex()

    invalid = {f.subject: f for f in _of(found, "ca-pop-invalid")}
    missing = {f.subject: f for f in _of(found, "ca-pop-missing")}
    assert set(invalid) == {hexid("MY", my.der), hexid("MY", junk_ca.der), hexid("MY", not_a_cert)}
    assert set(missing) == {hexid("TH", th.der), hexid("SG", no_cert_no_proof)}
    assert "0x" + good.hex() not in invalid | missing
    assert all(f.severity == "critical" for f in invalid.values())
    assert all(f.severity == "warning" for f in missing.values())
    assert (
        "signature over this registry's message for this party"
        in invalid[hexid("MY", my.der)].details["reason"]
    )
    assert "cannot be read" in invalid[hexid("MY", not_a_cert)].details["reason"]
    assert "cannot be read" in missing[hexid("SG", no_cert_no_proof)].details["reason"]
    th_missing = missing[hexid("TH", th.der)]
    assert th_missing.details["subject"] == th.certificate.subject.rfc4514_string()
    assert th_missing.details["proofOfPossession"] == "missing" and th_missing.explanation

    # The same proof against another registry (another chain id) does not verify: it is bound to this one.
    moved = dataclasses.replace(snap, chain_id=snap.chain_id + 1)
    assert "0x" + good.hex() in {f.subject for f in _of(find(moved), "ca-pop-invalid")}
    del src


def test_a_ca_key_registered_by_two_parties_names_both(anvil_url: str, tmp_path: Path) -> None:
    w = new_world(anvil_url)
    sg = make_cas("SG")[0]
    real_ca(w, w.sg, bit(PERMIT), sg)
    # TH copies SG's certificate: it cannot prove possession, so it registers it without a proof.
    w.reg.trust.register_ca(w.th, sg.info, bit(PERMIT))
    # SG re-issues a certificate for the same key: one party, so not a shared key by itself.
    reissued = TestCA(make_root_ca("SG", sg.key, valid_from=CERT_VALID_FROM), sg.key)
    real_ca(w, w.sg, bit(PERMIT), reissued)
    # Another pair: MY and TH each hold a key of their own; nothing is shared.
    real_ca(w, w.my, bit(PERMIT))
    real_ca(w, w.th, bit(PERMIT))

    _, snap, found = _audit(w, anvil_url)
    shared = _of(found, "ca-key-shared")
    assert len(shared) == 1
    f = shared[0]
    assert f.severity == "warning" and f.details["parties"] == ["SG", "TH"]
    assert f.details["provedPossession"] == ["SG"] and not f.details["sameCertificate"]
    assert "registered by SG and TH" in f.title and "only SG proved possession" in f.title
    assert [(r["party"], r["proofOfPossession"]) for r in f.impact] == [
        ("SG", "valid"),
        ("TH", "missing"),
        ("SG", "valid"),
    ]
    assert f.subject.startswith("0x") and f.block == max(r["block"] for r in f.impact)

    # A key compared as a key, not as a certificate: MY holds a certificate of its own for the same
    # key (with a valid proof, it has the key) -- all three parties are named.
    other = TestCA(make_root_ca("MY", sg.key, valid_from=CERT_VALID_FROM), sg.key)
    real_ca(w, w.my, bit(PERMIT), other)
    _, _, found = _audit(w, anvil_url)
    (f,) = _of(found, "ca-key-shared")
    assert f.details["parties"] == ["SG", "TH", "MY"] and f.details["provedPossession"] == ["SG", "MY"]
    src = AuditSource.connect(anvil_url, w.reg.manifest)
    cas = json.loads(write_report(tmp_path, replay(src, src.head()), found, None).json.read_text())["tables"][
        "cas"
    ]
    verdicts = [r[cas["columns"].index("proof of possession")] for r in cas["rows"]]
    assert sorted(verdicts) == ["missing", "valid", "valid", "valid", "valid", "valid"]


def test_a_root_anchored_by_two_accounts_is_two_batches_and_a_finding(anvil_url: str) -> None:
    w = new_world(anvil_url)
    a = add_issuer(w, w.sg, 5, bit(PERMIT), ca=real_ca(w, w.sg, bit(PERMIT)))
    c = add_issuer(w, w.th, 7, bit(PERMIT), ca=real_ca(w, w.th, bit(PERMIT)))
    w.reg.trust.recognize(w.th, "SG", bit(PERMIT))
    mine = anchor_batch(w, a, 3, terms=Terms("TH"))
    # TH's account copies the root it saw: its own batch, which neither blocks nor takes over SG's.
    copy = w.reg.documents.anchor(c.account, mine.root, PERMIT, mine.size)
    w.reg.documents.revoke_document(w.sg, mine.proof(0), 16)
    consumer = add_consumer(w, w.th, 9)
    w.reg.documents.consume(consumer, mine.proof(1), mine.opening(1))

    _, snap, found = _audit(w, anvil_url)
    sg_key, th_key = (a.address.lower(), mine.root), (c.address.lower(), mine.root)
    assert snap.batches[sg_key].party == "SG" and snap.batches[th_key].party == "TH"
    # Revocation is the batch's own: SG's revocation touches SG's batch only. Use is the leaf's: TH's use
    # through SG's batch shows in TH's copy too (a copied root gives no second use).
    leaf0, leaf1 = mine.leaf(0), mine.leaf(1)
    assert snap.document_state_at(*sg_key, leaf0, snap.block_time) == (True, False, False)
    assert snap.document_state_at(*th_key, leaf0, snap.block_time) == (False, False, False)
    assert snap.document_state_at(*sg_key, leaf1, snap.block_time) == (False, False, True)
    assert snap.document_state_at(*th_key, leaf1, snap.block_time) == (False, False, True)
    assert (*th_key, leaf1) in snap.known_documents() and (*th_key, leaf0) in snap.known_documents()
    (f,) = _of(found, "root-anchored-twice")
    assert f.severity == "warning" and f.subject == "0x" + mine.root.hex()
    assert f.details["accounts"] == [a.address.lower(), c.address.lower()]
    assert f.details["parties"] == ["SG", "TH"] and f.details["firstAnchoredBy"] == a.address.lower()
    assert f.details["blocks"] == [mine.receipt.block_number, copy.block_number]
    assert a.address.lower() in f.title and c.address.lower() in f.title
    assert [r["order"] for r in f.impact] == [1, 2] and f.block == copy.block_number
    assert f.details["documentsUsed"] == 1 and f.details["usedThrough"] == {a.address.lower(): 1}
    assert [r["documentsUsedThrough"] for r in f.impact] == [1, 0]
    assert "1 document was used through the batch of " + a.address.lower() in f.title


def test_a_leaf_used_through_a_copied_root_is_used_in_the_original_too(
    anvil_url: str, tmp_path: Path
) -> None:
    """Use is per leaf: a consumption or endorsement through another account's copy of a root uses up
    the original's document too; the audit shows it on the original, and the contracts agree."""
    w = new_world(anvil_url)
    d = w.reg.documents
    a = add_issuer(w, w.sg, 5, bit(PERMIT), ca=real_ca(w, w.sg, bit(PERMIT)))
    c = add_issuer(w, w.th, 7, bit(PERMIT), ca=real_ca(w, w.th, bit(PERMIT)))
    w.reg.trust.recognize(w.th, "SG", bit(PERMIT))
    mine = anchor_batch(w, a, 3, terms=[Terms("TH"), Terms("TH", quantity=6, unit="KG"), Terms("TH")])
    # TH's account copies SG's root: a batch of its own, whose documents are SG's leaves.
    r = d.anchor(c.account, mine.root, PERMIT, mine.size)
    copy = AnchoredBatch(mine.tree, c.account, PERMIT, r, tx_time(w, r), mine.docs)
    consumer = add_consumer(w, w.th, 9)
    # Leaf 0 used up through the copy (TH's consumer recognizes TH's own issuer): the original is spent.
    used = d.consume(consumer, copy.proof(0), mine.opening(0))
    with reverts("DocumentAlreadyConsumed", root=mine.root, leaf=mine.leaf(0), consumedBy="TH"):
        d.consume(consumer, mine.proof(0), mine.opening(0))
    # Leaf 1 endorsed through the copy, then through the original, then used up through the original:
    # one quantity, counted once across both batches.
    d.endorse(consumer, copy.proof(1), mine.opening(1), 2)
    d.endorse(consumer, mine.proof(1), mine.opening(1), 3)
    d.consume(consumer, mine.proof(1), mine.opening(1))

    src, snap, found = _audit(w, anvil_url)
    assert not _of(found, "consumed-without-recognition") and not _of(found, "event-inconsistency")
    sg, th = a.address.lower(), c.address.lower()
    leaf0, leaf1 = mine.leaf(0), mine.leaf(1)
    use0 = snap.usage[leaf0]
    assert use0.consumed_batch == (th, mine.root) and use0.consumed_by == "TH"
    assert use0.consumed_at == tx_time(w, used)
    assert [e.batch for e in snap.usage[leaf1].endorsements] == [
        (th, mine.root),
        (sg, mine.root),
        (sg, mine.root),
    ]
    assert [(e.amount, e.endorsed) for e in snap.usage[leaf1].endorsements] == [(2, 2), (3, 5), (1, 6)]
    # The original shows the use made through the copy, exactly like the contract's views.
    for issuer in (sg, th):
        assert (issuer, mine.root, leaf0) in snap.known_documents()
        assert snap.document_state_at(issuer, mine.root, leaf0, snap.block_time) == (False, False, True)
        assert snap.document_state_at(issuer, mine.root, leaf0, use0.consumed_at - 1) == (False, False, False)
        view = d.document(issuer, mine.root, leaf0)["state"]
        assert (view["consumedAt"], view["endorsed"]) == (use0.consumed_at, 0)
        chain = call(d, "documentStateAt", issuer, mine.root, leaf0, snap.block_time)
        assert list(chain) == [False, False, True]
        assert d.document(issuer, mine.root, leaf1)["state"]["endorsed"] == 6
    # The consistency check asked about the original's document too, and would notice a use kept per
    # batch (here: the original's leaf 0 said to be unused).
    report = check_consistency(src, snap)
    assert report.ok and report.document_entities_total == len(snap.batches) + len(snap.known_documents())
    tampered = dataclasses.replace(snap, usage={k: v for k, v in snap.usage.items() if k != leaf0})
    tampered.documents = {**snap.documents, (sg, mine.root, leaf0): Document(sg, mine.root, leaf0)}
    entities = {m.entity for m in check_consistency(src, tampered).mismatches}
    assert f"document {sg}/0x{mine.root.hex()}/0x{leaf0.hex()}" in entities

    # Tables, views and findings show the shared use on the original.
    tables = {t.name: t for t in build_tables(snap, found, report)}
    docs = tables["documents"]
    rows = {(row[0].lower(), row[2]): dict(zip(docs.columns, row, strict=True)) for row in docs.rows}
    original = rows[(sg, "0x" + leaf0.hex())]
    assert original["used by"] == "TH" and original["used up"]
    assert original["used through account"].lower() == consumer.address.lower()
    assert original["used through batch"].lower() == f"batch of {th}"
    assert rows[(th, "0x" + leaf0.hex())]["used through batch"] == "this batch"
    ends = tables["endorsements"]
    erows = {(row[0].lower(), row[2]): dict(zip(ends.columns, row, strict=True)) for row in ends.rows}
    for issuer in (sg, th):
        row = erows[(issuer, "0x" + leaf1.hex())]
        assert row["amounts"] == "2 + 3 + 1" and row["endorsed so far"] == row["quantity"] == 6
        assert row["remaining"] == 0 and row["used up"] != "no"
    assert erows[(sg, "0x" + leaf1.hex())]["through batch"].lower() == f"batch of {th}, this batch"
    view = state_at(snap, snap.block_time, full=True)
    assert view["documents"]["consumed"] == 2 and view["documents"]["endorsed"] == 1
    states = {(x["issuer"], x["leaf"]): x for x in view["documentStates"]}
    assert states[(sg, "0x" + leaf0.hex())]["consumed"] is True
    assert states[(sg, "0x" + leaf0.hex())]["usedThroughOtherBatches"] == [f"{th}/0x{mine.root.hex()}"]
    (f,) = _of(found, "root-anchored-twice")
    assert f.details["documentsUsed"] == 2 and f.details["usedThrough"] == {sg: 1, th: 2}
    assert "2 documents were used through the batch of" in f.title
    summary = json.loads(write_report(tmp_path, snap, found, report).json.read_text())["summary"]
    assert summary["documentsConsumed"] == 2 and summary["documentsEndorsed"] == 1


def test_a_use_by_a_party_that_did_not_recognize_the_issuer_would_be_reported(anvil_url: str) -> None:
    """consume() and endorse() refuse it, so only a forged event can show it; a real use is not reported."""
    w = new_world(anvil_url)
    a = add_issuer(w, w.sg, 5, bit(PERMIT), ca=real_ca(w, w.sg, bit(PERMIT)))
    w.reg.trust.recognize(w.th, "SG", bit(PERMIT))
    batch = anchor_batch(w, a, 2, terms=[Terms("TH", quantity=6, unit="KG"), Terms("MY", quantity=4)])
    consumer = add_consumer(w, w.th, 9)
    w.reg.documents.endorse(consumer, batch.proof(0), batch.opening(0), 2)
    w.reg.documents.consume(consumer, batch.proof(0), batch.opening(0))
    my_consumer = add_consumer(w, w.my, 10)

    src, snap, found = _audit(w, anvil_url)
    assert not _of(found, "consumed-without-recognition")
    doc = snap.usage[batch.leaf(0)]
    assert [(e.amount, e.endorsed) for e in doc.endorsements] == [(2, 2), (4, 6)] and doc.consumed_at

    # MY never recognized SG: an endorsement (and the use-up it completes, in the same transaction) by
    # MY's consumer account is judged once, as what it is.
    issuer, root, leaf = a.address.lower(), batch.root, batch.leaf(1)
    tx = "0x" + "cd" * 32
    account = my_consumer.address.lower()
    Fold(snap).apply_all(
        [
            Event(snap.block + 1, 0, snap.block_time, tx, "DocumentEndorsed", (root, leaf, "MY", issuer, account, 4, 4, 4)),
            Event(snap.block + 1, 1, snap.block_time, tx, "DocumentConsumed", (root, leaf, "MY", issuer, account)),
        ]
    )  # fmt: skip
    (f,) = _of(find(snap), "consumed-without-recognition")
    assert f.severity == "critical" and f.details["action"] == "endorsed" and f.details["consumer"] == "MY"
    assert f.details["problems"] == ["consumer did not recognize the issuer for this document type"]
    assert "was endorsed by MY" in f.title and f.subject == f"{issuer}/0x{root.hex()}/0x{leaf.hex()}"
    del src


def test_checkpoints_of_the_v1_format_are_replayed_afresh(anvil_url: str, tmp_path: Path) -> None:
    w = new_world(anvil_url)
    add_issuer(w, w.sg, 5, bit(PERMIT), ca=real_ca(w, w.sg, bit(PERMIT)))
    src = AuditSource.connect(anvil_url, w.reg.manifest)
    store = ResumeStore(tmp_path)
    cp = replay_incremental(src, store, src.head()).saved
    assert cp is not None
    with gzip.open(cp.path, "rt") as f:
        raw = json.load(f)
    raw["version"] = 2
    raw["snapshot"]["meta"]["registry"]["format"] = 2
    with gzip.open(cp.path, "wt") as f:
        json.dump(raw, f)
    again = replay_incremental(src, store, src.head())
    assert again.resumed_from is None and again.snapshot.digest() == replay(src, src.head()).digest()
    assert [c.block for c in store.checkpoints()] == [src.head()]


def test_a_key_of_another_kind_is_compared_too(anvil_url: str) -> None:
    """P-384 keys: the comparison is over the SubjectPublicKeyInfo, whatever the algorithm."""
    w = new_world(anvil_url)
    key = ec.generate_private_key(ec.SECP384R1())
    sg = TestCA(make_root_ca("SG", key, valid_from=CERT_VALID_FROM), key)
    th = TestCA(make_root_ca("TH", key, valid_from=CERT_VALID_FROM), key)
    real_ca(w, w.sg, bit(PERMIT), sg)
    real_ca(w, w.th, bit(PERMIT), th)
    _, _, found = _audit(w, anvil_url)
    (f,) = _of(found, "ca-key-shared")
    assert f.details["provedPossession"] == ["SG", "TH"] and "each proved possession" in f.title
    assert not _of(found, "ca-pop-invalid") and not _of(found, "ca-pop-missing")


def test_every_use_is_checked_against_the_terms_in_its_call_data(anvil_url: str) -> None:
    """The auditor reads each consume/endorse transaction back and checks its opening and validity
    period; the registry refuses any other use, so a healthy chain gives no problem, and the same check
    finds one when the terms it reads say the use was outside them."""
    w = new_world(anvil_url)
    d = w.reg.documents
    a = add_issuer(w, w.sg, 5, bit(PERMIT), ca=real_ca(w, w.sg, bit(PERMIT)))
    w.reg.trust.recognize(w.th, "SG", bit(PERMIT))
    now = w.now()
    batch = anchor_batch(
        w,
        a,
        2,
        terms=[Terms("TH", valid_until=now + 3600), Terms("TH", quantity=5, unit="KG", valid_from=now - 5)],
    )
    consumer = add_consumer(w, w.th, 9)
    d.consume(consumer, batch.proof(0), batch.opening(0))
    d.endorse(consumer, batch.proof(1), batch.opening(1), 2)
    src, snap, _ = _audit(w, anvil_url)
    doc_types = {k: b.doc_type for k, b in snap.batches.items()}
    checked, problems = check_uses(src, snap.block, doc_types)
    assert (checked, problems) == (2, [])
    assert check_consistency(src, snap).ok
    # The same transactions judged as if the batch were of another type: the opening no longer yields
    # the leaf (the check really recomputes it).
    other = {k: (t + 1) % 64 for k, t in doc_types.items()}
    _, problems = check_uses(src, snap.block, other)
    assert {p.problem for p in problems} == {"the terms it was used under do not open its leaf"}
    # And the validity rule itself, at and beyond both ends.
    assert judge(100, 100, 200) is None and judge(200, 100, 200) is None and judge(150, 0, 0) is None
    assert judge(99, 100, 200) == "used at 99, before its validFrom 100"
    assert judge(201, 100, 200) == "used at 201, after its validUntil 200"
    opening = batch.opening(0)
    packed = opening.as_tuple()
    assert leaf_of_opening(PERMIT, packed[0], opening.terms.packed()) == batch.leaf(0)
