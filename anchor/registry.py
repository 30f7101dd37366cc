"""Typed clients for the two registries: every write is one signed transaction; reads are raw eth_calls."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ._internal.abi import ContractABI
from .bundle import Bundle
from .cacert import CACertificate, ca_id, pop_message, sign_pop, verify_pop
from .chain import Chain, Receipt
from .deploy import Manifest, party_code, party_id
from .errors import ConfigError
from .issuing.leaf import Terms, commitment


class Status(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class ProposalKind(IntEnum):
    ADD_PARTY = 0
    REMOVE_PARTY = 1
    SET_THRESHOLD = 2
    SET_ONE_TIME_TYPES = 3


class Role(IntEnum):
    """The one role an account holds for one party (an account never holds two)."""

    NONE = 0
    ADMIN = 1
    ISSUER = 2
    CONSUMER = 3
    WITNESS = 4


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
    doc_types: int
    proposer: str
    created_at: int
    expires_at: int
    executed: bool
    approvals: int


@dataclass(frozen=True)
class AdminChange:
    id: int
    party: str
    account: str
    add: bool
    proposer: str
    created_at: int
    ready_at: int
    expires_at: int
    executed: bool
    cancelled: bool
    approvals: int


_DER = Encoding.DER


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
        doc_types: int = 0,
    ) -> tuple[int, Receipt]:
        pid = party_id(party) if party else b"\x00" * 8
        r = self._send(account, "propose", int(kind), pid, to_checksum_address(admin), threshold, doc_types)
        return self._first_topic(r, "ProposalCreated"), r

    def _first_topic(self, r: Receipt, event: str) -> int:
        topic = self.abi.event(event).topic
        for log in r.logs:
            if bytes(log["topics"][0]) == topic:
                return int.from_bytes(bytes(log["topics"][1]), "big")
        raise AssertionError(f"{event} event missing from receipt")

    def approve(self, account: LocalAccount, proposal_id: int) -> Receipt:
        return self._send(account, "approve", proposal_id)

    def execute(self, account: LocalAccount, proposal_id: int) -> Receipt:
        return self._send(account, "execute", proposal_id)

    # ---- a party's own admins
    def propose_admin_change(self, account: LocalAccount, admin: str, add: bool) -> tuple[int, Receipt]:
        r = self._send(account, "proposeAdminChange", to_checksum_address(admin), add)
        return self._first_topic(r, "AdminChangeProposed"), r

    def approve_admin_change(self, account: LocalAccount, change_id: int) -> Receipt:
        return self._send(account, "approveAdminChange", change_id)

    def cancel_admin_change(self, account: LocalAccount, change_id: int) -> Receipt:
        return self._send(account, "cancelAdminChange", change_id)

    def execute_admin_change(self, account: LocalAccount, change_id: int) -> Receipt:
        return self._send(account, "executeAdminChange", change_id)

    # ---- consumer accounts
    def grant_consumer(self, account: LocalAccount, consumer: str) -> Receipt:
        return self._send(account, "grantConsumer", to_checksum_address(consumer))

    def revoke_consumer(self, account: LocalAccount, consumer: str) -> Receipt:
        return self._send(account, "revokeConsumer", to_checksum_address(consumer))

    def grant_witness(self, account: LocalAccount, witness: str) -> Receipt:
        return self._send(account, "grantWitness", to_checksum_address(witness))

    def revoke_witness(self, account: LocalAccount, witness: str) -> Receipt:
        return self._send(account, "revokeWitness", to_checksum_address(witness))

    # ---- CAs
    def add_ca(
        self,
        account: LocalAccount,
        certificate: bytes,
        not_before: int,
        not_after: int,
        doc_types: int,
        proof_of_possession: bytes = b"",
    ) -> Receipt:
        """Register a CA of the caller's party from its DER certificate; its id is ``ca_id(party, sha256)``."""
        return self._send(
            account, "addCA", bytes(certificate), not_before, not_after, doc_types, bytes(proof_of_possession)
        )

    def register_ca(
        self, account: LocalAccount, ca: CACertificate, doc_types: int, ca_key: object | None = None
    ) -> tuple[bytes, Receipt]:
        """Register `ca` for the account's party with a proof of possession made with `ca_key` (checked
        here before sending); returns the CA id. Without a key the registration carries no proof, which
        every audit reports."""
        party = self.admin_party(account.address)
        if not party:
            raise ConfigError(f"account {account.address} is not an admin of any party")
        der = ca.certificate.public_bytes(_DER)
        proof = b""
        if ca_key is not None:
            message = pop_message(self.chain.chain_id, self.address, party, ca.fingerprint)
            proof = sign_pop(ca_key, ca, message)
            if not verify_pop(ca.certificate, proof, message):
                raise ConfigError(f"the proof of possession for CA {ca.subject} does not verify")
        r = self.add_ca(account, der, ca.not_before, ca.not_after, doc_types, proof)
        return ca_id(party, ca.fingerprint), r

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

    def consumer_party(self, account: str, block: int | str = "latest") -> str:
        return party_code(self._call("consumerParty", to_checksum_address(account), block=block))

    def consumers(self, party: str, block: int | str = "latest") -> list[str]:
        return [to_checksum_address(a) for a in self._call("consumers", party_id(party), block=block)]

    def witness_party(self, account: str, block: int | str = "latest") -> str:
        return party_code(self._call("witnessParty", to_checksum_address(account), block=block))

    def witnesses(self, party: str, block: int | str = "latest") -> list[str]:
        return [to_checksum_address(a) for a in self._call("witnesses", party_id(party), block=block)]

    def role_of(self, account: str, block: int | str = "latest") -> tuple[Role, str]:
        role, party = self._call("roleOf", to_checksum_address(account), block=block)
        return Role(role), party_code(party)

    def one_time_doc_types(self, block: int | str = "latest") -> int:
        return int(self._call("oneTimeDocTypes", block=block))

    def admin_delay(self, block: int | str = "latest") -> int:
        return int(self._call("adminDelay", block=block))

    def admin_change_count(self, block: int | str = "latest") -> int:
        return int(self._call("adminChangeCount", block=block))

    def admin_change(self, change_id: int, block: int | str = "latest") -> AdminChange:
        c = self._call("adminChange", change_id, block=block)
        return AdminChange(
            change_id,
            party_code(c["party"]),
            to_checksum_address(c["account"]),
            c["add"],
            to_checksum_address(c["proposer"]),
            c["createdAt"],
            c["readyAt"],
            c["expiresAt"],
            c["executed"],
            c["cancelled"],
            c["approvals"],
        )

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
            p["docTypes"],
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

    def revoke_batch(self, account: LocalAccount, issuer: str, root: bytes, reason: int = 0) -> Receipt:
        return self._send(account, "revokeBatch", to_checksum_address(issuer), root, reason)

    def revoke_document(self, account: LocalAccount, proof: DocumentProof, reason: int = 0) -> Receipt:
        return self._send(account, "revokeDocument", proof.as_tuple(), reason)

    def supersede(self, account: LocalAccount, proof: DocumentProof, successor: DocumentProof) -> Receipt:
        return self._send(account, "supersede", proof.as_tuple(), successor.as_tuple())

    def consume(self, account: LocalAccount, proof: DocumentProof, opening: Opening) -> Receipt:
        return self._send(account, "consume", proof.as_tuple(), opening.as_tuple())

    def endorse(self, account: LocalAccount, proof: DocumentProof, opening: Opening, amount: int) -> Receipt:
        return self._send(account, "endorse", proof.as_tuple(), opening.as_tuple(), amount)

    def batch(self, issuer: str, root: bytes, block: int | str = "latest") -> dict[str, Any]:
        b: dict[str, Any] = self._call("batch", to_checksum_address(issuer), root, block=block)
        return b

    def document(self, issuer: str, root: bytes, leaf: bytes, block: int | str = "latest") -> dict[str, Any]:
        d: dict[str, Any] = self._call("document", to_checksum_address(issuer), root, leaf, block=block)
        return d

    def leaf_of(self, opening: Opening, doc_type: int) -> bytes:
        return bytes(self._call("leafOf", opening.as_tuple(), doc_type))

    def issuer_auth(self, account: str, block: int | str = "latest") -> dict[str, Any]:
        a: dict[str, Any] = self._call("issuerAuth", to_checksum_address(account), block=block)
        return a


