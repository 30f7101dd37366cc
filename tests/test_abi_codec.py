"""The ABI codec against eth_abi: on every param list of the registries' functions, errors and events,
random values decode to what eth_abi decodes, and malformed encodings (dirty padding, bools above 1,
dirty bytesN tails, bad pointers, short data) are refused exactly when eth_abi refuses them."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor._internal.abi import AbiDecodeError, ContractABI, Decoder, _structured, _type_of, decode
from anchor.audit.events import EventDecoder
from anchor.errors import ChainError

ABIS = [ContractABI.load("TrustRegistry"), ContractABI.load("DocumentRegistry")]
Params = tuple[dict[str, Any], ...]


def _param_lists() -> list[Params]:
    out: dict[str, Params] = {}
    for abi in ABIS:
        for item in abi.abi:
            for key in ("inputs", "outputs"):
                params = tuple(p for p in item.get(key, []) if not p.get("indexed"))
                if params:
                    out[",".join(_type_of(p) for p in params)] = params
            for p in item.get("inputs", []):
                if p.get("indexed"):
                    out[_type_of(p)] = (p,)
    return [out[k] for k in sorted(out)]


PARAM_LISTS = _param_lists()
SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def value_of(param: dict[str, Any]) -> st.SearchStrategy[Any]:
    t: str = param["type"]
    if t.endswith("[]"):
        return st.lists(value_of(dict(param, type=t[:-2])), max_size=3)
    if t == "tuple":
        return st.tuples(*(value_of(c) for c in param["components"]))
    if t == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if t == "bool":
        return st.booleans()
    if t.startswith("uint"):
        bits = int(t[4:])
        return st.one_of(st.integers(0, 2**bits - 1), st.sampled_from([0, 1, 2**bits - 1]))
    if t == "bytes":
        return st.binary(max_size=70)
    if t == "string":
        return st.text(max_size=20)
    if t.startswith("bytes"):
        n = int(t[5:])
        return st.binary(min_size=n, max_size=n)
    raise AssertionError(f"no strategy for {t}")


@st.composite
def mangled(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` as it is, or with bytes overwritten (most of a narrow type's word is padding, so this
    dirties padding, bools and bytesN tails, pointers and lengths), cut short or extended."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        if out:
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(1, 255))
    cut = draw(st.one_of(st.none(), st.integers(0, len(out))))
    if cut is not None:
        del out[cut:]
    out += draw(st.binary(max_size=draw(st.sampled_from([0, 0, 32, 64]))))
    return bytes(out)


def eth_abi_outcome(params: Params, data: bytes) -> tuple[str, Any]:
    try:
        values = abi_decode([_type_of(p) for p in params], data)
    except (DecodingError, OverflowError):  # eth_abi 6 overflows on a bytes length >= 2**63
        return "refused", None
    return "ok", tuple(_structured(p, v) for p, v in zip(params, values, strict=True))


def codec_outcome(params: Params, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", Decoder(params)(data)
    except AbiDecodeError:
        return "refused", None


@st.composite
def case(draw: st.DrawFn, lists: list[Params] = PARAM_LISTS) -> tuple[Params, bytes]:
    params = draw(st.sampled_from(lists))
    values = [draw(value_of(p)) for p in params]
    return params, draw(mangled(abi_encode([_type_of(p) for p in params], values)))


def test_the_registries_hot_types_take_the_compiled_path() -> None:
    """Otherwise the differential tests below would only compare eth_abi with itself."""
    compiled = {",".join(_type_of(p) for p in ps) for ps in PARAM_LISTS if Decoder(ps).compiled}
    assert {
        "address",
        "bool",
        "bytes8",
        "uint256",
        "uint8,uint32",
        "(address,uint40,uint8,uint32)",
        "bytes32,bytes,bytes",
        "((address,uint40,uint8,uint32),bytes8,(uint40,uint8),(uint40,uint8,uint40,uint40,bytes8,uint64),address,bytes32,bytes32)",
    } <= compiled
    assert not Decoder(ABIS[0].fn("admins").outputs).compiled  # address[]: eth_abi's


@SETTINGS
@given(case())
def test_decoding_agrees_with_eth_abi(c: tuple[Params, bytes]) -> None:
    params, data = c
    assert codec_outcome(params, data) == eth_abi_outcome(params, data)


WITH_BYTES = [ps for ps in PARAM_LISTS if any(p["type"] == "bytes" for p in ps)]


@SETTINGS
@given(case(WITH_BYTES))
def test_decoding_dynamic_bytes_agrees_with_eth_abi(c: tuple[Params, bytes]) -> None:
    """Pointers, lengths and the padding after the content: rare in the mix above, so drawn apart."""
    assert WITH_BYTES
    params, data = c
    assert codec_outcome(params, data) == eth_abi_outcome(params, data)


@SETTINGS
@given(st.data())
def test_event_decoding_agrees_with_eth_abi(data: st.DataObject) -> None:
    ev = data.draw(st.sampled_from([e for abi in ABIS for e in abi.events.values()]))
    indexed = [p for p in ev.inputs if p.get("indexed")]
    plain = [p for p in ev.inputs if not p.get("indexed")]
    topics = [ev.topic] + [
        data.draw(mangled(abi_encode([p["type"]], [data.draw(value_of(p))]))) for p in indexed
    ]
    body = data.draw(mangled(abi_encode([p["type"] for p in plain], [data.draw(value_of(p)) for p in plain])))
    try:
        plain_values = iter(abi_decode([p["type"] for p in plain], body))
        words = iter(topics[1:])
        expected: Any = tuple(
            abi_decode([p["type"]], next(words))[0] if p.get("indexed") else next(plain_values)
            for p in ev.inputs
        )
    except (DecodingError, OverflowError):
        expected = "refused"
    try:
        got: Any = ev.values(topics, body)
    except AbiDecodeError:
        got = "refused"
    assert got == expected


def address_like() -> st.SearchStrategy[Any]:
    raw = st.binary(min_size=20, max_size=20)
    return st.one_of(
        raw.map(lambda b: "0x" + b.hex()),
        raw.map(lambda b: to_checksum_address(b)),
        raw.map(lambda b: "0x" + b.hex().upper()),
        raw,
        st.text(max_size=44),
        st.integers(),
    )


def loose_value(param: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Right and wrong Python values for an argument: encoding must accept and refuse as eth_abi does."""
    t: str = param["type"]
    if t.endswith("]") or t == "tuple":
        return value_of(param)
    if t == "address":
        return address_like()
    if t.startswith("uint"):
        bits = int(t[4:])
        return st.one_of(st.integers(-2, 2**bits + 1), st.booleans(), st.just("1"))
    if t.startswith("bytes") and t[5:].isdigit():
        return st.one_of(st.binary(max_size=int(t[5:]) + 2), st.binary(max_size=33).map(bytearray))
    if t == "bool":
        return st.one_of(st.booleans(), st.integers(0, 2))
    return value_of(param)


