"""What a verification reads from the chain, kept in step with the chain head block by block.

Every verification first needs the head block: one small request, or none when the caller has just
read it (a service shares one head request among concurrent verifications). Between heads nothing can
change, so whatever was read at that head is reused; when the head moves, the registries' logs since
the last head say exactly what changed: a status event marks its document or batch for a fresh read,
any trust registry event drops the cached trust answers, and a changed hash of the last seen block (a
reorg) drops everything. A verdict therefore always reflects the head block it names, never an older view,
at a cost that does not grow with the size of the registry.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NamedTuple

from hexbytes import HexBytes

from .._internal.jsonrpc import JsonRpc, Web3Rpc
from ..chain import Chain
from ..deploy import Manifest, party_id
from ..errors import ChainError

_STATUS_EVENTS = (
    "DocumentRevoked",
    "DocumentSuperseded",
    "DocumentConsumed",
    "BatchRevocationRecorded",
    "DocumentEndorsed",
)
_ZERO = "0x" + "00" * 20


class ChainHead(NamedTuple):
    """A head block: its number, hash and timestamp."""

    number: int
    hash: str
    timestamp: int

    @classmethod
    def from_block(cls, block: Any) -> ChainHead:
        """From an `eth_getBlockByNumber` answer; ChainError if it is not one."""
        try:
            return cls(int(block["number"], 16), str(block["hash"]), int(block["timestamp"], 16))
        except (KeyError, TypeError, ValueError):
            raise ChainError("the node's answer is not a block header") from None


@dataclass(frozen=True)
class AnchoringTransaction:
    """What the chain says of the transaction a bundle names as the one that anchored its root."""

    mined: bool  # the node has a receipt for it
    anchored_root: bool  # it succeeded, and the trusted registry logged Anchored for this root in it
    block_number: int | None = None
    block_hash: str | None = None


@dataclass(frozen=True)
class ChainView:
    block_number: int
    block_hash: str
    block_time: int
    document: dict[str, Any]
    context: dict[str, Any]
    transaction: AnchoringTransaction
    one_time_types: int = 0


class ChainReader:
    def __init__(self, chain: Chain, manifest: Manifest, *, cache_size: int = 100_000) -> None:
        self.chain = chain
        self.manifest = manifest
        trust_abi, doc_abi = chain.abis
        self._doc_fn = doc_abi.fn("document")
        self._batch_fn = doc_abi.fn("batch")
        self._ctx_fn = trust_abi.fn("verificationContext")
        self._one_time_fn = trust_abi.fn("oneTimeDocTypes")
        self._status_topics = ["0x" + doc_abi.event(n).topic.hex() for n in _STATUS_EVENTS]
        self._anchored_topic = "0x" + doc_abi.event("Anchored").topic.hex()
        self._doc_address = manifest.document_registry.address
        self._trust_address = manifest.trust_registry.address
        self.rpc: JsonRpc | Web3Rpc = (
            Web3Rpc(chain.w3) if chain.backend == "embedded" else JsonRpc(chain.config.url)
        )
        self._cache_size = cache_size
        self._reset()

    def _reset(self) -> None:
        self._head: ChainHead | None = None
        self._touched_docs: set[tuple[bytes, bytes]] = set()
        self._touched_roots: set[bytes] = set()
        # Keyed by (issuer, root): another account may anchor a copy of the same root as its own batch.
        self._batches: OrderedDict[tuple[str, bytes], dict[str, Any]] = OrderedDict()
        self._contexts: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._one_time: int | None = None
        self._transactions: OrderedDict[tuple[str, bytes, str], AnchoringTransaction] = OrderedDict()
        self._documents: dict[tuple[str, bytes, bytes], dict[str, Any]] = {}

    # ------------------------------------------------------------------ head tracking

    def sync(self, head: ChainHead | None = None) -> ChainHead:
        """Bring the cache to the head block and return it: `head` if the caller has just read it
        (one request saved), else the node's latest block."""
        if head is None:
            head = ChainHead.from_block(self.rpc.call("eth_getBlockByNumber", ["latest", False]))
        seen = self._head
        if seen is not None:
            if head.number == seen.number:
                if head.hash == seen.hash:
                    return seen
                self._reset()  # same height, another block: a reorg
            elif head.number < seen.number:
                # Either a head read earlier came in late (concurrent callers): what we have is fresher
                # still; or the chain was reorganized to a shorter one.
                block = self.rpc.call("eth_getBlockByNumber", [hex(seen.number), False])
                if block is not None and block["hash"] == seen.hash:
                    return seen
                self._reset()
        seen = self._head
        start = self.manifest.deploy_block if seen is None else seen.number + 1
        span = {"fromBlock": hex(start), "toBlock": hex(head.number)}
        requests: list[tuple[str, list[Any]]] = [
            ("eth_getLogs", [{**span, "address": self._doc_address, "topics": [self._status_topics]}]),
            ("eth_getLogs", [{**span, "address": self._trust_address}]),
        ]
        if seen is not None:
            requests.append(("eth_getBlockByNumber", [hex(seen.number), False]))
        answers = self.rpc.batch(requests)
        if seen is not None and (answers[2] is None or answers[2]["hash"] != seen.hash):
            self._reset()  # the block we had seen is gone: a reorg; start over from the deployment
            return self.sync(head)
        for log in answers[0]:
            topics = [bytes(HexBytes(t)) for t in log["topics"]]
            if len(topics) >= 3 and topics[0] != bytes(HexBytes(self._status_topics[3])):
                self._touched_docs.add((topics[1], topics[2]))
            else:
                self._touched_roots.add(topics[1])
        if answers[1]:
            self._contexts.clear()
            self._one_time = None
        self._documents.clear()
        self._head = head
        return head

    # ------------------------------------------------------------------ reads

    def read(
        self,
        root: bytes,
        leaf: bytes,
        issuer: str,
        doc_type: int,
        verifier: str,
        anchored_time: int,
        claimed_transaction: str,
        head: ChainHead | None = None,
    ) -> ChainView:
        number, block_hash, block_time = self.sync(head)
        at = hex(number)
        document = self._document(issuer, root, leaf, at)
        key = (issuer.lower(), doc_type, verifier, anchored_time)
        context = self._contexts.get(key)
        if context is None:
            data = self._ctx_fn.encode(issuer, doc_type, party_id(verifier), anchored_time)
            context = self._ctx_fn.decode(self._eth_call(self._trust_address, data, at))
            self._contexts[key] = context
        transaction = self._transaction(claimed_transaction.lower(), root, issuer)
        if self._one_time is None:
            # Changes only by a governance event, which clears it in sync().
            self._one_time = int(
                self._one_time_fn.decode(self._eth_call(self._trust_address, self._one_time_fn.encode(), at))
            )
        return ChainView(number, block_hash, block_time, document, context, transaction, self._one_time)

    def _transaction(self, tx_hash: str, root: bytes, issuer: str) -> AnchoringTransaction:
        """The bundle's transaction, from its receipt: a mined anchoring never changes (reorgs reset the
        cache), so each is read once; one not (yet) mined is asked again next time. It must anchor this
        root for this issuer: another account's copy of the root is another batch."""
        key = (tx_hash, root, issuer.lower())
        found = self._transactions.get(key)
        if found is not None:
            return found
        receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
        if not receipt or receipt.get("blockHash") is None:
            return AnchoringTransaction(mined=False, anchored_root=False)
        wanted = (self._anchored_topic, "0x" + root.hex(), "0x" + issuer[2:].lower().rjust(64, "0"))
        anchored = int(receipt.get("status") or "0x0", 16) == 1 and any(
            log["address"].lower() == self._doc_address.lower()
            and tuple(t.lower() for t in log["topics"][:3]) == wanted
            for log in receipt.get("logs") or []
        )
        found = AnchoringTransaction(True, anchored, int(receipt["blockNumber"], 16), receipt["blockHash"])
        self._transactions[key] = found
        if len(self._transactions) > self._cache_size:
            self._transactions.popitem(last=False)
        return found

    def _document(self, issuer: str, root: bytes, leaf: bytes, at: str) -> dict[str, Any]:
        # Status events are tracked by (root, leaf) topics: a copy of the root under another issuer
        # only costs this document a fresh read.
        if (root, leaf) in self._touched_docs or root in self._touched_roots:
            key = (issuer.lower(), root, leaf)
            cached = self._documents.get(key)
            if cached is None:
                cached = self._doc_fn.decode(
                    self._eth_call(self._doc_address, self._doc_fn.encode(issuer, root, leaf), at)
                )
                self._documents[key] = cached
            return cached
        # No status event ever named this document or its batch: only the batch record is needed.
        bkey = (issuer.lower(), root)
        batch = self._batches.get(bkey)
        if batch is None:
            batch = self._batch_fn.decode(
                self._eth_call(self._doc_address, self._batch_fn.encode(issuer, root), at)
            )
            if batch["issuer"] != _ZERO:  # an anchored batch record never changes (reorgs reset the cache)
                self._batches[bkey] = batch
                if len(self._batches) > self._cache_size:
                    self._batches.popitem(last=False)
        return {
            "batch": batch,
            "batchRevocation": {"revokedAt": 0, "reason": 0},
            "state": {
                "revokedAt": 0,
                "revokeReason": 0,
                "supersededAt": 0,
                "consumedAt": 0,
                "consumedBy": b"\x00" * 8,
                "endorsed": 0,
            },
            "successorIssuer": _ZERO,
            "successorRoot": b"\x00" * 32,
            "successorLeaf": b"\x00" * 32,
        }

    def _eth_call(self, to: str, data: bytes, at: str) -> bytes:
        return bytes(HexBytes(self.rpc.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, at])))
