"""What the benchmarks share: a private anvil, freshly deployed registries, an authorized SG issuer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from anchor._internal.anvil import LocalNode
from anchor.accounts import dev_account
from anchor.cacert import read_ca_certificate
from anchor.chain import Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.doctypes import ALL_TYPES_MASK
from anchor.issuing.signing import Signer
from anchor.pki import init_pki
from anchor.registry import Registries

MNEMONIC = "test test test test test test test test test test test junk"


@dataclass
class Bench:
    chain: Chain
    reg: Registries
    accounts: list[LocalAccount]  # 0 deployer, 1 SG admin, 2 TH admin, 4 SG issuing agency, 6-7 spare
    tmp: Path  # removed with the chain

    def sg_issuer(self) -> Signer:
        """Register a fresh SG PKI's root CA, authorize accounts[4] under it; TH recognizes SG."""
        pki = init_pki("SG", self.tmp / "pki-sg")
        ca = read_ca_certificate(pki.root_ca)
        a = self.accounts
        ca_id_, _ = self.reg.trust.register_ca(a[1], ca, ALL_TYPES_MASK)
        self.reg.trust.authorize_issuer(a[1], a[4].address, ca_id_, ALL_TYPES_MASK)
        self.reg.trust.recognize(a[2], "SG", ALL_TYPES_MASK)
        return Signer.from_pem(pki.signer_key, pki.signer_cert, [pki.issuing_ca, pki.root_ca])


@contextmanager
def private_chain(*anvil_args: str) -> Iterator[Bench]:
    """A fresh anvil on its own port with SG and TH as founding parties (threshold 1)."""
    port = 20000 + os.getpid() % 20000
    node = LocalNode(port, *anvil_args, mnemonic=MNEMONIC).start()
    tmp = tempfile.TemporaryDirectory(prefix="trustanchor-bench-")
    try:
        url = node.url
        chain = connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC))
        accounts = [dev_account(MNEMONIC, i) for i in range(8)]
        manifest = deploy(
            chain, accounts[0], [("SG", accounts[1].address), ("TH", accounts[2].address)], 1, 3600
        )
        yield Bench(chain, Registries.open(chain, manifest), accounts, Path(tmp.name))
    finally:
        node.stop()
        tmp.cleanup()
