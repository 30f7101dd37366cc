"""The committed build artifacts are reproducible from the sources, and they are what runs on chain."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eth_utils import keccak

from anchor._internal.abi import ARTIFACTS
from anchor.deploy import verify_code
from anchor.errors import DeploymentError
from tests.conftest import World
from tests.registry_helpers import LIFETIME

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "anchor" / "contracts"
CONTRACTS = ("TrustRegistry", "DocumentRegistry")


def load_compile_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "trustanchor_compile_script", ROOT / "scripts" / "compile.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def artifact(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUILD / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="module")
def compiled() -> dict[str, bytes]:
    if not (ROOT / "node_modules" / "solc" / "solc.js").is_file():
        pytest.skip("node_modules/solc is missing (run `npm ci` to install the pinned solcjs 0.8.28)")
    artifacts: dict[str, bytes] = load_compile_script().compile_all()
    return artifacts


def test_recompiling_reproduces_the_committed_artifacts_byte_for_byte(compiled: dict[str, bytes]) -> None:
    assert sorted(compiled) == sorted(CONTRACTS)
    assert sorted(p.stem for p in BUILD.glob("*.json")) == sorted(CONTRACTS)
    for name, data in compiled.items():
        committed = (BUILD / f"{name}.json").read_bytes()
        assert committed == data, f"anchor/contracts/{name}.json is stale: run scripts/compile.py"


def test_artifacts_record_the_current_sources_and_pinned_compiler() -> None:
    # Needs no compiler: catches a source edit without a rebuild even where solc is not installed.
    sources = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((ROOT / "contracts").glob("*.sol"))
    }
    script = load_compile_script()
    for name in CONTRACTS:
        art = artifact(name)
        assert art["contractName"] == name
        assert art["sources"] == sources, f"{name}.json was built from other sources: run scripts/compile.py"
        assert art["compiler"] == {"name": "solc", "version": script.SOLC_VERSION}
        assert art["settings"]["evmVersion"] == "paris"
        assert art["settings"]["metadata"] == {"bytecodeHash": "none"}
        assert art["deployedBytecode"].startswith("0x") and len(art["deployedBytecode"]) > 2
    assert BUILD.resolve() == ARTIFACTS.resolve()  # the library loads exactly these files


ADMIN_DELAY = 172_800  # deploy()'s default admin delay, which the `world` fixture keeps


def masked(code: bytes, refs: dict[str, list[dict[str, int]]]) -> tuple[bytes, set[bytes]]:
    """Code with immutables zeroed, and the set of immutable values found."""
    buf = bytearray(code)
    values = set()
    for ranges in refs.values():
        for r in ranges:
            start, length = r["start"], r["length"]
            values.add(bytes(code[start : start + length]))
            buf[start : start + length] = b"\x00" * length
    return bytes(buf), values


def word(value: int | str) -> bytes:
    n = int(value, 16) if isinstance(value, str) else value
    return n.to_bytes(32, "big")


@pytest.mark.parity
def test_deployed_runtime_code_equals_the_artifacts(world: World) -> None:
    m = world.reg.manifest
    trust, docs = m.trust_registry.address, m.document_registry.address
    expected_immutables = {
        "TrustRegistry": (trust, {word(docs), word(LIFETIME), word(ADMIN_DELAY)}),
        "DocumentRegistry": (docs, {word(trust)}),
    }
    for name, (address, immutables) in expected_immutables.items():
        art = artifact(name)
        code = world.chain.code_at(address)
        assert len(code) == (len(art["deployedBytecode"]) - 2) // 2, name
        without, values = masked(code, art["immutableReferences"])
        assert without == bytes.fromhex(art["deployedBytecode"][2:]), name
        assert values == immutables, name  # each contract is bound to the other, immutably
        record = m.trust_registry if name == "TrustRegistry" else m.document_registry
        assert record.code_hash == "0x" + keccak(code).hex()
    verify_code(world.chain, m)  # the library's own check agrees


def test_verify_code_rejects_a_wrong_manifest(world: World) -> None:
    m = world.reg.manifest
    eoa = world.account(9).address
    wrong_address = replace(m, trust_registry=replace(m.trust_registry, address=eoa))
    with pytest.raises(DeploymentError, match="no contract code at TrustRegistry"):
        verify_code(world.chain, wrong_address)
    # Each record points at the other contract: the code hashes match the records, the artifacts do not.
    swapped = replace(m, trust_registry=m.document_registry, document_registry=m.trust_registry)
    with pytest.raises(
        DeploymentError, match=re.escape("code differs from anchor/contracts/TrustRegistry.json")
    ):
        verify_code(world.chain, swapped)
    wrong_hash = replace(m, document_registry=replace(m.document_registry, code_hash="0x" + "00" * 32))
    with pytest.raises(DeploymentError, match=r"DocumentRegistry at 0x[0-9a-fA-F]{40}: code hash differs"):
        verify_code(world.chain, wrong_hash)
    with pytest.raises(DeploymentError, match="chain id"):
        verify_code(world.chain, replace(m, chain_id=m.chain_id + 1))
    verify_code(world.chain, m)


def test_runtime_code_fits_eip170() -> None:
    # Chains enforce EIP-170: a larger contract does not deploy at all (anvil, Besu, GoQuorum alike).
    for name in CONTRACTS:
        size = (len(artifact(name)["deployedBytecode"]) - 2) // 2
        assert size <= 24_576, f"{name} runtime is {size} bytes, above EIP-170's 24,576"
