"""Decoding the registries' logs straight from their JSON-RPC hex, with decoders compiled from the ABI.

Nearly every registry event has only static (one-word) fields, so each field is a fixed slice of a
topic or of the data; slicing hex strings avoids eth_abi's per-call setup, which would cost more than
the whole replay otherwise does. A ``bytes`` field (CACertificatePublished's certificate and proof) is
read through its offset word; any other dynamic type falls back to ``EventDef.decode``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .._internal.abi import ContractABI, EventDef
from .ids import party_str
from .source import AuditSource

TRUST = "trust"
DOCUMENTS = "documents"


class Event(NamedTuple):
    """One registry event: where it happened and its fields in ABI order (see :attr:`names`)."""

    block: int
    log_index: int
    time: int
    tx: str
    name: str
    args: tuple[Any, ...]


_Conv = Callable[[str], Any]


def _converter(abi_type: str) -> _Conv | None:
    if abi_type == "address":
        return lambda h: "0x" + h[24:].lower()
    if abi_type == "bytes32":
        return bytes.fromhex
    if abi_type == "bytes8":
        return lambda h: party_str(bytes.fromhex(h[:16]))
    if abi_type == "bool":
        return lambda h: int(h, 16) != 0
    if abi_type.startswith("uint"):
        return lambda h: int(h, 16)
    return None


def _dynamic_bytes(data: str, word: int) -> bytes:
    """A ``bytes`` value of the data (hex after 0x): its offset word, then its length and content."""
    offset = int(data[2 + 64 * word : 66 + 64 * word], 16)
    start = 2 + 2 * offset
    length = int(data[start : start + 64], 16)
    return bytes.fromhex(data[start + 64 : start + 64 + 2 * length])


def _DYNAMIC_BYTES(_word: str) -> Any:
    raise AssertionError("dynamic bytes are read through their offset")


def _plain(abi_type: str, value: Any) -> Any:
    """eth_abi's value as the fast decoders give it (party codes, lowercase addresses)."""
    if abi_type == "bytes8":
        return party_str(bytes(value))
    if abi_type == "address":
        return str(value).lower()
    return value


class _Compiled:
    __slots__ = ("fallback", "fields", "name", "names", "nargs", "types")

    def __init__(self, ev: EventDef) -> None:
        self.name = ev.name
        self.names = tuple(p["name"] for p in ev.inputs)
        self.nargs = len(ev.inputs)
        self.types = tuple(p["type"] for p in ev.inputs)
        fields: list[tuple[bool, int, _Conv]] = []
        topic = word = 0
        fallback = False
        for p in ev.inputs:
            conv = _converter(p["type"])
            if p["type"] == "bytes" and not p.get("indexed"):
                conv = _DYNAMIC_BYTES
            if conv is None:
                fallback = True
                break
            if p.get("indexed"):
                topic += 1
                fields.append((True, topic, conv))
            else:
                fields.append((False, word, conv))
                word += 1
        self.fields = tuple(fields)
        self.fallback = ev if fallback else None


class EventDecoder:
    """Topic + address -> typed :class:`Event`; logs of other contracts or events are ignored."""

    def __init__(self, source: AuditSource) -> None:
        self._by_key: dict[tuple[str, str], _Compiled] = {}
        self.names: dict[str, tuple[str, ...]] = {}
        self.contract_of: dict[str, str] = {}
        for address, abi, label in (
            (source.trust_address, source.trust_abi, TRUST),
            (source.document_address, source.document_abi, DOCUMENTS),
        ):
            self._add(address, abi, label)

    def _add(self, address: str, abi: ContractABI, label: str) -> None:
        for topic, ev in abi.events.items():
            c = _Compiled(ev)
            self._by_key[(address, "0x" + topic.hex())] = c
            self.names[ev.name] = c.names
            self.contract_of[ev.name] = label

    def decode(self, log: dict[str, Any], time: int) -> Event | None:
        topics: list[str] = log["topics"]
        if not topics:
            return None
        c = self._by_key.get((log["address"].lower(), topics[0].lower()))
        if c is None:
            return None
        if c.fallback is not None:
            values = c.fallback.decode([bytes.fromhex(t[2:]) for t in topics], bytes.fromhex(log["data"][2:]))
            args = tuple(_plain(t, values[n]) for n, t in zip(c.names, c.types, strict=True))
        else:
            data: str = log["data"]
            out = []
            for indexed, i, conv in c.fields:
                if indexed:
                    out.append(conv(topics[i][2:]))
                elif conv is _DYNAMIC_BYTES:
                    out.append(_dynamic_bytes(data, i))
                else:
                    out.append(conv(data[2 + 64 * i : 66 + 64 * i]))
            args = tuple(out)
        return Event(
            int(log["blockNumber"], 16), int(log["logIndex"], 16), time, log["transactionHash"], c.name, args
        )

    def named(self, event: Event) -> dict[str, Any]:
        """The event's fields by ABI name (for display; the fold uses positions)."""
        return dict(zip(self.names[event.name], event.args, strict=True))
