"""The fast JCS path must agree with rfc8785.dumps byte for byte, and fail where it fails."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor._internal import fastjcs
from anchor._internal.fastjcs import DuplicateKeyError, NestingError, canonical_json, canonicalize_json

# Characters where the stdlib and JCS could part ways: escapes, DEL, line separators, and the
# ranges on either side of the UTF-16 surrogate block, which sort differently as code units.
_TRICKY_CHARS = '\x00\x08\x1f\x7f"\\/\u2028\ud7ff\ue000\uffff\U00010000\U0001f600\U0010ffff'
_TRICKY_NUMBERS: list[int | float] = [
    2**53 - 1,
    2**53,
    -(2**53) + 1,
    -(2**53),
    0.0,
    -0.0,
    12.0,
    1e-7,
    1e-6,
    1e-5,
    1e-4,
    1e15,
    1e16,
    1e21,
    1e22,
    5e-324,
    1.7976931348623157e308,
    2.0**53,
    9007199254740993.0,
    333333333.33333329,
]
_chars = st.characters(exclude_categories=("Cs",)) | st.sampled_from(_TRICKY_CHARS)
_text = st.text(_chars, max_size=6)
# Short keys over the tricky characters, so that one dict often holds keys that sort differently
# by code point and by UTF-16 code unit.
_keys = st.text(st.sampled_from(_TRICKY_CHARS), max_size=2) | _text
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(_TRICKY_NUMBERS)
    | _text
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=25,
)


def _outcome(fn: Callable[[Any], bytes], arg: Any) -> bytes | type[BaseException]:
    try:
        return fn(arg)
    except Exception as exc:
        return type(exc)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_canonical_json_is_rfc8785(value: Any) -> None:
    assert _outcome(canonical_json, value) == _outcome(rfc8785.dumps, value)


@settings(max_examples=700, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([None, 0, 2]))
def test_canonicalize_json_of_any_serialization_is_rfc8785(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    assert _outcome(canonicalize_json, data) == _outcome(rfc8785.dumps, value)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(
            st.sampled_from("a\ue000\uffff\U00010000\U0001f600\U00040000\U0010ffff"), min_size=1, max_size=3
        ),
        st.integers(0, 9),
        min_size=2,
    )
)
def test_keys_sort_by_utf16_code_units(obj: dict[str, int]) -> None:
    expected = rfc8785.dumps(obj)
    assert canonical_json(obj) == expected
    assert canonicalize_json(json.dumps(obj, ensure_ascii=False).encode()) == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, json_values, min_size=1), st.data())
def test_duplicate_keys_are_always_found(obj: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(obj)))
    members = [f"{json.dumps(k, ensure_ascii=False)}:{json.dumps(v)}" for k, v in obj.items()]
    # The repeat is spelled with escapes, so it must be recognised by value, not by spelling.
    repeat = f"{json.dumps(key, ensure_ascii=True)}:{json.dumps(data.draw(json_values))}"
    members.insert(data.draw(st.integers(0, len(members))), repeat)
    wrapper = data.draw(st.sampled_from(["{}", "[1,{}]", '{{"outer":{},":":":"}}']))
    text = wrapper.format("{" + ",".join(members) + "}")
    with pytest.raises(DuplicateKeyError) as caught:
        canonicalize_json(text.encode())
    assert caught.value.key == key


def test_rfc8785_section_3_2_2_example() -> None:
    data = (
        b'{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
        b' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        b' "literals": [null, true, false]}'
    )
    expected = (
        b'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        b'"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize_json(data) == expected


def test_rfc8785_section_3_2_3_sort_order() -> None:
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    expected_order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = json.dumps(dict.fromkeys(expected_order, 0), ensure_ascii=False, separators=(",", ":"))
    assert canonical_json(dict.fromkeys(keys, 0)) == expected.encode()
    assert canonicalize_json(json.dumps(dict.fromkeys(keys, 0)).encode()) == expected.encode()


def _realistic_permit(quantity: float) -> dict[str, Any]:
    return {
        "permitNumber": "NO/2025/000123",
        "exporter": {"name": "Øyvind Hansen", "city": "Tromsø", "country": "NO"},
        "importer": {"name": "Chen Wei 陈伟", "city": "Córdoba"},
        "items": [{"species": "Dalbergia nigra", "quantity": quantity, "unit": "KGM"}, {"lineNo": 2}],
        "remarks": ["Ikke gyldig uten stempel", "tab\there", "e-mail: a@b.no"],
        "seal": {"number": 582337223, "verified": True, "remark": None},
    }


@pytest.mark.parametrize("quantity", [12, 12.5, 12.0, -0.0, 1e-3])
def test_usual_documents_take_the_fast_path(monkeypatch: pytest.MonkeyPatch, quantity: float) -> None:
    expected = rfc8785.dumps(_realistic_permit(quantity))
    data = json.dumps(_realistic_permit(quantity), indent=2).encode()

    def forbidden(value: object) -> bytes:
        raise AssertionError("fell back to rfc8785")

    monkeypatch.setattr(fastjcs.rfc8785, "dumps", forbidden)
    assert canonicalize_json(data) == expected


@pytest.mark.parametrize("quantity", [1e-7, 2**53, 1e16])
def test_unusual_numbers_fall_back(monkeypatch: pytest.MonkeyPatch, quantity: float) -> None:
    data = json.dumps(_realistic_permit(quantity)).encode()
    monkeypatch.setattr(fastjcs.rfc8785, "dumps", lambda value: b"fallback")
    assert canonicalize_json(data) == b"fallback"
    assert canonical_json(_realistic_permit(quantity)) == b"fallback"


def test_non_bmp_key_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastjcs.rfc8785, "dumps", lambda value: b"fallback")
    assert canonical_json({"\U0001f600": 1, "\ufb33": 2}) == b"fallback"
    assert canonicalize_json(b'{"\\ud83d\\ude00": 1}') == b"fallback"


def test_duplicate_key_hidden_by_an_escaped_colon_is_found() -> None:
    # The lost member's colon is made up for by \u003a decoding to ':' in the output.
    with pytest.raises(DuplicateKeyError):
        canonicalize_json(b'{"x":1,"x":2,"y":"\\u003a"}')
    assert canonicalize_json(b'{"x":1,"y":"\\u003a"}') == b'{"x":1,"y":":"}'


def test_duplicate_key_wins_over_a_canonicalization_error() -> None:
    with pytest.raises(DuplicateKeyError):
        canonicalize_json(b'{"a":1e400,"a":2}')


@pytest.mark.parametrize(
    ("data", "position"), [(b'{"a": NaN}', 6), (b'{"NaN": -Infinity}', 8), (b'["Infinity", Infinity]', 13)]
)
def test_nan_and_infinity_are_rejected_with_position(data: bytes, position: int) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        canonicalize_json(data)
    assert caught.value.pos == position


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"a": 1e400}', rfc8785.FloatDomainError),
        (b'{"a": 9007199254740992}', rfc8785.IntegerDomainError),
        (b'{"a": "\\udc00"}', rfc8785.CanonicalizationError),
        (b'"\xff"', UnicodeDecodeError),
        ('{"a": 1}'.encode("utf-16"), UnicodeDecodeError),
    ],
)
def test_values_without_canonical_form_are_rejected(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        canonicalize_json(data)


def test_byte_order_mark_is_ignored() -> None:
    assert canonicalize_json(b'\xef\xbb\xbf{"b": 1, "a": 2}') == b'{"a":2,"b":1}'


@pytest.fixture
def high_recursion_limit() -> Iterator[None]:
    # What py-evm and py_ecc do on import; the C parser then recurses until the C stack ends.
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@pytest.mark.usefixtures("high_recursion_limit")
@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deep_nesting_is_refused_before_parsing(opener: bytes) -> None:
    with pytest.raises(NestingError):
        canonicalize_json(opener * 200_000)
    depth_limit = opener * fastjcs.MAX_DEPTH + b"1" + (b"]" if opener == b"[" else b"}") * fastjcs.MAX_DEPTH
    assert canonicalize_json(depth_limit) == depth_limit
    brackets_in_strings = json.dumps(["[{" * 500]).encode()
    assert canonicalize_json(brackets_in_strings) == brackets_in_strings


@pytest.mark.usefixtures("high_recursion_limit")
def test_deep_or_cyclic_values_go_to_rfc8785(monkeypatch: pytest.MonkeyPatch) -> None:
    deep: list[Any] = []
    for _ in range(20_000):
        deep = [deep]
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    monkeypatch.setattr(fastjcs.rfc8785, "dumps", lambda value: b"fallback")
    assert canonical_json(deep) == b"fallback"
    assert canonical_json(cyclic) == b"fallback"
