"""A connection to the ledger: a JSON-RPC node (anvil or any EVM endpoint) or the embedded py-evm chain.

Transactions are always signed locally and sent raw, so the same code works against anvil, a public
testnet or a permissioned network, with EIP-1559 or legacy (possibly zero) gas prices.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware

from ._internal.abi import ContractABI, decode_revert
from ._internal.jsonrpc import JsonRpc, RpcError
from ._internal.recursion import cap_recursion_limit
from .accounts import dev_account
from .config import ChainConfig
from .errors import ChainError, ChainUnavailable, ContractRevert

cap_recursion_limit()  # web3's import (py_ecc) just raised it to a process-killing 100,000

TRUST_ABI_NAME = "TrustRegistry"
DOCUMENT_ABI_NAME = "DocumentRegistry"


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    status: int
    logs: list[Any]
    contract_address: str | None = None


class Chain:
    """One chain connection with the registries' ABIs for decoding reverts."""

    def __init__(self, w3: Web3, config: ChainConfig, backend: str) -> None:
        self.w3 = w3
        self.config = config
        self.backend = backend
        self.abis = (ContractABI.load(TRUST_ABI_NAME), ContractABI.load(DOCUMENT_ABI_NAME))
        self._chain_id: int | None = None
        # Node backends take the lean client on hot paths (calls, transactions); web3 elsewhere.
        self.rpc: JsonRpc | None = None if backend == "embedded" else JsonRpc(config.url)

    @property
    def chain_id(self) -> int:
        """Asked of the node on first use, so that a connection can exist while the node is down."""
        if self._chain_id is None:
            try:
                self._chain_id = (
                    int(self.rpc.call("eth_chainId", []), 16)
                    if self.rpc is not None
                    else int(self.w3.eth.chain_id)
                )
            except Exception as e:
                raise ChainUnavailable(f"no chain answers at {self.config.url}: {_short(e)}") from None
        return self._chain_id

    # ---------------------------------------------------------------- reads

    def call(self, to: str, data: bytes, block: int | str = "latest") -> bytes:
        """Raw eth_call: decoded by the caller with the fast ABI codec."""
        if self.rpc is not None:
            tag = hex(block) if isinstance(block, int) else block
            try:
                return bytes(
                    HexBytes(self.rpc.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag]))
                )
            except ChainError as e:
                raise self._translate(e) from None
        try:
            return bytes(self.w3.eth.call({"to": to, "data": HexBytes(data)}, block))  # type: ignore[arg-type]
        except Exception as e:
            raise self._translate(e) from None

    def block_number(self) -> int:
        if self.rpc is not None:
            try:
                return int(self.rpc.call("eth_blockNumber", []), 16)
            except ChainError as e:
                raise self._translate(e) from None
        try:
            return int(self.w3.eth.block_number)
        except Exception as e:
            raise self._translate(e) from None

    def block_timestamp(self, number: int) -> int:
        if self.rpc is not None:
            try:
                return int(self.rpc.call("eth_getBlockByNumber", [hex(number), False])["timestamp"], 16)
            except ChainError as e:
                raise self._translate(e) from None
        return int(self.block(number)["timestamp"])

    def block(self, number: int | str) -> dict[str, Any]:
        """A block header: quantities as ints, hashes as HexBytes (web3's shape, on either backend)."""
        if self.rpc is not None:
            tag = hex(number) if isinstance(number, int) else number
            try:
                raw = self.rpc.call("eth_getBlockByNumber", [tag, False])
            except ChainError as e:
                raise self._translate(e) from None
            if raw is None:
                raise ChainError(f"block {number} does not exist on this chain")
            return _formatted(raw)
        try:
            return dict(self.w3.eth.get_block(number))  # type: ignore[arg-type]
        except Exception as e:
            raise self._translate(e) from None

    def code_at(self, address: str) -> bytes:
        if self.rpc is not None:
            try:
                return bytes(HexBytes(self.rpc.call("eth_getCode", [address, "latest"])))
            except ChainError as e:
                raise self._translate(e) from None
        return bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))

    def nonce(self, address: str) -> int:
        """The account's next nonce, pending transactions included."""
        if self.rpc is not None:
            try:
                return int(self.rpc.call("eth_getTransactionCount", [address, "pending"]), 16)
            except ChainError as e:
                raise self._translate(e) from None
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))

    # ---------------------------------------------------------------- writes

    def fee_fields(self) -> dict[str, int]:
        """The fee fields of a transaction sent now, by the configured gas price mode."""
        if self.rpc is not None:
            block, price = self.rpc.batch([("eth_getBlockByNumber", ["latest", False]), ("eth_gasPrice", [])])
            return self._fees(_base_fee(block), int(price, 16))
        base = self.w3.eth.get_block("latest").get("baseFeePerGas")
        return self._fees(None if base is None else int(base), int(self.w3.eth.gas_price))

    def _fees(self, base_fee: int | None, gas_price: int) -> dict[str, int]:
        """The one fee rule: legacy gas price where asked or where the chain has no base fee (auto),
        otherwise EIP-1559 with twice the base fee as headroom for the next blocks plus the tip."""
        mode = self.config.gas_price_mode
        if mode == "legacy" or (mode == "auto" and base_fee is None):
            return {"gasPrice": gas_price}
        if base_fee is None:
            raise ChainError("gas_price_mode = eip1559 but the chain has no base fee (use legacy)")
        tip = self._priority_fee()
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}

    def _priority_fee(self) -> int:
        # Not every node implements eth_maxPriorityFeePerGas; 1 gwei is the common default tip.
        if self.rpc is not None:
            try:
                return int(self.rpc.call("eth_maxPriorityFeePerGas", []), 16)
            except ChainError:
                return 10**9
        try:
            return int(self.w3.eth.max_priority_fee)
        except Exception:  # web3 raises its provider's own errors
            return 10**9

    def transact(
        self,
        account: LocalAccount,
        to: str | None,
        data: bytes,
        *,
        gas: int | None = None,
        confirmations: int | None = None,
        timeout: float = 120.0,
    ) -> Receipt:
        """Sign, send and wait; reverts raise ContractRevert naming the custom error and its arguments."""
        if self.rpc is not None:
            return self._transact_rpc(self.rpc, account, to, data, gas, confirmations, timeout)
        tx: dict[str, Any] = {"from": account.address, "data": HexBytes(data), "chainId": self.chain_id}
        if to is not None:
            tx["to"] = Web3.to_checksum_address(to)
        try:
            if gas is None:
                gas = int(self.w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
                gas = gas + gas // 5 + 10_000
            tx["gas"] = gas
            tx["nonce"] = self.w3.eth.get_transaction_count(account.address, "pending")
            tx.update(self.fee_fields())
            signed = account.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as e:
            raise self._translate(e) from None
        return self.wait(tx_hash.to_0x_hex(), confirmations=confirmations, timeout=timeout, tx=tx)

    def _transact_rpc(
        self,
        rpc: JsonRpc,
        account: LocalAccount,
        to: str | None,
        data: bytes,
        gas: int | None,
        confirmations: int | None,
        timeout: float,
    ) -> Receipt:
        call: dict[str, Any] = {"from": account.address, "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = Web3.to_checksum_address(to)
        # One round trip for everything the transaction needs to know.
        requests: list[tuple[str, list[Any]]] = [
            ("eth_getTransactionCount", [account.address, "pending"]),
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_gasPrice", []),
        ]
        if gas is None:
            requests.append(("eth_estimateGas", [call]))
        try:
            answers = rpc.batch(requests)
        except ChainError as e:
            raise self._translate(e) from None
        if gas is None:
            estimate = int(answers[3], 16)
            gas = estimate + estimate // 5 + 10_000
        tx: dict[str, Any] = {
            "data": HexBytes(data),
            "chainId": self.chain_id,
            "gas": gas,
            "nonce": int(answers[0], 16),
        }
        if to is not None:
            tx["to"] = call["to"]
        tx.update(self._fees(_base_fee(answers[1]), int(answers[2], 16)))
        signed = account.sign_transaction(tx)
        try:
            tx_hash = rpc.call("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        except ChainError as e:
            raise self._translate(e) from None
        return self.wait(str(tx_hash), confirmations=confirmations, timeout=timeout, tx={**call, "gas": gas})

    def wait(
        self,
        tx_hash: str,
        *,
        confirmations: int | None = None,
        timeout: float = 120.0,
        tx: dict[str, Any] | None = None,
    ) -> Receipt:
        r = self._receipt(tx_hash, timeout)
        if r["status"] != 1:
            raise self._failed_receipt(tx_hash, tx, r["blockNumber"])
        needed = self.config.confirmations if confirmations is None else confirmations
        self._await_confirmations(int(r["blockNumber"]), needed, timeout)
        return Receipt(
            tx_hash=tx_hash,
            block_number=int(r["blockNumber"]),
            block_hash=HexBytes(r["blockHash"]).to_0x_hex(),
            gas_used=int(r["gasUsed"]),
            status=int(r["status"]),
            logs=list(r["logs"]),
            contract_address=r.get("contractAddress"),
        )

    def _receipt(self, tx_hash: str, timeout: float) -> dict[str, Any]:
        """The transaction's receipt once mined (web3's shape on either backend)."""
        if self.rpc is None:
            try:
                return dict(
                    self.w3.eth.wait_for_transaction_receipt(
                        HexBytes(tx_hash), timeout=timeout, poll_latency=0.05
                    )
                )
            except TimeExhausted:
                raise ChainError(f"transaction {tx_hash} not mined within {timeout:.0f} s") from None
            except Exception as e:
                raise self._translate(e) from None
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            except ChainError as e:
                raise self._translate(e) from None
            if raw is not None and raw.get("blockHash") is not None:
                receipt = _formatted(raw)
                receipt["logs"] = [_formatted(log) for log in raw.get("logs") or []]
                return receipt
            if time.monotonic() > deadline:
                raise ChainError(f"transaction {tx_hash} not mined within {timeout:.0f} s")
            time.sleep(0.05)

    def _await_confirmations(self, block: int, needed: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.block_number() - block + 1 < needed:
            if time.monotonic() > deadline:
                raise ChainError(f"block {block} did not reach {needed} confirmations in {timeout:.0f} s")
            time.sleep(0.1)

    def _failed_receipt(self, tx_hash: str, tx: dict[str, Any] | None, block: int) -> Exception:
        # Replay the call at the failing block to learn which custom error it raised.
        if tx is not None and self.rpc is not None and "to" in tx:
            try:
                self.rpc.call(
                    "eth_call", [{"from": tx["from"], "to": tx["to"], "data": tx["data"]}, hex(block - 1)]
                )
            except ChainError as e:
                err = self._translate(e)
                if isinstance(err, ContractRevert):
                    return err
        elif tx is not None:
            try:
                call = {k: tx[k] for k in ("from", "to", "data") if k in tx}
                self.w3.eth.call(call, block - 1)  # type: ignore[arg-type]
            except Exception as e:
                err = self._translate(e)
                if isinstance(err, ContractRevert):
                    return err
        return ChainError(f"transaction {tx_hash} reverted in block {block}")

    # ---------------------------------------------------------------- errors

    def _translate(self, e: Exception) -> Exception:
        data = _revert_data(e)
        if data is not None:
            decoded = decode_revert(data, *self.abis)
            if decoded:
                return ContractRevert(decoded[0], decoded[1], raw="0x" + data.hex())
            return ContractRevert("", {}, raw="0x" + data.hex() if data else "no reason")
        if isinstance(e, (ConnectionError, OSError)) or "Connection" in type(e).__name__:
            return ChainUnavailable(f"chain unreachable at {self.config.url}: {_short(e)}")
        if isinstance(e, ChainError):
            return e
        return ChainError(_short(e))


def _base_fee(block: dict[str, Any] | None) -> int | None:
    base = (block or {}).get("baseFeePerGas")
    return None if base is None else int(base, 16)


def _revert_data(e: Exception) -> bytes | None:
    """Revert payload from web3 (JSON-RPC nodes) or eth-tester (embedded chain) exceptions."""
    if isinstance(e, RpcError):
        if isinstance(e.data, str) and e.data.startswith("0x"):
            return bytes.fromhex(e.data[2:])
        return b"" if "revert" in str(e).lower() else None
    if isinstance(e, (ContractCustomError, ContractLogicError)):
        raw = e.data
        if isinstance(raw, str) and raw.startswith("0x"):
            return bytes.fromhex(raw[2:])
        if isinstance(raw, (bytes, bytearray)):
            return bytes(raw)
        return b""
    if type(e).__name__ == "TransactionFailed":
        return _tester_revert_data(e.args[0] if e.args else b"")
    if isinstance(e, Web3RPCError):
        rpc = e.rpc_response or {}
        err = rpc.get("error") if isinstance(rpc, dict) else None
        data = err.get("data") if isinstance(err, dict) else None
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        if err and "revert" in str(err.get("message", "")).lower():
            return b""
    return None


def _tester_revert_data(raw: object) -> bytes:
    # eth-tester only hands over str(py-evm's Revert): "execution reverted: b'...'" (a bytes repr).
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    if isinstance(raw, str):
        text = raw.removeprefix("execution reverted: ").strip()
        if text.startswith(("b'", 'b"')):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return b""
            return bytes(value) if isinstance(value, bytes) else b""
        if text.startswith("0x"):
            return bytes.fromhex(text[2:])
        if text and text != "execution reverted":
            # Error(string) reasons arrive already decoded.
            return keccak(text="Error(string)")[:4] + abi_encode(["string"], [text])
    return b""


_QUANTITIES = frozenset(
    ("number", "timestamp", "gasLimit", "gasUsed", "baseFeePerGas", "size", "difficulty", "blockNumber",
     "logIndex", "transactionIndex", "status", "cumulativeGasUsed", "effectiveGasPrice", "nonce", "type")
)  # fmt: skip
_HASHES = frozenset(("hash", "parentHash", "blockHash", "transactionHash", "data", "stateRoot", "logsBloom"))


def _formatted(raw: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC block, receipt or log in the shape web3 gives it (ints, HexBytes, checksummed
    addresses), so that callers see the same values whichever backend answered."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _QUANTITIES and isinstance(value, str):
            out[key] = int(value, 16)
        elif key in _HASHES and isinstance(value, str):
            out[key] = HexBytes(value)
        elif key == "topics":
            out[key] = [HexBytes(t) for t in value]
        elif key in ("address", "contractAddress", "from", "to", "miner") and isinstance(value, str):
            out[key] = Web3.to_checksum_address(value)
        else:
            out[key] = value
    return out


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300]


def connect(config: ChainConfig, *, timeout: float = 10.0) -> Chain:
    """Connect to the configured node (anvil or any RPC endpoint) or start the embedded chain."""
    if config.backend == "embedded":
        return embedded_chain(config)
    w3 = Web3(Web3.HTTPProvider(config.url, request_kwargs={"timeout": timeout}))
    # Some permissioned (clique/IBFT) chains put more than 32 bytes in extraData.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return Chain(w3, config, config.backend)


def embedded_chain(config: ChainConfig) -> Chain:
    """An in-process EVM (eth-tester + py-evm) whose dev accounts are funded like anvil's."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    cap_recursion_limit()

    backend = PyEVMBackend()
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    funder = tester.get_accounts()[0]
    value = min(config.balance_eth, 100) * 10**18
    for i in range(min(config.accounts, 10)):
        address = dev_account(config.mnemonic, i).address
        tester.send_transaction({"from": funder, "to": address, "value": value, "gas": 21000})
    chain = Chain(w3, config.model_copy(update={"chain_id": int(w3.eth.chain_id)}), "embedded")
    chain.tester = tester  # type: ignore[attr-defined]
    return chain
