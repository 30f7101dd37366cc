"""The service's access to the ledger: connections, the shared head requests of verification, the raw
anchoring transactions of the batcher, and chain failures as problem responses.

The service must start, accept documents and answer (INDETERMINATE) while the node is down, and recover
by itself when it comes back. So nothing connects at start-up: each thread makes its own connection
(`anchor.chain.Chain`) on first use, and a failed attempt is simply retried on the next call. The
service always talks to a node (anvil or any JSON-RPC endpoint), never the embedded chain.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from anchor._internal.abi import ContractABI
from anchor._internal.jsonrpc import JsonRpc
from anchor.chain import DOCUMENT_ABI_NAME, Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import Manifest
from anchor.errors import ChainError, ChainUnavailable, ConfigError, ContractRevert
from anchor.registry import Registries
from anchor.verify import ChainHead

from .problems import ApiError
from .store import SignedTx

T = TypeVar("T")
_ZERO = "0x" + "00" * 20
# For the tests, which read the registry's logs without a Chain.
ANCHORED_TOPIC = "0x" + ContractABI.load(DOCUMENT_ABI_NAME).event("Anchored").topic.hex()


class ChainGateway:
    """The trusted deployment manifest and lazily (re)made per-thread chain connections."""

    def __init__(self, config: ChainConfig, manifest_path: Path, *, timeout: float = 10.0) -> None:
        if config.backend == "embedded":
            raise ConfigError(
                "the service needs a chain node (backend = anvil or rpc), not the embedded chain"
            )
        self.config = config
        self.manifest_path = manifest_path
        self.timeout = timeout
        self._local = threading.local()
        self._manifest: Manifest | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.config.url

    def manifest(self) -> Manifest:
        """The trusted deployment (ConfigError if there is none yet; read again until there is)."""
        with self._lock:
            if self._manifest is None:
                self._manifest = Manifest.load(self.manifest_path)
            return self._manifest

    def chain(self) -> Chain:
        """This thread's connection; ChainUnavailable while the node does not answer."""
        chain: Chain | None = getattr(self._local, "chain", None)
        if chain is None:
            retry_at: float = getattr(self._local, "retry_at", 0.0)
            if time.monotonic() < retry_at:
                raise ChainUnavailable(f"chain unreachable at {self.url}")
            try:
                chain = connect(self.config, timeout=self.timeout)
            except ChainUnavailable:
                self._local.retry_at = time.monotonic() + 0.2
                raise
            self._local.chain = chain
        return chain

    def registries(self) -> Registries:
        return Registries.open(self.chain(), self.manifest(), source=str(self.manifest_path))


def node_rpc(chain: Chain) -> JsonRpc:
    """The chain's JSON-RPC client (every chain the gateway makes is a node's)."""
    if chain.rpc is None:
        raise ConfigError("the service needs a chain node, not the embedded chain")
    return chain.rpc


# ------------------------------------------------------------------ chain failures as problems


