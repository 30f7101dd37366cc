"""Deploy both registries and keep a manifest a second process (or an auditor) can find and verify."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from ._internal.abi import ARTIFACTS, ContractABI
from .chain import Chain
from .config import DeployConfig
from .doctypes import mask_of
from .errors import ConfigError, DeploymentError

MANIFEST_VERSION = 2
# Version 1 manifests name registries without roles, terms or issuer-keyed batches (issue 9/10): the
# library refuses them rather than mixing versions.
_V1_ADVICE = (
    "it names registries v1, which this version of Trust Anchor no longer speaks to (v2 adds roles, "
    "document terms and issuer-bound batches): deploy v2 with `trustanchor deploy --force`, re-register "
    "CAs, issuers and recognitions, and re-issue documents; keep the v1 manifest for audits with the "
    "earlier release"
)


def create_address(sender: str, nonce: int) -> str:
    """Address of the contract created by `sender` with transaction `nonce` (CREATE)."""
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def party_id(code: str) -> bytes:
    """Party code ('SG') as the bytes8 stored on chain (left-aligned, zero-padded)."""
    raw = code.strip().upper().encode()
    if not raw or len(raw) > 8 or not raw.isalnum():
        raise ConfigError(f"party id {code!r} must be 1-8 ASCII letters or digits")
    return raw.ljust(8, b"\x00")


def party_code(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode(errors="replace")


@dataclass(frozen=True)
class ContractRecord:
    address: str
    tx_hash: str
    block: int
    code_hash: str


@dataclass(frozen=True)
class Manifest:
    chain_id: int
    network: str
    deploy_block: int
    deployer: str
    trust_registry: ContractRecord
    document_registry: ContractRecord
    compiler: dict[str, Any]
    founding: dict[str, Any]
    deployed_at: int

    def to_json(self) -> str:
        def rec(r: ContractRecord) -> dict[str, Any]:
            return {
                "address": r.address,
                "txHash": r.tx_hash,
                "block": r.block,
                "runtimeCodeHash": r.code_hash,
            }

        return (
            json.dumps(
                {
                    "manifestVersion": MANIFEST_VERSION,
                    "chainId": self.chain_id,
                    "network": self.network,
                    "deployBlock": self.deploy_block,
                    "deployer": self.deployer,
                    "deployedAt": self.deployed_at,
                    "contracts": {
                        "TrustRegistry": rec(self.trust_registry),
                        "DocumentRegistry": rec(self.document_registry),
                    },
                    "compiler": self.compiler,
                    "founding": self.founding,
                },
                indent=2,
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, text: str, *, source: str = "manifest") -> Manifest:
        try:
            d = json.loads(text)
            if d.get("manifestVersion") == 1:
                raise ConfigError(f"{source}: {_V1_ADVICE}")
            if d.get("manifestVersion") != MANIFEST_VERSION:
                raise ConfigError(f"{source}: unsupported manifest version {d.get('manifestVersion')!r}")

            def rec(x: dict[str, Any]) -> ContractRecord:
                return ContractRecord(
                    to_checksum_address(x["address"]), x["txHash"], int(x["block"]), x["runtimeCodeHash"]
                )

            return cls(
                chain_id=int(d["chainId"]),
                network=str(d["network"]),
                deploy_block=int(d["deployBlock"]),
                deployer=to_checksum_address(d["deployer"]),
                trust_registry=rec(d["contracts"]["TrustRegistry"]),
                document_registry=rec(d["contracts"]["DocumentRegistry"]),
                compiler=d["compiler"],
                founding=d["founding"],
                deployed_at=int(d["deployedAt"]),
            )
        except json.JSONDecodeError as e:
            raise ConfigError(f"{source}: not valid JSON at line {e.lineno} column {e.colno}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"{source}: malformed manifest ({type(e).__name__}: {e})") from None

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            return cls.from_json(path.read_text(), source=str(path))
        except FileNotFoundError:
            raise ConfigError(f"no deployment manifest at {path}: run `trustanchor deploy` first") from None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)


def _masked(code: bytes, refs: dict[str, list[dict[str, int]]]) -> bytes:
    buf = bytearray(code)
    for ranges in refs.values():
        for r in ranges:
            buf[r["start"] : r["start"] + r["length"]] = b"\x00" * r["length"]
    return bytes(buf)


def _artifact(name: str) -> dict[str, Any]:
    art: dict[str, Any] = json.loads((ARTIFACTS / f"{name}.json").read_text())
    return art


def verify_code(chain: Chain, manifest: Manifest) -> None:
    """Raise DeploymentError unless both addresses hold exactly the committed artifacts' code."""
    if chain.chain_id != manifest.chain_id:
        raise DeploymentError(f"manifest is for chain id {manifest.chain_id}, connected to {chain.chain_id}")
    for name, rec in (
        ("TrustRegistry", manifest.trust_registry),
        ("DocumentRegistry", manifest.document_registry),
    ):
        code = chain.code_at(rec.address)
        if not code:
            raise DeploymentError(f"no contract code at {name} address {rec.address} (chain reset?)")
        if "0x" + keccak(code).hex() != rec.code_hash:
            raise DeploymentError(f"{name} at {rec.address}: code hash differs from the manifest")
        art = _artifact(name)
        expected = bytes.fromhex(art["deployedBytecode"][2:])
        if _masked(code, art["immutableReferences"]) != expected:
            raise DeploymentError(f"{name} at {rec.address}: code differs from anchor/contracts/{name}.json")


