"""Shared setup and assertion helpers for the registry contract tests (both backends, via `world`)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from anchor.chain import Receipt
from anchor.deploy import party_id
from anchor.doctypes import DOCUMENT_TYPES
from anchor.errors import ContractRevert
from anchor.merkle import MerkleTree
from anchor.registry import ZERO_ADDRESS, DocumentProof, ProposalKind
from tests.conftest import World

PERMIT = DOCUMENT_TYPES["cites-permit"]
CERTIFICATE = DOCUMENT_TYPES["cites-certificate"]
PHYTO = DOCUMENT_TYPES["phytosanitary-certificate"]
ORIGIN = DOCUMENT_TYPES["certificate-of-origin"]

NOT_BEFORE = 1_600_000_000
NOT_AFTER = 2_600_000_000
LIFETIME = 3600  # proposal lifetime of the `world` fixture
ZERO32 = b"\x00" * 32
ZERO8 = b"\x00" * 8


def bit(*types: int) -> int:
    """uint64 mask of document type ids."""
    mask = 0
    for t in types:
        mask |= 1 << t
    return mask


def rand32() -> bytes:
    """A random nonzero 32-byte value (root, leaf or fingerprint)."""
    while True:
        value = os.urandom(32)
        if any(value):
            return value


# ------------------------------------------------------------------ reverts and events


def _norm(value: Any) -> Any:
    """Compare decoded revert arguments with friendly expectations: accounts, party codes, enums."""
    if isinstance(value, LocalAccount):
        return value.address.lower()
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else party_id(value)
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


@contextmanager
def reverts(
    error: str, expected: Mapping[str, Any] | None = None, /, *, _what: str = "", **args: Any
) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """Expect a ContractRevert named `error` whose decoded arguments include `args` (or `expected`).

    Accounts may be given as LocalAccount or address, parties as codes ("SG"), enums as IntEnum.
    `_what` names the operation in failure messages when one test checks many operations.
    """
    want = {**(expected or {}), **args}
    where = f" [{_what}]" if _what else ""
    with pytest.raises(ContractRevert) as info:
        yield info
    err = info.value
    assert err.error == error, f"expected {error}{where}, got {err}"
    for key, value in want.items():
        assert key in err.args_, f"{error}{where} has no argument {key!r}: {err}"
        assert _norm(err.args_[key]) == _norm(value), f"{error}.{key}{where}: expected {value!r}, got {err}"


def checksummed(value: Any) -> Any:
    """Decoded ABI values with every address checksummed (views and events decode them lowercase)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, dict):
        return {k: checksummed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [checksummed(v) for v in value]
    return value


def events(world: World, receipt: Receipt, name: str) -> list[dict[str, Any]]:
    """Decoded events named `name` emitted in `receipt` by the registry that declares them."""
    for abi, address in zip(
        world.chain.abis, (world.reg.trust.address, world.reg.documents.address), strict=True
    ):
        try:
            ev = abi.event(name)
        except KeyError:
            continue
        return [
            checksummed(ev.decode([bytes(t) for t in log["topics"]], bytes(log["data"])))
            for log in receipt.logs
            if log["address"].lower() == address.lower()
            and log["topics"]
            and bytes(log["topics"][0]) == ev.topic
        ]
    raise KeyError(f"no registry declares event {name}")


def event(world: World, receipt: Receipt, name: str) -> dict[str, Any]:
    """The single `name` event of `receipt`."""
    found = events(world, receipt, name)
    assert len(found) == 1, f"expected one {name} event, got {found}"
    return found[0]


def tx_time(world: World, receipt: Receipt) -> int:
    """block.timestamp the transaction executed at."""
    return int(world.chain.block(receipt.block_number)["timestamp"])


def call(client: Any, fn: str, *args: Any) -> Any:
    """Raw view call for functions the typed clients do not wrap."""
    return client._call(fn, *args)


def send(world: World, account: LocalAccount, client: Any, fn: str, *args: Any) -> Receipt:
    """Raw transaction for functions the typed clients do not wrap."""
    return world.chain.transact(account, client.address, client.abi.fn(fn).encode(*args))


# ------------------------------------------------------------------ trust registry setup


def party_of(world: World, admin: LocalAccount) -> str:
    return world.reg.trust.admin_party(admin.address)


def add_ca(
    world: World,
    admin: LocalAccount,
    doc_types: int = bit(PERMIT, CERTIFICATE, PHYTO),
    fingerprint: bytes = b"",
) -> bytes:
    """Register a fresh CA for the admin's party; returns its fingerprint."""
    fp = fingerprint or rand32()
    world.reg.trust.add_ca(admin, fp, NOT_BEFORE, NOT_AFTER, doc_types)
    return fp


@dataclass(frozen=True)
class IssuerSetup:
    account: LocalAccount
    ca: bytes
    party: str
    admin: LocalAccount
    receipt: Receipt

    @property
    def address(self) -> str:
        return self.account.address


def add_issuer(
    world: World,
    admin: LocalAccount,
    index: int,
    doc_types: int = bit(PERMIT),
    ca: bytes = b"",
) -> IssuerSetup:
    """Authorize dev account `index` (>= 4) as an issuer of the admin's party, registering a CA if none given."""
    fp = ca or add_ca(world, admin)
    account = world.account(index)
    r = world.reg.trust.authorize_issuer(admin, account.address, fp, doc_types)
    return IssuerSetup(account, fp, party_of(world, admin), admin, r)


def pass_proposal(
    world: World,
    approvers: list[LocalAccount],
    kind: ProposalKind,
    party: str = "",
    admin: str = ZERO_ADDRESS,
    threshold: int = 0,
) -> tuple[int, Receipt]:
    """First approver proposes, the others approve, the first executes; returns (id, execute receipt)."""
    proposer, *others = approvers
    pid, _ = world.reg.trust.propose(proposer, kind, party, admin, threshold)
    for a in others:
        world.reg.trust.approve(a, pid)
    return pid, world.reg.trust.execute(proposer, pid)


# ------------------------------------------------------------------ document registry setup


@dataclass(frozen=True)
class AnchoredBatch:
    tree: MerkleTree
    issuer: LocalAccount
    doc_type: int
    receipt: Receipt
    anchored_at: int

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def size(self) -> int:
        return self.tree.size

    def leaf(self, index: int) -> bytes:
        return self.tree.leaf(index)

    def proof(self, index: int) -> DocumentProof:
        return DocumentProof(self.root, self.leaf(index), index, tuple(self.tree.inclusion_proof(index)))


def random_tree(n: int) -> MerkleTree:
    return MerkleTree([rand32() for _ in range(n)])


def anchor_batch(
    world: World, issuer: LocalAccount | IssuerSetup, n: int = 4, doc_type: int = PERMIT
) -> AnchoredBatch:
    """Anchor a batch of `n` random leaves; its proofs come from `.proof(i)`."""
    account = issuer.account if isinstance(issuer, IssuerSetup) else issuer
    tree = random_tree(n)
    r = world.reg.documents.anchor(account, tree.root, doc_type, n)
    return AnchoredBatch(tree, account, doc_type, r, tx_time(world, r))


def doc_state_at(world: World, proof: DocumentProof, time: int) -> tuple[bool, bool, bool]:
    """(revoked, superseded, consumed) of a document at `time`."""
    revoked, superseded, consumed = call(world.reg.documents, "documentStateAt", proof.root, proof.leaf, time)
    return bool(revoked), bool(superseded), bool(consumed)
