"""Typed clients for the two registries: every write is one signed transaction; reads are raw eth_calls."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ._internal.abi import ContractABI
from .bundle import Bundle
from .chain import Chain, Receipt
from .deploy import Manifest, party_code, party_id
from .errors import ConfigError


class Status(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class ProposalKind(IntEnum):
    ADD_PARTY = 0
    REMOVE_PARTY = 1
    SET_THRESHOLD = 2


ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class StatusChange:
    status: Status
    effective_at: int
    recorded_at: int
    reason: int


@dataclass(frozen=True)
class CertificateAuthority:
    fingerprint: bytes
    party: str
    not_before: int
    not_after: int
    doc_types: int
    status: Status
    registered_at: int
    revoked_at: int


@dataclass(frozen=True)
class Issuer:
    account: str
    party: str
    ca: bytes
    doc_types: int
    status: Status
    authorized_at: int
    revoked_at: int


@dataclass(frozen=True)
class Proposal:
    id: int
    kind: ProposalKind
    party: str
    account: str
    threshold: int
    proposer: str
    created_at: int
    expires_at: int
    executed: bool
    approvals: int


class _Client:
    abi_index: int

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.abi: ContractABI = chain.abis[self.abi_index]

    def _call(self, fn: str, *args: Any, block: int | str = "latest") -> Any:
        f = self.abi.fn(fn)
        return f.decode(self.chain.call(self.address, f.encode(*args), block))

    def _send(self, account: LocalAccount, fn: str, *args: Any) -> Receipt:
        return self.chain.transact(account, self.address, self.abi.fn(fn).encode(*args))


class TrustRegistryClient(_Client):
    abi_index = 0

    # ---- governance
    def propose(
        self,
        account: LocalAccount,
        kind: ProposalKind,
        party: str = "",
        admin: str = ZERO_ADDRESS,
        threshold: int = 0,
    ) -> tuple[int, Receipt]:
        pid = party_id(party) if party else b"\x00" * 8
        r = self._send(account, "propose", int(kind), pid, to_checksum_address(admin), threshold)
        created = self.abi.event("ProposalCreated")
        for log in r.logs:
            if bytes(log["topics"][0]) == created.topic:
                return int.from_bytes(bytes(log["topics"][1]), "big"), r
        raise AssertionError("ProposalCreated event missing from receipt")

    def approve(self, account: LocalAccount, proposal_id: int) -> Receipt:
        return self._send(account, "approve", proposal_id)

    def execute(self, account: LocalAccount, proposal_id: int) -> Receipt:
        return self._send(account, "execute", proposal_id)

    def add_admin(self, account: LocalAccount, admin: str) -> Receipt:
        return self._send(account, "addAdmin", to_checksum_address(admin))

    def remove_admin(self, account: LocalAccount, admin: str) -> Receipt:
        return self._send(account, "removeAdmin", to_checksum_address(admin))

    # ---- CAs
    def add_ca(
        self, account: LocalAccount, fingerprint: bytes, not_before: int, not_after: int, doc_types: int
    ) -> Receipt:
        return self._send(account, "addCA", fingerprint, not_before, not_after, doc_types)

    def suspend_ca(
        self, account: LocalAccount, fingerprint: bytes, effective_at: int = 0, reason: int = 0
    ) -> Receipt:
        return self._send(account, "suspendCA", fingerprint, effective_at, reason)

    def resume_ca(self, account: LocalAccount, fingerprint: bytes, effective_at: int = 0) -> Receipt:
        return self._send(account, "resumeCA", fingerprint, effective_at)

    def revoke_ca(
        self, account: LocalAccount, fingerprint: bytes, effective_at: int = 0, reason: int = 0
    ) -> Receipt:
        return self._send(account, "revokeCA", fingerprint, effective_at, reason)

    # ---- issuers
    def authorize_issuer(self, account: LocalAccount, issuer: str, ca: bytes, doc_types: int) -> Receipt:
        return self._send(account, "authorizeIssuer", to_checksum_address(issuer), ca, doc_types)

    def suspend_issuer(
        self, account: LocalAccount, issuer: str, effective_at: int = 0, reason: int = 0
    ) -> Receipt:
        return self._send(account, "suspendIssuer", to_checksum_address(issuer), effective_at, reason)

    def resume_issuer(self, account: LocalAccount, issuer: str, effective_at: int = 0) -> Receipt:
        return self._send(account, "resumeIssuer", to_checksum_address(issuer), effective_at)

    def revoke_issuer(
        self, account: LocalAccount, issuer: str, effective_at: int = 0, reason: int = 0
    ) -> Receipt:
        return self._send(account, "revokeIssuer", to_checksum_address(issuer), effective_at, reason)

    # ---- recognition
    def recognize(self, account: LocalAccount, party: str, doc_types: int, effective_at: int = 0) -> Receipt:
        return self._send(account, "recognize", party_id(party), doc_types, effective_at)

    def unrecognize(
        self, account: LocalAccount, party: str, doc_types: int, effective_at: int = 0
    ) -> Receipt:
        return self._send(account, "unrecognize", party_id(party), doc_types, effective_at)

    # ---- reads
    def parties(self, block: int | str = "latest") -> list[str]:
        return [party_code(p) for p in self._call("parties", block=block)]

    def is_member(self, party: str, block: int | str = "latest") -> bool:
        return bool(self._call("isMember", party_id(party), block=block))

    def is_member_at(self, party: str, time: int, block: int | str = "latest") -> bool:
        return bool(self._call("isMemberAt", party_id(party), time, block=block))

    def threshold(self, block: int | str = "latest") -> int:
        return int(self._call("threshold", block=block))

    def admins(self, party: str, block: int | str = "latest") -> list[str]:
        return [to_checksum_address(a) for a in self._call("admins", party_id(party), block=block)]

    def admin_party(self, account: str, block: int | str = "latest") -> str:
        return party_code(self._call("adminParty", to_checksum_address(account), block=block))

    def proposal_count(self, block: int | str = "latest") -> int:
        return int(self._call("proposalCount", block=block))

    def proposal(self, proposal_id: int, block: int | str = "latest") -> Proposal:
        p = self._call("proposal", proposal_id, block=block)
        return Proposal(
            proposal_id,
            ProposalKind(p["kind"]),
            party_code(p["party"]),
            to_checksum_address(p["account"]),
            p["threshold"],
            party_code(p["proposer"]),
            p["createdAt"],
            p["expiresAt"],
            p["executed"],
            p["approvals"],
        )

    def ca(self, fingerprint: bytes, block: int | str = "latest") -> CertificateAuthority:
        c = self._call("ca", fingerprint, block=block)
        return CertificateAuthority(
            fingerprint,
            party_code(c["party"]),
            c["notBefore"],
            c["notAfter"],
            c["docTypes"],
            Status(c["status"]),
            c["registeredAt"],
            c["revokedAt"],
        )

    def ca_history(self, fingerprint: bytes, block: int | str = "latest") -> list[StatusChange]:
        return [_change(c) for c in self._call("caHistory", fingerprint, block=block)]

    def ca_status_at(self, fingerprint: bytes, time: int, block: int | str = "latest") -> Status:
        return Status(self._call("caStatusAt", fingerprint, time, block=block))

    def party_cas(self, party: str, block: int | str = "latest") -> list[bytes]:
        return list(self._call("partyCAs", party_id(party), block=block))

    def issuer(self, account: str, block: int | str = "latest") -> Issuer:
        i = self._call("issuer", to_checksum_address(account), block=block)
        return Issuer(
            to_checksum_address(account),
            party_code(i["party"]),
            i["ca"],
            i["docTypes"],
            Status(i["status"]),
            i["authorizedAt"],
            i["revokedAt"],
        )

    def issuer_history(self, account: str, block: int | str = "latest") -> list[StatusChange]:
        return [_change(c) for c in self._call("issuerHistory", to_checksum_address(account), block=block)]

    def issuer_status_at(self, account: str, time: int, block: int | str = "latest") -> Status:
        return Status(self._call("issuerStatusAt", to_checksum_address(account), time, block=block))

    def party_issuers(self, party: str, block: int | str = "latest") -> list[str]:
        return [to_checksum_address(a) for a in self._call("partyIssuers", party_id(party), block=block)]

    def recognition_at(self, recognizer: str, recognized: str, time: int, block: int | str = "latest") -> int:
        return int(self._call("recognitionAt", party_id(recognizer), party_id(recognized), time, block=block))

    def recognition_history(
        self, recognizer: str, recognized: str, block: int | str = "latest"
    ) -> list[tuple[int, int]]:
        h = self._call("recognitionHistory", party_id(recognizer), party_id(recognized), block=block)
        return [(c["docTypes"], c["effectiveAt"]) for c in h]

    def recognizes_ca_at(
        self, recognizer: str, fingerprint: bytes, doc_type: int, time: int, block: int | str = "latest"
    ) -> bool:
        return bool(
            self._call("recognizesCAAt", party_id(recognizer), fingerprint, doc_type, time, block=block)
        )


class DocumentRegistryClient(_Client):
    abi_index = 1

    def anchor(self, account: LocalAccount, root: bytes, doc_type: int, size: int) -> Receipt:
        return self._send(account, "anchor", root, doc_type, size)

    def anchor_many(
        self, account: LocalAccount, roots: list[bytes], doc_types: list[int], sizes: list[int]
    ) -> Receipt:
        return self._send(account, "anchorMany", roots, doc_types, sizes)

    def revoke_batch(self, account: LocalAccount, root: bytes, reason: int = 0) -> Receipt:
        return self._send(account, "revokeBatch", root, reason)

    def revoke_document(self, account: LocalAccount, proof: DocumentProof, reason: int = 0) -> Receipt:
        return self._send(account, "revokeDocument", proof.as_tuple(), reason)

    def supersede(self, account: LocalAccount, proof: DocumentProof, successor: DocumentProof) -> Receipt:
        return self._send(account, "supersede", proof.as_tuple(), successor.as_tuple())

    def consume(self, account: LocalAccount, proof: DocumentProof) -> Receipt:
        return self._send(account, "consume", proof.as_tuple())

    def batch(self, root: bytes, block: int | str = "latest") -> dict[str, Any]:
        b: dict[str, Any] = self._call("batch", root, block=block)
        return b

    def document(self, root: bytes, leaf: bytes, block: int | str = "latest") -> dict[str, Any]:
        d: dict[str, Any] = self._call("document", root, leaf, block=block)
        return d

    def issuer_auth(self, account: str, block: int | str = "latest") -> dict[str, Any]:
        a: dict[str, Any] = self._call("issuerAuth", to_checksum_address(account), block=block)
        return a


@dataclass(frozen=True)
class DocumentProof:
    """A document's place in an anchored batch, as the registry's lifecycle calls take it."""

    root: bytes
    leaf: bytes
    index: int
    path: tuple[bytes, ...]

    @classmethod
    def of(cls, bundle: Bundle) -> DocumentProof:
        """The document a proof bundle speaks of, as the registry's lifecycle calls take it."""
        return cls(
            bytes.fromhex(bundle.batch.root[2:]),
            bytes.fromhex(bundle.leaf.hash[2:]),
            bundle.proof.index,
            tuple(bytes.fromhex(h[2:]) for h in bundle.proof.path),
        )

    def as_tuple(self) -> tuple[bytes, bytes, int, list[bytes]]:
        return (self.root, self.leaf, self.index, list(self.path))


def _change(c: dict[str, Any]) -> StatusChange:
    return StatusChange(Status(c["status"]), c["effectiveAt"], c["recordedAt"], c["reason"])


@dataclass(frozen=True)
class Registries:
    """Both registry clients on one chain, found through a deployment manifest."""

    chain: Chain
    manifest: Manifest
    trust: TrustRegistryClient
    documents: DocumentRegistryClient

    @classmethod
    def open(cls, chain: Chain, manifest: Manifest, *, source: str = "the deployment manifest") -> Registries:
        """The registries of `manifest` on `chain`; ConfigError if the manifest (from `source`, for the
        message) is for another chain."""
        if manifest.chain_id != chain.chain_id:
            raise ConfigError(
                f"{source} is for chain id {manifest.chain_id} but the node is chain {chain.chain_id}"
            )
        return cls(
            chain,
            manifest,
            TrustRegistryClient(chain, manifest.trust_registry.address),
            DocumentRegistryClient(chain, manifest.document_registry.address),
        )
