"""What a verification reads from the chain, all pinned to one block so that the verdict can state it.

Reads go straight to JSON-RPC (one batch request after learning the head), decoded with the fast ABI
codec: web3's ContractFunction.call() costs milliseconds of client overhead per call.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from ..chain import Chain
from ..deploy import Manifest, party_id
from ..errors import ChainError, ChainUnavailable


@dataclass(frozen=True)
class ChainView:
    block_number: int
    block_hash: str
    block_time: int
    document: dict[str, Any]
    context: dict[str, Any]
    claimed_block_hash: str | None
    claimed_block_time: int | None


class ChainReader:
    def __init__(self, chain: Chain, manifest: Manifest, *, cache_size: int = 4096) -> None:
        self.chain = chain
        self.manifest = manifest
        self.trust_abi, self.doc_abi = chain.abis
        self._doc_fn = self.doc_abi.fn("document")
        self._ctx_fn = self.trust_abi.fn("verificationContext")
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_size = cache_size
        self._batch = chain.backend != "embedded"

    def head(self) -> tuple[int, str, int]:
        b = self._rpc([("eth_getBlockByNumber", ["latest", False])])[0]
        return int(b["number"], 16), b["hash"], int(b["timestamp"], 16)

    def read(
        self,
        root: bytes,
        leaf: bytes,
        issuer: str,
        doc_type: int,
        verifier: str,
        anchored_time: int,
        claimed_block: int,
    ) -> ChainView:
        number, block_hash, block_time = self.head()
        at = hex(number)
        doc_data = "0x" + self._doc_fn.encode(root, leaf).hex()
        ctx_data = "0x" + self._ctx_fn.encode(issuer, doc_type, party_id(verifier), anchored_time).hex()
        ctx_key = (number, ctx_data)
        hdr_key = (number, "header", claimed_block)
        requests: list[tuple[str, list[Any]]] = [
            ("eth_call", [{"to": self.manifest.document_registry.address, "data": doc_data}, at])
        ]
        if ctx_key not in self._cache:
            requests.append(
                ("eth_call", [{"to": self.manifest.trust_registry.address, "data": ctx_data}, at])
            )
        want_header = claimed_block <= number and hdr_key not in self._cache
        if want_header:
            requests.append(("eth_getBlockByNumber", [hex(claimed_block), False]))
        answers = self._rpc(requests)
        document = self._doc_fn.decode(bytes(HexBytes(answers[0])))
        k = 1
        if ctx_key not in self._cache:
            self._remember(ctx_key, self._ctx_fn.decode(bytes(HexBytes(answers[k]))))
            k += 1
        if want_header:
            hdr = answers[k]
            self._remember(hdr_key, (hdr["hash"], int(hdr["timestamp"], 16)) if hdr else (None, None))
        claimed_hash, claimed_time = self._cache.get(hdr_key, (None, None))
        return ChainView(
            number, block_hash, block_time, document, self._cache[ctx_key], claimed_hash, claimed_time
        )

    def _remember(self, key: tuple[Any, ...], value: Any) -> None:
        self._cache[key] = value
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _rpc(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        provider = self.chain.w3.provider
        try:
            if self._batch and len(requests) > 1:
                responses = provider.make_batch_request(requests)  # type: ignore[attr-defined]
            else:
                responses = [provider.make_request(m, p) for m, p in requests]  # type: ignore[arg-type]
        except Exception as e:
            raise ChainUnavailable(
                f"chain unreachable at {self.chain.config.url}: {str(e).splitlines()[0][:200]}"
            ) from None
        if isinstance(responses, dict):
            raise ChainError(f"node refused a batch request: {responses.get('error')}")
        out = []
        for r in responses:
            if r.get("error"):
                raise ChainError(f"node error: {r['error'].get('message', r['error'])}")
            out.append(_plain(r.get("result")))
        return out


def _plain(value: Any) -> Any:
    """Embedded-chain answers come as HexBytes/ints in AttributeDicts; JSON-RPC ones as hex strings."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, int):
        return hex(value)
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value
