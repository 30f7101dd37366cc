"""The verifier's head-synced cache never answers from a block that a reorg replaced, and a head block
handed in by the caller (a service sharing head requests) is used without asking the node again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor._internal.anvil import LocalNode, rpc
from anchor.accounts import dev_account
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.registry import DocumentProof, Registries
from anchor.verify import ChainHead
from tests.conftest import MNEMONIC, World, free_port, start_anvil
from tests.issuing_helpers import Scenario, build_scenario

pytestmark = pytest.mark.devchain("evm_snapshot/evm_revert, anvil_mine on a node of its own")


@pytest.fixture
def private(tmp_path: Path) -> Iterator[tuple[LocalNode, Scenario]]:
    """A private node: reorging the session's shared anvil would disturb other tests."""
    with start_anvil(free_port()) as node:
        chain = connect(ChainConfig(backend="rpc", rpc_url=node.url, mnemonic=MNEMONIC))
        accounts = [dev_account(MNEMONIC, i) for i in range(4)]
        parties = [("SG", accounts[1].address), ("TH", accounts[2].address), ("MY", accounts[3].address)]
        manifest = deploy(chain, accounts[0], parties, threshold=2, proposal_lifetime=3600)
        world = World(chain, Registries.open(chain, manifest), *accounts)
        yield node, build_scenario(world, tmp_path)


def _call(node: LocalNode, method: str, params: list[Any] | None = None) -> Any:
    return rpc(node.url, method, params or [])


def _head(node: LocalNode) -> ChainHead:
    return ChainHead.from_block(_call(node, "eth_getBlockByNumber", ["latest", False]))


def test_same_height_reorg_is_noticed(private: tuple[LocalNode, Scenario]) -> None:
    node, sc = private
    verifier = sc.verifier()
    snapshot = _call(node, "evm_snapshot")
    _call(node, "evm_mine")
    before = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
    assert before.verdict.value == "VALID"
    # Replace that block by another at the same height, one that revokes the document.
    _call(node, "evm_revert", [snapshot])
    sc.world.reg.documents.revoke_document(sc.world.sg, DocumentProof.of(sc.bundles[0]), 16)
    assert sc.world.chain.block_number() == before.read_at_block
    after = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
    assert after.read_at_block == before.read_at_block
    assert after.read_at_block_hash != before.read_at_block_hash
    assert after.check("document_status").code == "DOCUMENT_REVOKED"


def test_a_reorg_to_a_shorter_chain_is_noticed_through_a_handed_in_head(
    private: tuple[LocalNode, Scenario],
) -> None:
    node, sc = private
    verifier = sc.verifier()
    snapshot = _call(node, "evm_snapshot")
    _call(node, "anvil_mine", ["0x3"])
    before = verifier.verify(sc.docs[0], sc.bundles[0], "TH", head=_head(node))
    assert before.verdict.value == "VALID"
    # The three blocks are gone; the new branch is one block long and revokes the document.
    _call(node, "evm_revert", [snapshot])
    sc.world.reg.documents.revoke_document(sc.world.sg, DocumentProof.of(sc.bundles[0]), 16)
    shorter = _head(node)
    assert before.read_at_block is not None and shorter.number < before.read_at_block
    after = verifier.verify(sc.docs[0], sc.bundles[0], "TH", head=shorter)
    assert (after.read_at_block, after.read_at_block_hash) == (shorter.number, shorter.hash)
    assert after.check("document_status").code == "DOCUMENT_REVOKED"


def test_a_head_that_comes_in_late_does_not_roll_the_verifier_back(
    private: tuple[LocalNode, Scenario],
) -> None:
    node, sc = private
    verifier = sc.verifier()
    late = _head(node)  # read first, handed in last: as when concurrent requests finish out of order
    sc.world.reg.documents.revoke_document(sc.world.sg, DocumentProof.of(sc.bundles[0]), 16)
    newer = verifier.verify(sc.docs[0], sc.bundles[0], "TH", head=_head(node))
    assert newer.check("document_status").code == "DOCUMENT_REVOKED"
    again = verifier.verify(sc.docs[0], sc.bundles[0], "TH", head=late)
    assert (again.read_at_block, again.read_at_block_hash) == (newer.read_at_block, newer.read_at_block_hash)
    assert again.check("document_status").code == "DOCUMENT_REVOKED"


def test_a_handed_in_head_costs_no_request_when_nothing_moved(private: tuple[LocalNode, Scenario]) -> None:
    node, sc = private
    verifier = sc.verifier()
    head = _head(node)
    first = verifier.verify(sc.docs[0], sc.bundles[0], "TH", head=head)
    assert first.verdict.value == "VALID" and first.read_at_block == head.number
    node.stop()  # from now on any request to the node fails
    again = verifier.verify(sc.docs[0], sc.bundles[0], "TH", head=head)
    assert again.to_dict() == first.to_dict()
    # Without a head the verifier must ask the node, which is gone.
    alone = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
    assert alone.verdict.value == "INDETERMINATE"
    assert alone.check("anchored").code == "CHAIN_UNAVAILABLE"
