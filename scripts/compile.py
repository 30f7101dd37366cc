#!/usr/bin/env python3
"""Compile the registries with the pinned solc and write anchor/contracts/<Contract>.json.

The artifacts are committed and ship inside the package (package data), so that nobody needs a compiler
at run time; `--check` recompiles and fails if the committed artifacts differ by a single byte (auditors
compare them with the code on chain).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
# The one copy: the library reads it from its own package, so an installed wheel carries it.
BUILD = ROOT / "anchor" / "contracts"
SOLC = ROOT / "scripts" / "solc"
SOLC_VERSION = "0.8.28"
# Paris: no PUSH0 (Shanghai) nor Cancun opcodes, which permissioned EVMs (GoQuorum, older Besu) lack.
EVM_VERSION = "paris"
# Per contract: the DocumentRegistry is the hot path (anchoring), tuned for gas at 10,000 runs; the
# TrustRegistry is called rarely and, with roles, admin changes and proofs of possession, would exceed
# EIP-170's 24,576-byte code limit that way (28,829 bytes): the IR pipeline at 200 runs makes it 21,359.
TARGETS: dict[str, tuple[int, bool]] = {"TrustRegistry": (200, True), "DocumentRegistry": (10_000, False)}


def settings(name: str) -> dict[str, object]:
    runs, via_ir = TARGETS[name]
    return {
        "optimizer": {"enabled": True, "runs": runs},
        "viaIR": via_ir,
        "evmVersion": EVM_VERSION,
        "metadata": {"bytecodeHash": "none"},
        "outputSelection": {
            f"{name}.sol": {
                name: [
                    "abi",
                    "evm.bytecode.object",
                    "evm.deployedBytecode.object",
                    "evm.deployedBytecode.immutableReferences",
                ]
            }
        },
    }


def sources() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(CONTRACTS.glob("*.sol"))}


def compile_all() -> dict[str, bytes]:
    import solcx

    srcs = sources()
    source_hashes = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in srcs.items()}
    artifacts: dict[str, bytes] = {}
    for name in TARGETS:
        standard = {
            "language": "Solidity",
            "sources": {n: {"content": text} for n, text in srcs.items()},
            "settings": settings(name),
        }
        out = solcx.compile_standard(standard, solc_binary=str(SOLC), base_path=str(CONTRACTS))
        errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
        if errors:
            raise SystemExit("\n".join(e.get("formattedMessage", str(e)) for e in errors))
        c = out["contracts"][f"{name}.sol"][name]
        artifact = {
            "contractName": name,
            "abi": c["abi"],
            "bytecode": "0x" + c["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + c["evm"]["deployedBytecode"]["object"],
            # Byte ranges the constructor fills in: masked when comparing with code on chain.
            "immutableReferences": c["evm"]["deployedBytecode"].get("immutableReferences", {}),
            "compiler": {"name": "solc", "version": SOLC_VERSION},
            "settings": {k: v for k, v in settings(name).items() if k != "outputSelection"},
            "sources": source_hashes,
        }
        artifacts[name] = (json.dumps(artifact, indent=2, sort_keys=True) + "\n").encode()
    return artifacts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed artifacts differ")
    args = parser.parse_args()
    artifacts = compile_all()
    if args.check:
        stale = [n for n, data in artifacts.items() if (BUILD / f"{n}.json").read_bytes() != data]
        if stale:
            print(f"stale artifacts: {', '.join(stale)} (run scripts/compile.py)", file=sys.stderr)
            return 1
        print("artifacts up to date")
        return 0
    BUILD.mkdir(parents=True, exist_ok=True)
    for name, data in artifacts.items():
        (BUILD / f"{name}.json").write_bytes(data)
        size = (len(json.loads(data)["deployedBytecode"]) - 2) // 2
        print(f"{name}: {size} bytes runtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
