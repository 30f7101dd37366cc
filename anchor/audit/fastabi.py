"""Call encoding and result decoding by word slicing, for view functions with only static types.

A full consistency check makes one eth_call per entity (hundreds of thousands on a large registry);
eth_abi's generic codec then costs more than the node answering. Static arguments and results are
fixed 32-byte words, so they are built and read directly; anything else falls back to eth_abi. The
values match eth_abi's (addresses as lowercase hex, bytesN as bytes, structs as dicts by name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._internal.abi import Function

_Dec = Callable[[bytes], Any]
_Enc = Callable[[Any], bytes]


def _word_decoder(t: str) -> _Dec | None:
    if "[" in t:
        return None
    if t == "address":
        return lambda w: "0x" + w[12:].hex()
    if t == "bool":
        return lambda w: w[31] != 0
    if t.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if t.startswith("bytes") and t[5:].isdigit():
        n = int(t[5:])
        return lambda w: w[:n]
    return None


def _word_encoder(t: str) -> _Enc | None:
    if "[" in t:
        return None
    if t == "address":
        return lambda v: bytes.fromhex(v[2:]).rjust(32, b"\x00")
    if t == "bool":
        return lambda v: (1 if v else 0).to_bytes(32, "big")
    if t.startswith("uint"):
        return lambda v: int(v).to_bytes(32, "big")
    if t.startswith("bytes") and t[5:].isdigit():
        return lambda v: bytes(v).ljust(32, b"\x00")
    return None


def _layout(param: dict[str, Any]) -> list[tuple[str, _Dec]] | None:
    """(name, decoder) per word of a static param, or None if it is dynamic."""
    t: str = param["type"]
    if t == "tuple":
        out: list[tuple[str, _Dec]] = []
        for c in param["components"]:
            sub = _layout(c)
            if sub is None or c["type"] == "tuple":
                return None  # nested structs do not occur in the views; let eth_abi handle them
            out += [(c["name"], d) for _, d in sub]
        return out
    dec = _word_decoder(t)
    return None if dec is None else [(param.get("name", ""), dec)]


class FastFunction:
    """Same ``encode``/``decode`` contract as :class:`Function`, faster for static signatures."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.name = fn.name
        encoders = [_word_encoder(t) for t in fn.input_types]
        self._enc: list[_Enc] | None = (
            None if any(e is None for e in encoders) else [e for e in encoders if e]
        )
        self._dec: list[tuple[bool, list[tuple[str, _Dec]]]] | None = []
        for p in fn.outputs:
            lay = _layout(p)
            if lay is None:
                self._dec = None
                break
            self._dec.append((p["type"] == "tuple", lay))

    def encode(self, *args: Any) -> bytes:
        if self._enc is None:
            return self.fn.encode(*args)
        return self.fn.selector + b"".join(e(a) for e, a in zip(self._enc, args, strict=True))

    def decode(self, data: bytes) -> Any:
        if self._dec is None:
            return self.fn.decode(data)
        values: list[Any] = []
        pos = 0
        for is_tuple, lay in self._dec:
            if is_tuple:
                struct = {}
                for name, dec in lay:
                    struct[name] = dec(data[pos : pos + 32])
                    pos += 32
                values.append(struct)
            else:
                values.append(lay[0][1](data[pos : pos + 32]))
                pos += 32
        if len(data) < pos:
            return self.fn.decode(data)  # short answer: let eth_abi raise its usual error
        return values[0] if len(values) == 1 else tuple(values)
