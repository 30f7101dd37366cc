"""Every use of a one-time document against the terms it was used under: within the validity period and
with an opening that really yields the leaf. The registry refuses anything else, so this can only ever
find a fault in the contract or the chain; the auditor checks rather than trusts.

The terms are not in the DocumentConsumed/DocumentEndorsed events (they are secret until used): they are
read back from the using transactions' call data, which the consumer had to send in the clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._internal.abi import AbiDecodeError
from .._internal.abi import decode as abi_decode
from ..issuing.leaf import leaf_of_opening
from .source import CALL_BATCH, AuditSource


@dataclass(frozen=True)
class UseProblem:
    tx: str
    leaf: bytes
    problem: str


def judge(time: int, valid_from: int, valid_until: int) -> str | None:
    """Why a use at chain time `time` was outside the validity period, or None."""
    if valid_from and time < valid_from:
        return f"used at {time}, before its validFrom {valid_from}"
    if valid_until and time > valid_until:
        return f"used at {time}, after its validUntil {valid_until}"
    return None


def check_uses(
    source: AuditSource, block: int, doc_types: dict[tuple[str, bytes], int]
) -> tuple[int, list[UseProblem]]:
    """(number of uses checked, problems) for every consume/endorse up to `block`. `doc_types` maps a
    batch (issuer, root) to its document type. A use made through another contract (not a direct call
    of the registry) carries no readable opening and is not counted."""
    abi = source.document_abi
    consume, endorse = abi.fn("consume"), abi.fn("endorse")
    topics = ["0x" + abi.event(n).topic.hex() for n in ("DocumentConsumed", "DocumentEndorsed")]
    logs = source.rpc.call(
        "eth_getLogs",
        [
            {
                "address": source.document_address,
                "topics": [topics],
                "fromBlock": hex(source.first_block),
                "toBlock": hex(block),
            }
        ],
    )
    txs = sorted({(int(log["blockNumber"], 16), log["transactionHash"]) for log in logs or []})
    problems: list[UseProblem] = []
    checked = 0
    times = {n: h.time for n, h in source.headers(sorted({n for n, _ in txs})).items() if h is not None}
    for i in range(0, len(txs), CALL_BATCH):
        part = txs[i : i + CALL_BATCH]
        answers = source.rpc.batch([("eth_getTransactionByHash", [tx]) for _, tx in part])
        for (number, tx), raw in zip(part, answers, strict=True):
            if not raw or (raw.get("to") or "").lower() != source.document_address:
                continue
            data = bytes.fromhex(raw["input"][2:])
            fn = (
                consume if data[:4] == consume.selector else endorse if data[:4] == endorse.selector else None
            )
            if fn is None:
                continue
            try:
                proof, terms = abi_decode(fn.input_types, data[4:])[:2]
            except AbiDecodeError:
                problems.append(UseProblem(tx, b"", "its call data is not a consume or endorse call"))
                continue
            issuer, root, leaf = proof[0].lower(), bytes(proof[1]), bytes(proof[2])
            checked += 1
            doc_type = doc_types.get((issuer, root))
            commitment, *packed = terms
            if doc_type is None:
                problems.append(UseProblem(tx, leaf, "used through a batch the replay does not know"))
            elif leaf_of_opening(doc_type, bytes(commitment), _packed(*packed)) != leaf:
                problems.append(UseProblem(tx, leaf, "the terms it was used under do not open its leaf"))
            if (why := judge(times.get(number, 0), packed[1], packed[2])) is not None:
                problems.append(UseProblem(tx, leaf, why))
    return checked, problems


def _packed(destination: bytes, valid_from: int, valid_until: int, quantity: int, unit: bytes) -> bytes:
    """The Terms struct from call data as the leaf packs it (anchor.leaf.Terms.packed)."""
    return (
        destination
        + valid_from.to_bytes(5, "big")
        + valid_until.to_bytes(5, "big")
        + quantity.to_bytes(8, "big")
        + unit
    )
