"""Anchoring transactions signed here and sent raw, and what the chain says about them afterwards.

The batcher needs more control than `Chain.transact` gives (which signs, sends and waits in one call):
the signed raw transaction must be persisted before it is sent, resent byte for byte after a crash,
and its fate (mined, pending, dropped, nonce taken) asked later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from anchor.chain import Chain
from anchor.errors import ChainError, ChainUnavailable
from anchor.registry import Registries

from .batch_store import SignedTx

_ANCHOR_SELECTOR = keccak(text="anchor(bytes32,uint8,uint32)")[:4]
ANCHORED_TOPIC = "0x" + keccak(text="Anchored(bytes32,address,uint8,uint32)").hex()
_ZERO = "0x" + "00" * 20


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


def unavailable(e: Exception) -> bool:
    return isinstance(e, (ChainUnavailable, ConnectionError, OSError)) or "Connection" in type(e).__name__


class TxSender:
    def __init__(self, reg: Registries, gas_limit: int) -> None:
        self.reg = reg
        self.chain: Chain = reg.chain
        self.gas_limit = gas_limit
        self.registry = reg.manifest.document_registry.address

    def next_nonce(self, address: str) -> int:
        checksummed = to_checksum_address(address)
        return int(self._rpc(lambda: self.chain.w3.eth.get_transaction_count(checksummed, "pending")))

    def sign_anchor(
        self, account: LocalAccount, root: bytes, doc_type: int, size: int, nonce: int
    ) -> SignedTx:
        data = _ANCHOR_SELECTOR + abi_encode(["bytes32", "uint8", "uint32"], [root, doc_type, size])
        tx: dict[str, Any] = {
            "from": account.address,
            "to": self.registry,
            "data": HexBytes(data),
            "chainId": self.chain.chain_id,
            "gas": self.gas_limit,
            "nonce": nonce,
        }
        tx.update(self._rpc(self.chain.fee_fields))
        signed = account.sign_transaction(tx)
        return SignedTx(nonce, bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex())

    def send(self, raw: bytes) -> SendResult:
        try:
            self.chain.w3.eth.send_raw_transaction(raw)
            return SendResult.SENT
        except Exception as e:
            if unavailable(e):
                raise ChainUnavailable(f"chain unreachable at {self.chain.config.url}") from None
            text = str(e).lower()
            if "already known" in text or "already imported" in text or "known transaction" in text:
                return SendResult.KNOWN
            if "nonce too low" in text or "nonce is too low" in text or "underpriced" in text:
                return SendResult.NONCE_TAKEN
            raise ChainError(f"node refused the transaction: {str(e).splitlines()[0][:200]}") from None

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        try:
            r = self._rpc(lambda: self.chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
        except TransactionNotFound:
            return None
        return dict(r) if r else None

    def known(self, tx_hash: str) -> bool:
        """Does the node still have the transaction (mined or waiting in its pool)?"""
        try:
            return self._rpc(lambda: self.chain.w3.eth.get_transaction(HexBytes(tx_hash))) is not None
        except TransactionNotFound:
            return False

    def head(self) -> int:
        return self.chain.block_number()

    def latest(self) -> tuple[int, str]:
        """Number and hash of the head block (a reorg at the same height changes the hash only)."""
        block = self._rpc(lambda: self.chain.w3.eth.get_block("latest"))
        return int(block["number"]), block["hash"].to_0x_hex()

    def block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        out: dict[int, str | None] = {}
        for n in numbers:
            try:
                block = self._rpc(lambda n=n: self.chain.w3.eth.get_block(n))
                out[n] = block["hash"].to_0x_hex() if block else None
            except Exception as e:
                if unavailable(e) or isinstance(e, ChainUnavailable):
                    raise
                out[n] = None  # BlockNotFound: beyond the head after a rollback
        return out

    def find_anchoring(self, issuer: str, root: bytes) -> Anchoring | None:
        """`issuer`'s anchoring of `root` on the canonical chain as it is now, or None."""
        batch = self.reg.documents.batch(issuer, root)
        if batch["issuer"] == _ZERO:
            return None
        logs = self._rpc(
            lambda: self.chain.w3.eth.get_logs(
                {
                    "address": to_checksum_address(self.registry),
                    # The issuer topic too: another account may have anchored a copy of this root.
                    "topics": [ANCHORED_TOPIC, "0x" + root.hex(), "0x" + issuer[2:].lower().rjust(64, "0")],
                    "fromBlock": self.reg.manifest.deploy_block,
                    "toBlock": "latest",
                }
            )
        )
        if not logs:
            return None
        log = logs[-1]
        return Anchoring(
            to_checksum_address(batch["issuer"]),
            log["transactionHash"].to_0x_hex(),
            int(log["blockNumber"]),
            log["blockHash"].to_0x_hex(),
            int(batch["anchoredAt"]),
        )

    def _rpc(self, fn: Any) -> Any:
        try:
            return fn()
        except (TransactionNotFound, ChainError):
            raise
        except Exception as e:
            if unavailable(e):
                raise ChainUnavailable(f"chain unreachable at {self.chain.config.url}") from None
            raise