@dataclass(frozen=True)
class DocumentProof:
    """A document's place in an anchored batch (issuer account, root), as the registry's calls take it."""

    issuer: str
    root: bytes
    leaf: bytes
    index: int
    path: tuple[bytes, ...]

    @classmethod
    def of(cls, bundle: Bundle) -> DocumentProof:
        """The document a proof bundle speaks of, as the registry's lifecycle calls take it."""
        return cls(
            bundle.anchor.issuer,
            bytes.fromhex(bundle.batch.root[2:]),
            bytes.fromhex(bundle.leaf.hash[2:]),
            bundle.proof.index,
            tuple(bytes.fromhex(h[2:]) for h in bundle.proof.path),
        )

    def as_tuple(self) -> tuple[str, bytes, bytes, int, list[bytes]]:
        return (to_checksum_address(self.issuer), self.root, self.leaf, self.index, list(self.path))


@dataclass(frozen=True)
class Opening:
    """A leaf's opening for consume/endorse: the commitment only bundle holders can compute, and the terms."""

    commitment: bytes
    terms: Terms

    @classmethod
    def of(cls, bundle: Bundle) -> Opening:
        return cls(
            commitment(bytes.fromhex(bundle.leaf.salt[2:]), bytes.fromhex(bundle.document.digest[2:])),
            bundle.terms.terms(),
        )

    def as_tuple(self) -> tuple[bytes, bytes, int, int, int, bytes]:
        return self.terms.as_tuple(self.commitment)


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
