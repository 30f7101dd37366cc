"""Decoding the registries' logs from their JSON-RPC form with the library's ABI codec.

The codec checks each field as eth_abi would (a malformed log is an error, not a misread value); here
party codes (bytes8) become their text form, which is how the replay keys parties.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._internal.abi import AbiDecodeError, ContractABI, EventDef
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


class _Compiled:
    __slots__ = ("event", "name", "names", "parties")

    def __init__(self, ev: EventDef) -> None:
        self.event = ev
        self.name = ev.name
        self.names = ev.names
        # Positions of the party codes, given as text (the replay keys parties by their code).
        self.parties = tuple(i for i, p in enumerate(ev.inputs) if p["type"] == "bytes8")


def _raw(topics: list[str], data: str) -> tuple[list[bytes], bytes]:
    """A log's topics and data as bytes (one pass: this runs once per event of a replay)."""
    try:
        raw = [bytes.fromhex(t[2:]) for t in topics if t[:2] == "0x"]
        if len(raw) == len(topics) and data[:2] == "0x":
            return raw, bytes.fromhex(data[2:])
    except (ValueError, TypeError):
        pass
    raise AbiDecodeError("a log's topics or data are not 0x-prefixed hex")


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
        values = c.event.values(*_raw(topics, log["data"]))
        if c.parties:
            listed = list(values)
            for i in c.parties:
                listed[i] = party_str(listed[i])
            values = tuple(listed)
        return Event(
            int(log["blockNumber"], 16),
            int(log["logIndex"], 16),
            time,
            log["transactionHash"],
            c.name,
            values,
        )

    def named(self, event: Event) -> dict[str, Any]:
        """The event's fields by ABI name (for display; the fold uses positions)."""
        return dict(zip(self.names[event.name], event.args, strict=True))
