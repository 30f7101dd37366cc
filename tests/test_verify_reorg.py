"""The verifier's head-synced cache never answers from a block that a reorg replaced."""

from __future__ import annotations

from pathlib import Path

from anchor.accounts import dev_account
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.registry import DocumentProof, Registries
from tests.conftest import MNEMONIC, World, free_port, start_anvil
from tests.issuing_helpers import build_scenario


def test_same_height_reorg_is_noticed(tmp_path: Path) -> None:
    # A private node: reorging the session's shared anvil would disturb other tests.
    port = free_port()
    proc = start_anvil(port)
    try:
        chain = connect(ChainConfig(backend="rpc", rpc_url=f"http://127.0.0.1:{port}", mnemonic=MNEMONIC))
        accounts = [dev_account(MNEMONIC, i) for i in range(4)]
        parties = [("SG", accounts[1].address), ("TH", accounts[2].address), ("MY", accounts[3].address)]
        manifest = deploy(chain, accounts[0], parties, threshold=2, proposal_lifetime=3600)
        world = World(chain, Registries.open(chain, manifest), *accounts)
        sc = build_scenario(world, tmp_path)
        verifier = sc.verifier()
        provider = chain.w3.provider
        snapshot = provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        before = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
        assert before.verdict.value == "VALID"
        # Replace that block by another at the same height, one that revokes the document.
        provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        world.reg.documents.revoke_document(world.sg, DocumentProof.of(sc.bundles[0]), 16)
        assert chain.block_number() == before.read_at_block
        after = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
        assert after.read_at_block == before.read_at_block
        assert after.read_at_block_hash != before.read_at_block_hash
        assert after.check("document_status").code == "DOCUMENT_REVOKED"
    finally:
        proc.stop()
