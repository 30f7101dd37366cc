"""The demo's chain: start the local node if needed, deploy or verify the registries, dev-chain controls.

The demo owns the local development chain: it moves the chain's clock forward (evm_increaseTime) and
may top up development accounts (anvil_setBalance). Neither exists on a real network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3.types import RPCEndpoint

from .._internal import anvil
from ..accounts import resolve_account
from ..chain import Chain, connect
from ..config import Config
from ..deploy import Manifest, deploy_configured, verify_code
from ..errors import ChainError, ChainUnavailable, ConfigError
from ..registry import Registries

ETHER = 10**18


@dataclass(frozen=True)
class ChainReady:
    registries: Registries
    chain_note: str
    deploy_note: str
    deployed: bool


def prepare_chain(config: Config, manifest_path: Path) -> ChainReady:
    """Start anvil (backend 'anvil') unless it runs; deploy if there is no manifest, else verify it."""
    backend = config.chain.backend
    if backend == "embedded":
        raise ConfigError(
            "the demo needs a node that outlives it (backend = anvil, or rpc pointing at a development node)"
        )
    if backend == "anvil":
        before = anvil.status(config)
        st = anvil.up(config)
        verb = "already running" if before.running else "started anvil"
        chain_note = f"{verb} at {st.url} (chain id {st.chain_id}, block {st.block}); state kept in {config.state_path}"
    else:
        chain_note = f"using the development node at {config.chain.url}"
    chain = connect(config.chain)
    if backend != "anvil":
        chain_note += f" (chain id {chain.chain_id}, block {chain.block_number()})"
    if manifest_path.exists():
        manifest = Manifest.load(manifest_path)
        verify_code(chain, manifest)
        deploy_note = (
            f"deployment in {manifest_path} verified: the code at TrustRegistry "
            f"{manifest.trust_registry.address} and DocumentRegistry {manifest.document_registry.address} "
            "matches the build artifacts"
        )
        deployed = False
    else:
        dep = config.deploy
        if dep is None:
            raise ConfigError(f"{config.source}: no [deploy] section with founding parties")
        deployer = resolve_account(dep.deployer, config.chain.mnemonic)
        parties = [(p.id, _address(p.admin, config)) for p in dep.parties]
        manifest = deploy_configured(chain, deployer, parties, dep, config.chain.name)
        manifest.save(manifest_path)
        deploy_note = (
            f"deployed TrustRegistry {manifest.trust_registry.address} and DocumentRegistry "
            f"{manifest.document_registry.address}; manifest written to {manifest_path}"
        )
        deployed = True
    return ChainReady(Registries.open(chain, manifest), chain_note, deploy_note, deployed)


def _address(spec: str, config: Config) -> str:
    if spec.startswith("0x") and len(spec) == 42:
        return spec
    return resolve_account(spec, config.chain.mnemonic).address


def _dev_rpc(chain: Chain, method: str, params: list[Any]) -> Any:
    """A development-node method (anvil, hardhat); a clear error on nodes that lack it."""
    if chain.rpc is not None:  # the library's one transport
        try:
            return chain.rpc.call(method, params)
        except ChainUnavailable as e:
            raise ChainError(f"{method} failed: {e}") from None
        except ChainError as e:
            raise ChainError(
                f"{method} refused by the node ({e}): the demo needs a development node"
            ) from None
    try:
        answer = chain.w3.provider.make_request(RPCEndpoint(method), params)
    except Exception as e:
        raise ChainError(f"{method} failed: {str(e).splitlines()[0][:200]}") from None
    error = answer.get("error") if isinstance(answer, dict) else None
    if error:
        message = error.get("message", error) if isinstance(error, dict) else error
        raise ChainError(f"{method} refused by the node ({message}): the demo needs a development node")
    return answer.get("result") if isinstance(answer, dict) else None


def chain_time(chain: Chain) -> int:
    return int(chain.block("latest")["timestamp"])


def advance_time(chain: Chain, seconds: int) -> tuple[int, int]:
    """Move the chain's clock forward for good and mine a block; (time before, time of the new block)."""
    before = chain_time(chain)
    _dev_rpc(chain, "evm_increaseTime", [seconds])
    _dev_rpc(chain, "evm_mine", [])
    return before, chain_time(chain)


def ensure_funded(chain: Chain, address: str, minimum: int = ETHER) -> bool:
    """Top up a development account beyond the node's funded ones; True if it had to."""
    balance = _dev_rpc(chain, "eth_getBalance", [address, "latest"])
    if (int(balance, 16) if isinstance(balance, str) else int(balance)) >= minimum:
        return False
    _dev_rpc(chain, "anvil_setBalance", [address, hex(100 * ETHER)])
    return True
