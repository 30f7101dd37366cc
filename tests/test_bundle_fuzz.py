"""Property tests with a forger's mutations: any change to a real proof bundle either fails to load with
a BundleError or loads and gets a verdict, never an exception; and a verdict is VALID only if every
field the checks rely on is untouched. Two real bundles are mutated: a document with open terms and a
CITES permit whose leaf commits to terms (destination, validity period, quantity and unit)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor.accounts import dev_account
from anchor.bundle import Bundle
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.errors import BundleError
from anchor.issuing.leaf import Terms
from anchor.registry import Registries
from anchor.verify import Decision, Verifier
from tests.conftest import MNEMONIC, World
from tests.issuing_helpers import Scenario, build_scenario, json_doc

# Fields a VALID verdict may leave unconfirmed: the file name is informative; the media type only
# selects the canonicalization, which the digest then confirms; `supersedes` is the issuer's claim,
# while what a verifier trusts is the supersession recorded on chain (docs/bundle.md).
INFORMATIVE = {("document", "name"), ("document", "mediaType"), ("supersedes",)}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=20)
    | st.sampled_from(["0x", "0x" + "00" * 32, "0x" + "ff" * 32, "0X" + "ab" * 32, "", "-1", "1e3"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _mutate(data: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    if not path:
        return out if action == "delete" else {**out, "extra": value}
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, list):
        parent.insert(last, value)
    else:
        parent[f"{last}_"] = value
    return out


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # fmt: skip
WORDS = ["SG", "TH", "MY", "XX", "th", "kg", "KG", "ecdsa-sha256", "rsa-pss-sha256", "ed25519", "jcs-rfc8785", "xml-c14n2",
         "raw-sha256", "application/json", "application/xml", "application/pdf", "cites-permit",
         "phytosanitary-certificate", "certificate-of-origin", "veterinary-certificate"]  # fmt: skip


def _hex(n_bytes: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=n_bytes, max_size=n_bytes).map(lambda b: "0x" + b.hex())


_ADDRESSES = ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]


def _term(name: str) -> st.SearchStrategy[Any]:
    """A value for one of the terms: what an open term could be set to, or a set one changed to."""
    if name in ("validFrom", "validUntil"):
        return st.sampled_from([0, 1, 2**40 - 1, 2**40]) | st.integers(0, 2**41)
    if name == "quantity":
        return st.sampled_from([0, 1, 2**64 - 1, 2**64]) | st.integers(-1, 2**65)
    return st.sampled_from(WORDS) | st.text(max_size=9)


def plausible(value: Any, path: tuple[Any, ...] = ()) -> st.SearchStrategy[Any]:
    """Values a forger would try: the same shape as the original, so that the bundle still loads."""
    if len(path) == 2 and path[0] == "terms":
        return _term(path[1]) | st.none()
    if path == ("terms",):
        names = ["destination", "validFrom", "validUntil", "quantity", "unit"]
        return st.fixed_dictionaries({}, optional={n: _term(n) | st.none() for n in names})
    if isinstance(value, bool) or value is None:
        supersedes = {"issuer": st.sampled_from(_ADDRESSES), "root": _hex(32), "leaf": _hex(32)}
        return st.fixed_dictionaries(supersedes) | st.none()
    if isinstance(value, int):
        return st.sampled_from([value - 1, value + 1, 0, 2**40]) | st.integers(0, 2**64)
    if isinstance(value, str) and value.startswith("0x"):
        n = (len(value) - 2) // 2
        flip = st.integers(2, len(value) - 1).map(
            lambda i: value[:i] + ("1" if value[i] != "1" else "2") + value[i + 1 :]
        )
        return _hex(n) | flip
    if isinstance(value, str) and len(value) > 40:  # base64: a signature or a certificate
        return st.tuples(st.integers(0, len(value) - 5), st.sampled_from(B64)).map(
            lambda t: value[: t[0]] + t[1] + value[t[0] + 1 :]
        )
    if isinstance(value, str):
        return st.sampled_from(WORDS)
    if isinstance(value, list) and value:
        return st.permutations(value) | st.lists(st.sampled_from(value), min_size=0, max_size=len(value) + 1)
    return json_values


@st.composite
def mutations(
    draw: st.DrawFn, original: dict[str, Any], others: list[dict[str, Any]]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """One field of `original` replaced by a plausible value, by the same field of another real bundle
    (mix and match), or by arbitrary JSON; or deleted, or something inserted."""
    path = draw(st.sampled_from(list(_paths(original))))
    how = draw(st.sampled_from(["plausible", "plausible", "swap", "arbitrary", "delete", "insert"]))
    if how == "swap":
        donor = draw(st.sampled_from(others))
        try:
            return path, _mutate(original, path, "replace", _get(donor, path))
        except (KeyError, IndexError):
            how = "arbitrary"
    if how in ("delete", "insert"):
        return path, _mutate(original, path, how, draw(json_values))
    value = draw(plausible(_get(original, path), path) if how == "plausible" else json_values)
    return path, _mutate(original, path, "replace", value)


@pytest.fixture(scope="module")
def scenario(anvil_url: str, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    chain = connect(ChainConfig(backend="rpc", rpc_url=anvil_url, mnemonic=MNEMONIC, confirmations=1))
    accounts = [dev_account(MNEMONIC, i) for i in range(4)]
    parties: list[tuple[str, str]] = [
        ("SG", accounts[1].address),
        ("TH", accounts[2].address),
        ("MY", accounts[3].address),
    ]
    manifest = deploy(chain, accounts[0], parties, threshold=2, proposal_lifetime=3600)
    world = World(chain, Registries.open(chain, manifest), *accounts)
    sc = build_scenario(world, tmp_path_factory.mktemp("fuzz"), n_docs=5)
    more = [json_doc(10), json_doc(11)]  # a second batch: another root, signature and anchor to swap in
    sc.bundles += sc.issue(more)
    sc.docs += more
    # A third batch, of permits for TH with every term set (valid from an hour before chain time).
    now = world.now()
    terms = Terms(
        destination="TH", valid_from=now - 3600, valid_until=now + 100 * 365 * 86400, quantity=40, unit="kg"
    )
    permits, bundles = sc.issue_permits(3, terms, first=20)
    sc.bundles += bundles
    sc.docs += permits
    return sc


@pytest.fixture(scope="module")
def verifier(scenario: Scenario) -> Verifier:
    return scenario.verifier()


# The mutated bundles: a phytosanitary certificate with open terms, and a permit with terms.
ORIGINALS = (2, 8)


def _original(scenario: Scenario, which: int = ORIGINALS[0]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(scenario.bundles[which].to_json())
    return data


def _others(scenario: Scenario, which: int = ORIGINALS[0]) -> list[dict[str, Any]]:
    """The other documents' bundles: those of the same batch, and those of the two others."""
    return [json.loads(b.to_json()) for i, b in enumerate(scenario.bundles) if i != which]


