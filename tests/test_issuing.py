"""Issuance end to end on both chains: batches of 1 and odd sizes, bundles that check out, re-issuing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchor.bundle import Bundle
from anchor.cacert import read_ca_certificate
from anchor.doctypes import ALL_TYPES_MASK, mask_of
from anchor.errors import ConfigError, ContractRevert
from anchor.issuing.batch import DocumentInput, DocumentIssuer
from anchor.issuing.canonical import digest_bytes
from anchor.issuing.merkle import verify_inclusion
from anchor.issuing.signing import Signer
from anchor.pki import init_pki
from tests.conftest import World


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    init_pki("SG", out)
    return out


def _setup(world: World, pki: Path, doc_types: int = ALL_TYPES_MASK) -> DocumentIssuer:
    ca = read_ca_certificate(pki / "root-ca.pem")
    ca_id_, _ = world.reg.trust.register_ca(world.sg, ca, ALL_TYPES_MASK)
    world.reg.trust.authorize_issuer(world.sg, world.account(5).address, ca_id_, doc_types)
    signer = Signer.from_pem(
        pki / "signer-key.pem", pki / "signer.pem", [pki / "issuing-ca.pem", pki / "root-ca.pem"]
    )
    return DocumentIssuer(world.reg, world.account(5), signer)


def _docs(n: int) -> list[DocumentInput]:
    return [
        DocumentInput(
            f"permit-{i}.json",
            digest_bytes(
                json.dumps({"permit": i, "species": "Crocodylus porosus"}).encode(), "application/json"
            ),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 2, 7, 33])
def test_issue_batch_sizes_produce_checkable_bundles(world: World, pki: Path, n: int) -> None:
    issuer = _setup(world, pki)
    docs = _docs(n)
    result = issuer.issue(docs, "cites-permit")
    assert len(result.bundles) == n and result.batches == 1 and result.transactions == 1
    roots = {b.batch.root for b in result.bundles}
    assert len(roots) == 1
    root = bytes.fromhex(roots.pop()[2:])
    on_chain = world.reg.documents.batch(world.account(5).address, root)
    assert on_chain["size"] == n and on_chain["issuer"].lower() == world.account(5).address.lower()
    for i, b in enumerate(result.bundles):
        assert b.document.digest == "0x" + docs[i].digest.digest.hex()
        assert b.proof.index == i and b.proof.tree_size == n
        assert b.proof_valid() and b.signature_valid()
        leaf = bytes.fromhex(b.leaf.hash[2:])
        path = [bytes.fromhex(h[2:]) for h in b.proof.path]
        assert verify_inclusion(leaf, i, n, path, root)
        # The contract's own RFC 9162 check agrees with the library.
        fn = world.chain.abis[1].fn("verifyInclusion")
        assert fn.decode(world.chain.call(world.reg.documents.address, fn.encode(root, leaf, i, n, path)))
        assert b.anchor.block_time == on_chain["anchoredAt"]
        assert Bundle.from_json(b.to_json()) == b
    # Salts are fresh per document: no two leaves coincide even for equal digests.
    assert len({b.leaf.salt for b in result.bundles}) == n


def test_several_batches_go_into_one_transaction(world: World, pki: Path) -> None:
    issuer = _setup(world, pki)
    issuer.max_batch = 4
    result = issuer.issue(_docs(10), "cites-permit")
    assert result.batches == 3 and result.transactions == 1
    assert [b.proof.tree_size for b in result.bundles] == [4] * 8 + [2] * 2
    assert len({b.anchor.transaction_hash for b in result.bundles}) == 1


def test_issue_refuses_unauthorized_type_before_signing(world: World, pki: Path) -> None:
    issuer = _setup(world, pki, doc_types=mask_of(["cites-permit"]))
    with pytest.raises(ConfigError, match="may not anchor phytosanitary-certificate"):
        issuer.issue(_docs(1), "phytosanitary-certificate")


def test_issue_by_unregistered_account_is_refused(world: World, pki: Path) -> None:
    issuer = _setup(world, pki)
    issuer.account = world.account(9)
    with pytest.raises(ConfigError, match="not a registered issuer"):
        issuer.issue(_docs(1), "cites-permit")


def test_anchoring_same_root_twice_reverts(world: World, pki: Path) -> None:
    issuer = _setup(world, pki)
    b = issuer.issue(_docs(3), "cites-permit").bundles[0]
    with pytest.raises(ContractRevert) as e:
        world.reg.documents.anchor(world.account(5), bytes.fromhex(b.batch.root[2:]), 0, 3)
    assert e.value.error == "RootAlreadyAnchored"