def snake(name: str) -> str:
    """RootAlreadyAnchored -> ROOT_ALREADY_ANCHORED: a contract error as a stable API code."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def chain_call(fn: Callable[[], T]) -> T:
    """Run a chain operation; translate its failures into problem responses."""
    try:
        return fn()
    except ContractRevert as e:
        raise ApiError(
            409, snake(e.error) if e.error else "TRANSACTION_REVERTED", f"the registry refused: {e}"
        ) from None
    except ChainUnavailable as e:
        raise ApiError(503, "CHAIN_UNAVAILABLE", str(e), headers={"Retry-After": "5"}) from None
    except ChainError as e:
        raise ApiError(502, "CHAIN_ERROR", str(e)) from None
    except ConfigError as e:
        raise ApiError(503, "SERVICE_NOT_READY", str(e), headers={"Retry-After": "5"}) from None
    except DecodingError:
        raise ApiError(
            502, "CHAIN_ERROR", "the node gave an answer the registry client cannot decode"
        ) from None


# ------------------------------------------------------------------ head requests (verification)


class HeadRequests:
    """The chain head for verifications: single-flight `eth_getBlockByNumber` requests.

    Every verification first needs the node's head block. Waiting for it off the event loop keeps the
    loop serving other requests while the node answers, and lets concurrent verifications share one
    request: a verification takes the answer of a request *sent after it arrived* (its own, or one
    another verification sent meanwhile). A verdict is therefore exactly as fresh as if the verification
    had asked alone - a document revoked before the request came in is seen revoked - while under load
    the node gets about one head request per round trip instead of one per verification.

    The request goes through the library's JSON-RPC client (one kept-alive connection, a timeout, an
    answer-size cap) on a thread of its own. httpx's AsyncClient was measured in its place: 0.6-0.9 ms of
    CPU per request against about 0.1 ms (plus ~0.05 ms for the hop to the thread), which took a third
    off the service's verification throughput (docs/benchmarks.md, "What corking and fastpath buy").
    """

    def __init__(self, url: str, timeout: float = 2.0, max_answer_bytes: int = 64 * 1024) -> None:
        self.url = url
        # A header is ~1 KiB; a node that answers more is broken or hostile.
        self._rpc = JsonRpc(url, timeout=timeout, max_response=max_answer_bytes)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="trustanchor-head")
        self._last: tuple[float, ChainHead] | None = None  # (sent at, answer) of the latest request
        self._flight: tuple[float, asyncio.Future[None]] | None = None
        self.sent = 0

    async def head(self, arrived: float) -> ChainHead:
        """The head block read by a request sent at or after `arrived`."""
        while True:
            if self._last is not None and self._last[0] >= arrived:
                return self._last[1]
            if self._flight is not None:
                await asyncio.shield(self._flight[1])
                continue
            sent_at = time.monotonic()
            loop = asyncio.get_running_loop()
            done: asyncio.Future[None] = loop.create_future()
            self._flight = (sent_at, done)
            self.sent += 1
            try:
                answer = await loop.run_in_executor(self._thread, self._fetch)
                self._last = (sent_at, answer)
                return answer
            finally:
                self._flight = None
                done.set_result(None)

    def _fetch(self) -> ChainHead:
        try:
            block = self._rpc.call("eth_getBlockByNumber", ["latest", False])
        except ChainError as e:
            raise ChainUnavailable(f"chain unreachable at {self.url}: {e}") from None
        try:
            return ChainHead.from_block(block)
        except ChainError:
            raise ChainUnavailable(f"the node at {self.url} gave no head block") from None

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------ anchoring transactions (batcher)


class SendResult(Enum):
    SENT = "sent"
    KNOWN = "known"  # the node already has it (a resend of the same bytes)
    NONCE_TAKEN = "nonce-taken"  # another transaction of the account used the nonce


@dataclass(frozen=True)
class Anchoring:
    """Where a root is anchored on the current canonical chain."""

    issuer: str
    tx_hash: str
    block_number: int
    block_hash: str
    block_time: int


class TxSender:
    """Anchoring transactions signed here and sent raw, and what the chain says about them afterwards.

    The batcher needs more control than `Chain.transact` gives (which signs, sends and waits in one
    call): the signed raw transaction must be persisted before it is sent, resent byte for byte after a
    crash, and its fate (mined, pending, dropped, nonce taken) asked later.
    """

    def __init__(self, reg: Registries, gas_limit: int) -> None:
        self.reg = reg
        self.chain: Chain = reg.chain
        self.rpc = node_rpc(self.chain)
        self.gas_limit = gas_limit
        self.registry = reg.manifest.document_registry.address
        _, doc_abi = self.chain.abis
        self._anchor = doc_abi.fn("anchor")
        self._anchored_topic = "0x" + doc_abi.event("Anchored").topic.hex()

    def next_nonce(self, address: str) -> int:
        return int(self.rpc.call("eth_getTransactionCount", [to_checksum_address(address), "pending"]), 16)

    def sign_anchor(
        self, account: LocalAccount, root: bytes, doc_type: int, size: int, nonce: int
    ) -> SignedTx:
        tx: dict[str, Any] = {
            "from": account.address,
            "to": self.registry,
            "data": HexBytes(self._anchor.encode(root, doc_type, size)),
            "chainId": self.chain.chain_id,
            "gas": self.gas_limit,
            "nonce": nonce,
        }
        try:
            tx.update(self.chain.fee_fields())
        except (ConnectionError, OSError) as e:  # fee_fields asks the node through web3
            raise ChainUnavailable(f"chain unreachable at {self.chain.config.url}: {e}") from None
        signed = account.sign_transaction(tx)
        return SignedTx(nonce, bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex())

    def send(self, raw: bytes) -> SendResult:
        try:
            self.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
            return SendResult.SENT
        except ChainUnavailable:
            raise
        except ChainError as e:
            text = str(e).lower()
            if "already known" in text or "already imported" in text or "known transaction" in text:
                return SendResult.KNOWN
            if "nonce too low" in text or "nonce is too low" in text or "underpriced" in text:
                return SendResult.NONCE_TAKEN
            raise ChainError(f"node refused the transaction: {str(e).splitlines()[0][:200]}") from None

    def receipt(self, tx_hash: str) -> dict[str, int] | None:
        """Status and block number of the transaction's receipt, or None while it has none."""
        r = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
        if not r:
            return None
        return {"status": int(r["status"], 16), "blockNumber": int(r["blockNumber"], 16)}

    def known(self, tx_hash: str) -> bool:
        """Does the node still have the transaction (mined or waiting in its pool)?"""
        return self.rpc.call("eth_getTransactionByHash", [tx_hash]) is not None

    def head(self) -> int:
        return self.chain.block_number()

    def latest(self) -> tuple[int, str]:
        """Number and hash of the head block (a reorg at the same height changes the hash only)."""
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        return int(block["number"], 16), str(block["hash"])

    def block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        """Each block's hash, None beyond the head (after a rollback); one round trip for all."""
        if not numbers:
            return {}
        blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return {n: str(b["hash"]) if b else None for n, b in zip(numbers, blocks, strict=True)}

    def find_anchoring(self, issuer: str, root: bytes) -> Anchoring | None:
        """`issuer`'s anchoring of `root` on the canonical chain as it is now, or None."""
        batch = self.reg.documents.batch(issuer, root)
        if batch["issuer"] == _ZERO:
            return None
        logs = self.rpc.call(
            "eth_getLogs",
            [
                {
                    "address": to_checksum_address(self.registry),
                    # The issuer topic too: another account may have anchored a copy of this root.
                    "topics": [
                        self._anchored_topic,
                        "0x" + root.hex(),
                        "0x" + issuer[2:].lower().rjust(64, "0"),
                    ],
                    "fromBlock": hex(self.reg.manifest.deploy_block),
                    "toBlock": "latest",
                }
            ],
        )
        if not logs:
            return None
        log = logs[-1]
        return Anchoring(
            to_checksum_address(batch["issuer"]),
            str(log["transactionHash"]),
            int(log["blockNumber"], 16),
            str(log["blockHash"]),
            int(batch["anchoredAt"]),
        )