@SETTINGS
@given(st.data())
def test_encoding_agrees_with_eth_abi(data: st.DataObject) -> None:
    abi, item = data.draw(
        st.sampled_from([(a, i) for a in ABIS for i in a.abi if i["type"] == "function" and i["inputs"]])
    )
    fn = abi.fn(item["name"])
    args = [data.draw(loose_value(p)) for p in item["inputs"]]
    try:
        expected: Any = fn.selector + abi_encode(fn.input_types, args)
    except EncodingError as e:
        expected = type(e)
    try:
        got: Any = fn.encode(*args)
    except EncodingError as e:
        got = type(e)
    assert got == expected


# The malformed answers a lax decoder would misread, each refused with a one-line codec error.
WORD = bytes(32)


@pytest.mark.parametrize(
    ("types", "data", "message"),
    [
        (["address"], b"\x01" + bytes(11) + b"\x22" * 20, "address with non-zero padding"),
        (["bool"], bytes(31) + b"\x02", "bool that is neither 0 nor 1"),
        (["bool"], b"\x01" + bytes(30) + b"\x01", "bool that is neither 0 nor 1"),
        (["bytes8"], b"SG" + bytes(6) + b"\x01" + bytes(23), "bytes8 with non-zero padding"),
        (["uint40"], b"\x01" + bytes(31), "uint40 with non-zero padding"),
        (["uint8", "uint32"], WORD, "32 bytes where the values need at least 64"),
        (["bytes"], (32).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x01\x02" + bytes(30), "padding"),
        (["bytes"], (0).to_bytes(32, "big") + WORD, "pointer 0 outside the data"),
        (["bytes"], (32).to_bytes(32, "big") + (33).to_bytes(32, "big") + WORD, "longer than the data"),
    ],
    ids=["address", "bool-2", "bool-dirty", "bytes8-tail", "uint40", "short", "bytes-pad", "ptr", "len"],
)
def test_malformed_encodings_are_refused_like_eth_abi_does(
    types: list[str], data: bytes, message: str
) -> None:
    with pytest.raises(DecodingError):
        abi_decode(types, data)
    with pytest.raises(AbiDecodeError, match=message) as e:
        decode(types, data)
    assert isinstance(e.value, ChainError) and "\n" not in str(e.value)


class _Source:
    """What EventDecoder reads of an AuditSource: the two registries' addresses and ABIs."""

    trust_address = "0x" + "11" * 20
    document_address = "0x" + "22" * 20
    trust_abi, document_abi = ABIS


def test_a_log_with_a_dirty_address_word_is_an_error_not_a_misread_event() -> None:
    decoder = EventDecoder(_Source())  # type: ignore[arg-type]
    anchored = ABIS[1].event("Anchored")
    issuer = "0x" + "ab" * 20
    log = {
        "address": _Source.document_address,
        "topics": ["0x" + anchored.topic.hex(), "0x" + "cd" * 32, "0x" + "00" * 12 + issuer[2:]],
        "data": "0x" + abi_encode(["uint8", "uint32"], [2, 500]).hex(),
        "blockNumber": "0x5",
        "logIndex": "0x0",
        "transactionHash": "0x" + "ef" * 32,
    }
    event = decoder.decode(log, 7)
    assert event is not None and event.args == (b"\xcd" * 32, issuer, 2, 500)
    dirty = dict(log, topics=[*log["topics"][:2], "0x" + "00" * 11 + "01" + issuer[2:]])
    with pytest.raises(AbiDecodeError, match="address with non-zero padding"):
        decoder.decode(dirty, 7)
    for bad in (dict(log, data="0xzz"), dict(log, data="0102"), dict(log, topics=[*log["topics"][:2], "zz"])):
        with pytest.raises(AbiDecodeError, match="not 0x-prefixed hex"):
            decoder.decode(bad, 7)


def test_a_huge_length_is_refused_on_both_paths() -> None:
    """eth_abi 6 raises OverflowError reading a length >= 2**63; the codec turns it into its error."""
    data = (32).to_bytes(32, "big") + (2**255).to_bytes(32, "big") + WORD
    with pytest.raises(OverflowError):
        abi_decode(["string"], data)
    for types in (["string"], ["bytes"]):  # eth_abi's path, then the compiled one
        with pytest.raises(AbiDecodeError):
            decode(types, data)