def deploy(
    chain: Chain,
    deployer: LocalAccount,
    parties: list[tuple[str, str]],
    threshold: int,
    proposal_lifetime: int,
    *,
    admin_delay: int = 172800,
    one_time_types: int = 1,
    network: str = "local",
) -> Manifest:
    """Deploy DocumentRegistry then TrustRegistry, each bound immutably to the other's address."""
    if not 1 <= threshold <= len(parties):
        raise ConfigError(f"threshold {threshold} must be between 1 and the {len(parties)} founding parties")
    trust_abi, doc_abi = chain.abis
    nonce = chain.nonce(deployer.address)
    trust_address = create_address(deployer.address, nonce + 1)
    doc_receipt = chain.transact(deployer, None, doc_abi.encode_constructor(trust_address))
    doc_address = to_checksum_address(doc_receipt.contract_address or "")
    ids = [party_id(p) for p, _ in parties]
    admins = [to_checksum_address(a) for _, a in parties]
    trust_receipt = chain.transact(
        deployer,
        None,
        trust_abi.encode_constructor(
            ids, admins, threshold, proposal_lifetime, admin_delay, one_time_types, doc_address
        ),
    )
    if to_checksum_address(trust_receipt.contract_address or "") != trust_address:
        raise DeploymentError(
            f"TrustRegistry landed at {trust_receipt.contract_address}, expected {trust_address}: "
            "another transaction from the deployer account interleaved; deploy again"
        )

    def rec(r: Any, address: str) -> ContractRecord:
        return ContractRecord(address, r.tx_hash, r.block_number, "0x" + keccak(chain.code_at(address)).hex())

    art = _artifact("TrustRegistry")
    manifest = Manifest(
        chain_id=chain.chain_id,
        network=network,
        deploy_block=doc_receipt.block_number,
        deployer=deployer.address,
        trust_registry=rec(trust_receipt, trust_address),
        document_registry=rec(doc_receipt, doc_address),
        compiler={**art["compiler"], "settings": art["settings"]},
        founding={
            "parties": [{"id": p, "admin": a} for p, a in zip([p for p, _ in parties], admins, strict=True)],
            "threshold": threshold,
            "proposalLifetimeSeconds": proposal_lifetime,
            "adminDelaySeconds": admin_delay,
            "oneTimeTypes": one_time_types,
        },
        deployed_at=int(time.time()),
    )
    verify_code(chain, manifest)
    return manifest


def deploy_configured(
    chain: Chain, deployer: LocalAccount, parties: list[tuple[str, str]], dep: DeployConfig, network: str
) -> Manifest:
    """``deploy`` with the founding settings of a config's [deploy] section (CLI and demo alike)."""
    return deploy(
        chain,
        deployer,
        parties,
        dep.threshold,
        dep.proposal_lifetime_seconds,
        admin_delay=dep.admin_delay_seconds,
        one_time_types=mask_of(dep.one_time_types),
        network=network,
    )


__all__ = [
    "ContractABI",
    "Manifest",
    "create_address",
    "deploy",
    "deploy_configured",
    "party_code",
    "party_id",
    "verify_code",
]