def _touched(original: dict[str, Any], mutated: dict[str, Any]) -> set[tuple[str, ...]]:
    """The (section, field) pairs whose values differ; ('',) for top-level changes."""
    touched: set[tuple[str, ...]] = set()
    for key in set(original) | set(mutated):
        a, b = original.get(key), mutated.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            touched |= {(key, f) for f in set(a) | set(b) if a.get(f) != b.get(f)}
        elif a != b:
            touched.add((key,))
    return touched


# TRUSTANCHOR_FUZZ_EXAMPLES=N explores with N fresh random inputs (see the profiles in conftest.py).
SETTINGS = settings(
    max_examples=int(os.environ.get("TRUSTANCHOR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=st.data())
def test_a_mutated_bundle_loads_or_fails_with_a_bundle_error(scenario: Scenario, data: st.DataObject) -> None:
    which = data.draw(st.sampled_from(ORIGINALS))
    original = _original(scenario, which)
    _path, mutated = data.draw(mutations(original, _others(scenario, which)))
    try:
        Bundle.from_json(json.dumps(mutated))
    except BundleError as e:
        assert "\n" not in str(e) and str(e)


@SETTINGS
@given(data=st.data())
def test_a_loadable_forgery_is_never_valid(
    scenario: Scenario, verifier: Verifier, data: st.DataObject
) -> None:
    which = data.draw(st.sampled_from(ORIGINALS))
    original = _original(scenario, which)
    path, mutated = data.draw(mutations(original, _others(scenario, which)))
    try:
        bundle = Bundle.from_json(json.dumps(mutated))
    except BundleError:
        return
    verdict = verifier.verify(scenario.docs[which], bundle, "TH")
    touched = _touched(original, mutated)
    if mutated["batch"]["certificates"][:1] == original["batch"]["certificates"][:1]:
        # The CA certificates only help build the path to the registered CA; any set that does is fine.
        touched.discard(("batch", "certificates"))
    if verdict.verdict is Decision.VALID:
        assert touched <= INFORMATIVE, (path, touched, [c.code for c in verdict.checks])


@pytest.mark.parametrize("which", ORIGINALS)
def test_the_unmutated_bundle_is_valid(scenario: Scenario, verifier: Verifier, which: int) -> None:
    # Without this the property above could pass on a verifier that never says VALID.
    bundle = Bundle.from_json(json.dumps(_original(scenario, which)))
    verdict = verifier.verify(scenario.docs[which], bundle, "TH")
    assert verdict.verdict is Decision.VALID
    codes = {c.name: c.code for c in verdict.checks}
    assert codes["terms"] == ("NO_TERMS" if which == ORIGINALS[0] else "TERMS_MET")


@pytest.mark.parametrize("which", ORIGINALS)
def test_mutations_reach_every_field(scenario: Scenario, which: int) -> None:
    original = _original(scenario, which)
    leaves = [p for p in _paths(original) if not isinstance(_get(original, p), (dict, list))]
    assert len(leaves) > 25  # signature, certificates, proof path entries, anchor fields, terms...
    assert {("terms", t) for t in ("destination", "validFrom", "validUntil", "quantity", "unit")} <= set(
        leaves
    )
    assert all(_touched(original, _mutate(original, p, "replace", "x")) for p in leaves)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def test_paths_cover_nested_lists(tmp_path: Path) -> None:
    assert list(_paths({"a": [1, {"b": 2}]})) == [(), ("a",), ("a", 0), ("a", 1), ("a", 1, "b")]


@SETTINGS
@given(data=st.data())
def test_the_services_cached_parser_agrees_with_the_library(scenario: Scenario, data: st.DataObject) -> None:
    # api/bundles.py reuses validated batch and anchor sections: it must accept exactly what
    # Bundle.from_json accepts, and read it the same.
    from api.bundles import BundleParser
    from api.problems import ApiError

    parser = BundleParser()
    for which in ORIGINALS:
        parser.parse(_original(scenario, which))  # warm the section cache with the genuine sections
    which = data.draw(st.sampled_from(ORIGINALS))
    _path, mutated = data.draw(mutations(_original(scenario, which), _others(scenario, which)))
    try:
        expected: Bundle | str = Bundle.from_json(json.dumps(mutated))
    except BundleError as e:
        expected = str(e)
    try:
        got: Bundle | str = parser.parse(mutated)
    except ApiError as e:
        got = e.detail
    assert got == expected


def _parse_both(obj: dict[str, Any]) -> tuple[Bundle | str, Bundle | str]:
    from api.bundles import BundleParser
    from api.problems import ApiError

    try:
        expected: Bundle | str = Bundle.from_json(json.dumps(obj))
    except BundleError as e:
        expected = str(e)
    parser = BundleParser()
    try:
        got: Bundle | str = parser.parse(obj)
        again: Bundle | str = parser.parse(obj)  # from the section cache
    except ApiError as e:
        got = again = e.detail
    assert got == again
    return expected, got


@pytest.mark.parametrize(
    "name",
    [
        "a" * 255,
        "{" * 255,  # the library counts braces in strings against its nesting limit (see api/bundles.py)
        "[" * 200 + "{" * 55,
        "{" * 40,
        "\ud800",  # a lone surrogate: Python's json lets it through, the library's parser refuses it
        "a\udfffb",
        "\ud83d\ude00",  # a pair as two code points: the library would read one character
        "\U0001f600",
        "é{[",
    ],
)
def test_the_services_cached_parser_agrees_on_names(scenario: Scenario, name: str) -> None:
    for which in ORIGINALS:
        obj = _original(scenario, which)
        obj["document"]["name"] = name
        expected, got = _parse_both(obj)
        assert got == expected


@pytest.mark.parametrize(
    "terms",
    [
        None,
        {},
        {"destination": None},
        {"destination": "TH", "validFrom": 1, "validUntil": 0},
        {"validFrom": 0},
        {"destination": ""},
        {"destination": " TH"},
        {"destination": "th"},
        {"quantity": 40, "unit": "kg", "extra": 1},
        {"unit": "kg"},
        {"quantity": 2**64},
        {"validFrom": 2, "validUntil": 1},
        {"quantity": True},
        {"quantity": 1.0},
    ],
)
def test_the_services_cached_parser_agrees_on_terms(scenario: Scenario, terms: Any) -> None:
    for which in ORIGINALS:
        obj = _original(scenario, which)
        if terms is None:
            del obj["terms"]
        else:
            obj["terms"] = terms if which == ORIGINALS[0] else {**obj["terms"], **terms}
        expected, got = _parse_both(obj)
        assert got == expected
