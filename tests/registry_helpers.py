"""Shared setup and assertion helpers for the registry contract tests (both backends, via `world`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from anchor.cacert import CACertificate, ca_id, pop_message, sign_pop
from anchor.chain import Chain, Receipt
from anchor.deploy import party_id
from anchor.doctypes import DOCUMENT_TYPES
from anchor.errors import ContractRevert
from anchor.issuing.leaf import NO_TERMS, Terms, commitment, leaf_hash
from anchor.issuing.merkle import MerkleTree
from anchor.pki import CaKey, make_issuing_ca, make_root_ca
from anchor.registry import ZERO_ADDRESS, DocumentProof, Opening, ProposalKind
from tests.conftest import World

PERMIT = DOCUMENT_TYPES["cites-permit"]
CERTIFICATE = DOCUMENT_TYPES["cites-certificate"]
PHYTO = DOCUMENT_TYPES["phytosanitary-certificate"]
ORIGIN = DOCUMENT_TYPES["certificate-of-origin"]
VET = DOCUMENT_TYPES["veterinary-certificate"]

NOT_BEFORE = 1_600_000_000
NOT_AFTER = 2_600_000_000
LIFETIME = 3600  # proposal lifetime of the `world` fixture
ADMIN_DELAY = 172_800  # admin delay of the `world` fixture (the deploy default)
ZERO32 = b"\x00" * 32
ZERO8 = b"\x00" * 8
# Certificates are minted at a fixed time: nothing here depends on the wall clock.
CERT_VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


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


def funded(world: World, index: int) -> LocalAccount:
    """Dev account `index` with ether to send transactions (both backends fund only accounts 0-9).

    Paid by the deployer with a plain transfer, which any network accepts (no anvil_setBalance), so the
    tests that use it run against a real network too.
    """
    account = world.account(index)
    if index >= 10:
        if world.chain.backend == "embedded":
            tester = world.chain.tester  # type: ignore[attr-defined]
            funder = tester.get_accounts()[0]
            tester.send_transaction({"from": funder, "to": account.address, "value": 10**20, "gas": 21000})
        elif world.chain.w3.eth.get_balance(account.address) < 10**18:
            transfer(world.chain, world.deployer, account.address, 10**19)
    return account


def transfer(chain: Chain, sender: LocalAccount, to: str, value: int) -> None:
    w3 = chain.w3
    tx: dict[str, Any] = {
        "to": to,
        "value": value,
        "gas": 21000,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": chain.chain_id,
        **chain.fee_fields(),
    }
    tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    chain.wait(tx_hash.to_0x_hex())


# ------------------------------------------------------------------ certificates


def fake_certificate() -> bytes:
    """Distinct certificate bytes for tests that do not check proofs of possession."""
    return b"test certificate " + os.urandom(16)


def cert_hash(certificate: bytes) -> bytes:
    return hashlib.sha256(certificate).digest()


def cert_id(party: str, certificate: bytes) -> bytes:
    """The CA id `party` gets for registering `certificate`."""
    return ca_id(party, cert_hash(certificate))


@dataclass(frozen=True)
class TestCA:
    """A real CA certificate with its key (for proofs of possession and batch signatures)."""

    __test__ = False

    certificate: x509.Certificate
    key: CaKey

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)

    @property
    def info(self) -> CACertificate:
        return CACertificate(
            fingerprint=cert_hash(self.der),
            not_before=int(self.certificate.not_valid_before_utc.timestamp()),
            not_after=int(self.certificate.not_valid_after_utc.timestamp()),
            subject=self.certificate.subject.rfc4514_string(),
            certificate=self.certificate,
        )

    def pop(self, world: World, party: str) -> bytes:
        """This CA key's proof that `party` holds it, for the world's trust registry."""
        message = pop_message(world.chain.chain_id, world.reg.trust.address, party, cert_hash(self.der))
        return sign_pop(self.key, self.info, message)


def make_cas(party: str) -> tuple[TestCA, TestCA]:
    """A party's root CA and issuing CA (EC P-256), minted at a fixed time."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    root = make_root_ca(party, root_key, valid_from=CERT_VALID_FROM)
    issuing = make_issuing_ca(party, issuing_key, root, root_key, valid_from=CERT_VALID_FROM)
    return TestCA(root, root_key), TestCA(issuing, issuing_key)


# ------------------------------------------------------------------ trust registry setup


def party_of(world: World, admin: LocalAccount) -> str:
    return world.reg.trust.admin_party(admin.address)


