"""What an auditor starts from: one RPC endpoint and the deployment manifest, nothing else.

Everything the audit reads goes through :class:`AuditSource` as raw JSON-RPC (``eth_getLogs``,
``eth_getBlockByNumber``, ``eth_call`` pinned to a block), so the same code serves anvil, a public node
or the embedded chain, and a replay never depends on web3's slow object layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils import keccak

from .._internal.abi import ContractABI
from .._internal.jsonrpc import JsonRpc, ProviderRpc
from ..chain import DOCUMENT_ABI_NAME, TRUST_ABI_NAME, Chain
from ..deploy import Manifest
from ..errors import ChainError, DeploymentError
from .errors import AuditError, BlockOutOfRange

# eth_call answers per JSON-RPC batch: large enough to amortize the round trip, small enough that one
# answer stays a few hundred kilobytes.
CALL_BATCH = 500


class Rpc(Protocol):
    def call(self, method: str, params: list[Any]) -> Any: ...

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]: ...


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    time: int
    parent_hash: str


def _header(raw: dict[str, Any] | None) -> BlockHeader | None:
    if raw is None:
        return None
    return BlockHeader(int(raw["number"], 16), raw["hash"], int(raw["timestamp"], 16), raw["parentHash"])


class AuditSource:
    """One chain endpoint plus the manifest naming the two registries and their deployment block."""

    def __init__(
        self, rpc: Rpc, manifest: Manifest, *, prefetch: bool = True, address_lists: bool = True
    ) -> None:
        self.rpc = rpc
        self.manifest = manifest
        self.trust_abi = ContractABI.load(TRUST_ABI_NAME)
        self.document_abi = ContractABI.load(DOCUMENT_ABI_NAME)
        self.trust_address = manifest.trust_registry.address.lower()
        self.document_address = manifest.document_registry.address.lower()
        # A background fetch overlaps the node's work with decoding; only safe over HTTP connections.
        self.prefetch = prefetch
        # eth_getLogs with a list of addresses is standard, but eth-tester only takes one address.
        self.address_lists = address_lists

    @classmethod
    def connect(cls, url: str, manifest: Manifest, *, timeout: float = 60.0) -> AuditSource:
        return cls(JsonRpc(url, timeout=timeout), manifest)

    @classmethod
    def from_chain(cls, chain: Chain, manifest: Manifest) -> AuditSource:
        if chain.backend == "embedded":
            return cls(ProviderRpc(chain.w3.provider), manifest, prefetch=False, address_lists=False)
        return cls.connect(chain.config.url, manifest)

    @property
    def deploy_block(self) -> int:
        """Where the replay starts: the first of the two registries' deployment blocks."""
        return self.manifest.deploy_block

    @property
    def first_block(self) -> int:
        """The first block at which both registries exist, so that their views can be called: the
        earliest block an audit can be about."""
        m = self.manifest
        return max(m.deploy_block, m.trust_registry.block, m.document_registry.block)

    # ------------------------------------------------------------------ identity

    def verify(self) -> None:
        """Refuse to audit the wrong chain or contracts whose code differs from the manifest's."""
        chain_id = int(self.rpc.call("eth_chainId", []), 16)
        if chain_id != self.manifest.chain_id:
            raise DeploymentError(
                f"the manifest is for chain id {self.manifest.chain_id} but the node serves chain {chain_id}"
            )
        answers = self.rpc.batch(
            [
                ("eth_getCode", [self.trust_address, "latest"]),
                ("eth_getCode", [self.document_address, "latest"]),
            ]
        )
        for name, rec, code in zip(
            ("TrustRegistry", "DocumentRegistry"),
            (self.manifest.trust_registry, self.manifest.document_registry),
            answers,
            strict=True,
        ):
            raw = bytes.fromhex(str(code or "0x")[2:])
            if not raw:
                raise DeploymentError(f"no {name} code at {rec.address} (wrong node, or the chain was reset)")
            if "0x" + keccak(raw).hex() != rec.code_hash:
                raise DeploymentError(f"{name} at {rec.address}: code hash differs from the manifest")

    # ------------------------------------------------------------------ blocks

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber", []), 16)

    def header(self, number: int) -> BlockHeader | None:
        return _header(self.rpc.call("eth_getBlockByNumber", [hex(number), False]))

    def headers(self, numbers: list[int]) -> dict[int, BlockHeader | None]:
        out: dict[int, BlockHeader | None] = {}
        for i in range(0, len(numbers), CALL_BATCH):
            part = numbers[i : i + CALL_BATCH]
            answers = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in part])
            for n, raw in zip(part, answers, strict=True):
                out[n] = _header(raw)
        return out

    def require_header(self, number: int) -> BlockHeader:
        h = self.header(number)
        if h is None:
            raise BlockOutOfRange(f"block {number} does not exist on this chain (head is {self.head()})")
        return h

    def target_block(self, depth: int) -> int:
        """The newest block at least `depth` blocks below the head (never before the deployment)."""
        if depth < 0:
            raise AuditError(f"confirmation depth must be >= 0, not {depth}")
        return max(self.first_block, self.head() - depth)

    def check_block(self, number: int) -> int:
        head = self.head()
        if number < self.first_block:
            raise BlockOutOfRange(
                f"block {number} is before the registries were deployed (block {self.first_block})"
            )
        if number > head:
            raise BlockOutOfRange(f"block {number} is beyond the chain head ({head})")
        return number

    def block_at_time(self, time: int, upper: int | None = None) -> int:
        """The last block whose timestamp is <= `time` (binary search over headers, O(log n) calls)."""
        lo, hi = self.first_block, upper if upper is not None else self.head()
        if self.require_header(lo).time > time:
            raise BlockOutOfRange(
                f"time {time} is before the registries were deployed (block {lo}, "
                f"time {self.require_header(lo).time})"
            )
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.require_header(mid).time <= time:
                lo = mid
            else:
                hi = mid - 1
        return lo

    # ------------------------------------------------------------------ calls

    def eth_calls(self, calls: list[tuple[str, bytes]], block: int) -> list[bytes]:
        """Raw eth_call answers of (address, calldata) pairs, all pinned to `block`."""
        tag = hex(block)
        try:
            answers = self.rpc.batch(
                [("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag]) for to, data in calls]
            )
        except ChainError as e:
            raise ChainError(
                f"the node cannot answer calls at block {block} ({e}); an archive node may be needed"
            ) from None
        return [bytes.fromhex(str(a)[2:]) for a in answers]
