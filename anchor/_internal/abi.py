"""Fast ABI encoding/decoding straight on eth_abi: hot paths must not pay web3's ContractFunction overhead."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak

ARTIFACTS = Path(__file__).resolve().parents[2] / "contracts" / "build"


def _type_of(param: dict[str, Any]) -> str:
    t: str = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param["components"])
        return f"({inner}){t[5:]}"
    return t


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_type_of(p) for p in item['inputs'])})"


def _named(params: list[dict[str, Any]], values: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (p, v) in enumerate(zip(params, values, strict=True)):
        name = p.get("name") or f"arg{i}"
        out[name] = _structured(p, v)
    return out


def _structured(param: dict[str, Any], value: Any) -> Any:
    t: str = param["type"]
    if t == "tuple":
        return _named(param["components"], value)
    if t.startswith("tuple["):
        inner = dict(param, type="tuple")
        return [_structured(inner, v) for v in value]
    return value


@dataclass(frozen=True)
class Function:
    name: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    outputs: tuple[dict[str, Any], ...]

    def encode(self, *args: Any) -> bytes:
        return self.selector + abi_encode(self.input_types, args)

    def decode(self, data: bytes) -> Any:
        """The single return value (structs as dicts), or a tuple for several."""
        values = abi_decode(self.output_types, data)
        decoded = [_structured(p, v) for p, v in zip(self.outputs, values, strict=True)]
        return decoded[0] if len(decoded) == 1 else tuple(decoded)


@dataclass(frozen=True)
class ErrorDef:
    name: str
    inputs: tuple[dict[str, Any], ...]

    def decode(self, data: bytes) -> dict[str, Any]:
        values = abi_decode([_type_of(p) for p in self.inputs], data)
        return _named(list(self.inputs), values)


@dataclass(frozen=True)
class EventDef:
    name: str
    topic: bytes
    inputs: tuple[dict[str, Any], ...]

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        indexed = [p for p in self.inputs if p.get("indexed")]
        plain = [p for p in self.inputs if not p.get("indexed")]
        values: dict[str, Any] = {}
        for p, t in zip(indexed, topics[1:], strict=True):
            values[p["name"]] = abi_decode([_type_of(p)], t)[0]
        for p, v in zip(plain, abi_decode([_type_of(p) for p in plain], data), strict=True):
            values[p["name"]] = _structured(p, v)
        return {p["name"]: values[p["name"]] for p in self.inputs}


class ContractABI:
    """Functions, errors and events of one compiled contract."""

    def __init__(self, name: str, abi: list[dict[str, Any]], bytecode: str, deployed_bytecode: str) -> None:
        self.name = name
        self.abi = abi
        self.bytecode = bytes.fromhex(bytecode.removeprefix("0x"))
        self.deployed_bytecode = bytes.fromhex(deployed_bytecode.removeprefix("0x"))

    @classmethod
    def load(cls, name: str) -> ContractABI:
        art = json.loads((ARTIFACTS / f"{name}.json").read_text())
        return cls(name, art["abi"], art["bytecode"], art["deployedBytecode"])

    @cached_property
    def functions(self) -> dict[str, Function]:
        out = {}
        for item in self.abi:
            if item["type"] == "function":
                out[item["name"]] = Function(
                    item["name"],
                    keccak(text=_signature(item))[:4],
                    tuple(_type_of(p) for p in item["inputs"]),
                    tuple(_type_of(p) for p in item["outputs"]),
                    tuple(item["outputs"]),
                )
        return out

    @cached_property
    def errors(self) -> dict[bytes, ErrorDef]:
        return {
            keccak(text=_signature(i))[:4]: ErrorDef(i["name"], tuple(i["inputs"]))
            for i in self.abi
            if i["type"] == "error"
        }

    @cached_property
    def events(self) -> dict[bytes, EventDef]:
        return {
            keccak(text=_signature(i)): EventDef(i["name"], keccak(text=_signature(i)), tuple(i["inputs"]))
            for i in self.abi
            if i["type"] == "event"
        }

    def event(self, name: str) -> EventDef:
        for e in self.events.values():
            if e.name == name:
                return e
        raise KeyError(name)

    def encode_constructor(self, *args: Any) -> bytes:
        ctor = next((i for i in self.abi if i["type"] == "constructor"), None)
        types = [_type_of(p) for p in ctor["inputs"]] if ctor else []
        return self.bytecode + abi_encode(types, args)

    def fn(self, name: str) -> Function:
        return self.functions[name]


def decode_revert(data: bytes, *abis: ContractABI) -> tuple[str, dict[str, Any]] | None:
    """Name and arguments of a custom error (or Error(string)/Panic) in revert data, if recognizable."""
    if len(data) < 4:
        return None
    selector, body = data[:4], data[4:]
    if selector == keccak(text="Error(string)")[:4]:
        return "Error", {"message": abi_decode(["string"], body)[0]}
    if selector == keccak(text="Panic(uint256)")[:4]:
        return "Panic", {"code": hex(abi_decode(["uint256"], body)[0])}
    for contract in abis:
        err = contract.errors.get(selector)
        if err is not None:
            try:
                return err.name, err.decode(body)
            except Exception:
                return err.name, {}
    return None