def add_ca(
    world: World,
    admin: LocalAccount,
    doc_types: int = bit(PERMIT, CERTIFICATE, PHYTO),
    certificate: bytes = b"",
) -> bytes:
    """Register a CA (fresh test bytes unless `certificate` is given) for the admin's party; its CA id."""
    cert = certificate or fake_certificate()
    world.reg.trust.add_ca(admin, cert, NOT_BEFORE, NOT_AFTER, doc_types)
    return cert_id(party_of(world, admin), cert)


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
    account = funded(world, index)
    r = world.reg.trust.authorize_issuer(admin, account.address, fp, doc_types)
    return IssuerSetup(account, fp, party_of(world, admin), admin, r)


def add_consumer(world: World, admin: LocalAccount, index: int) -> LocalAccount:
    """Grant dev account `index` the consumer role of the admin's party (a border service's key)."""
    account = funded(world, index)
    world.reg.trust.grant_consumer(admin, account.address)
    return account


def pass_proposal(
    world: World,
    approvers: list[LocalAccount],
    kind: ProposalKind,
    party: str = "",
    admin: str = ZERO_ADDRESS,
    threshold: int = 0,
    doc_types: int = 0,
) -> tuple[int, Receipt]:
    """First approver proposes, the others approve, the first executes; returns (id, execute receipt)."""
    proposer, *others = approvers
    pid, _ = world.reg.trust.propose(proposer, kind, party, admin, threshold, doc_types)
    for a in others:
        world.reg.trust.approve(a, pid)
    return pid, world.reg.trust.execute(proposer, pid)


def change_admins(world: World, admins: list[LocalAccount], account: str, add: bool) -> tuple[int, Receipt]:
    """First admin proposes adding/removing `account`, the others approve, the first executes at once."""
    proposer, *others = admins
    cid, _ = world.reg.trust.propose_admin_change(proposer, account, add)
    for a in others:
        world.reg.trust.approve_admin_change(a, cid)
    return cid, world.reg.trust.execute_admin_change(proposer, cid)


# ------------------------------------------------------------------ documents and batches


@dataclass(frozen=True)
class Doc:
    """One document as its issuer knows it: the leaf's secret part (salt, digest) and its terms."""

    doc_type: int
    salt: bytes
    digest: bytes
    terms: Terms = NO_TERMS

    @property
    def leaf(self) -> bytes:
        return leaf_hash(self.doc_type, self.salt, self.digest, self.terms)

    @property
    def opening(self) -> Opening:
        return Opening(commitment(self.salt, self.digest), self.terms)


def make_docs(n: int, doc_type: int = PERMIT, terms: Terms | Sequence[Terms] = NO_TERMS) -> list[Doc]:
    """`n` fresh documents of `doc_type`, all with the same `terms` or one Terms each."""
    each = [terms] * n if isinstance(terms, Terms) else list(terms)
    assert len(each) == n
    return [Doc(doc_type, os.urandom(16), os.urandom(32), t) for t in each]


@dataclass(frozen=True)
class AnchoredBatch:
    tree: MerkleTree
    issuer: LocalAccount
    doc_type: int
    receipt: Receipt
    anchored_at: int
    docs: tuple[Doc, ...]

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def size(self) -> int:
        return self.tree.size

    def leaf(self, index: int) -> bytes:
        return self.tree.leaf(index)

    def proof(self, index: int) -> DocumentProof:
        return DocumentProof(
            self.issuer.address, self.root, self.leaf(index), index, tuple(self.tree.inclusion_proof(index))
        )

    def opening(self, index: int) -> Opening:
        return self.docs[index].opening


def random_tree(n: int) -> MerkleTree:
    return MerkleTree([rand32() for _ in range(n)])


def anchor_docs(world: World, issuer: LocalAccount | IssuerSetup, docs: Sequence[Doc]) -> AnchoredBatch:
    """Anchor the batch of `docs` (one type) from `issuer`."""
    account = issuer.account if isinstance(issuer, IssuerSetup) else issuer
    doc_type = docs[0].doc_type
    tree = MerkleTree([d.leaf for d in docs])
    r = world.reg.documents.anchor(account, tree.root, doc_type, tree.size)
    return AnchoredBatch(tree, account, doc_type, r, tx_time(world, r), tuple(docs))


def anchor_batch(
    world: World,
    issuer: LocalAccount | IssuerSetup,
    n: int = 4,
    doc_type: int = PERMIT,
    terms: Terms | Sequence[Terms] = NO_TERMS,
) -> AnchoredBatch:
    """Anchor a batch of `n` real v2 leaves; proofs from `.proof(i)`, openings from `.opening(i)`."""
    return anchor_docs(world, issuer, make_docs(n, doc_type, terms))


def doc_state_at(world: World, proof: DocumentProof, time: int) -> tuple[bool, bool, bool]:
    """(revoked, superseded, consumed) of a document at `time`."""
    revoked, superseded, consumed = call(
        world.reg.documents, "documentStateAt", proof.issuer, proof.root, proof.leaf, time
    )
    return bool(revoked), bool(superseded), bool(consumed)
