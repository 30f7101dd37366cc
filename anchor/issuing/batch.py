"""Issuing: documents -> digests -> salted leaves -> Merkle batches -> signed roots -> anchoring -> bundles.

One transaction anchors one batch (several batches go into one `anchorMany` transaction), so the cost on
chain does not grow with the number of documents. Nothing is reported as anchored before the
transaction is mined with the configured confirmations; on any failure no bundle is produced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.serialization import Encoding
from eth_account.signers.local import LocalAccount

from ..bundle import Anchor, Batch, Bundle, BundleWriter
from ..cacert import ca_id
from ..doctypes import type_id, type_name
from ..errors import ConfigError, PKIError
from ..registry import Registries, Status
from .canonical import Digest
from .leaf import NO_TERMS, Terms, leaf_hashes, new_salts
from .merkle import MerkleTree
from .signing import Signature, Signer, batch_message, validate_chain

MAX_BATCH = 1_000_000
ROOTS_PER_TRANSACTION = 50


class SignerChainError(ConfigError):
    """The signer's certificate chain does not lead to the CA its issuer account is bound to on chain,
    so every verifier would reject what it signs. `missing_ca`: that CA's certificate is not among the
    signer's certificates (rather than a chain that fails validation)."""

    def __init__(self, message: str, *, missing_ca: bool = False) -> None:
        super().__init__(message)
        self.missing_ca = missing_ca


def check_signer_chain(
    registries: Registries, issuer: str, signer: Signer, *, at: int | None = None
) -> bytes:
    """Check, as a verifier will, that `signer`'s certificates validate for document signing up to the
    CA that issuer account `issuer` is bound to on chain, at chain time `at` (default: the latest block's
    time, the earliest an anchoring can get); return that CA's id. SignerChainError says why not.

    The bundle carries exactly the signer's certificates, and a verifier looks for the issuer's CA among
    them (its id is bound to the issuer's party: anchor.cacert.ca_id(party, sha256(DER))).
    """
    record = registries.trust.issuer(issuer)
    if record.status is Status.NONE:
        raise SignerChainError(
            f"account {issuer} is not a registered issuer account, so no CA is bound to it"
        )
    certs = signer.certificates
    bound = [ca_id(record.party, hashlib.sha256(c.public_bytes(Encoding.DER)).digest()) for c in certs]
    index = next((i for i, b in enumerate(bound) if b == record.ca), None)
    if index is None:
        given = "; ".join(c.subject.rfc4514_string() for c in certs[1:]) or "none"
        raise SignerChainError(
            f"the signer's certificates do not include the CA that issuer account {issuer} is bound to "
            f"({record.party}'s registered CA 0x{record.ca.hex()[:16]}…), so every verifier would reject "
            f"the bundles (CA_NOT_REGISTERED); CA certificates given: {given}",
            missing_ca=True,
        )
    when = at if at is not None else registries.chain.block_timestamp(registries.chain.block_number())
    moment = dt.datetime.fromtimestamp(when, dt.UTC)
    try:
        intermediates = [c for i, c in enumerate(certs) if i not in (0, index)]
        validate_chain(certs[0], intermediates, [certs[index]], moment)
    except PKIError as e:
        raise SignerChainError(
            f"the signer's certificate chain is not valid up to the CA that issuer account {issuer} is "
            f"bound to, at the chain's time {moment:%Y-%m-%d %H:%M:%SZ}: {e}"
        ) from None
    return record.ca


def _a(word: str) -> str:
    """`word` with its indefinite article."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


@dataclass(frozen=True)
class DocumentInput:
    """A document already reduced to its canonical digest; `name` is informative (the file name).
    `terms` are what its leaf commits to and a border enforces (destination, validity, quantity)."""

    name: str
    digest: Digest
    terms: Terms = NO_TERMS


@dataclass(frozen=True)
class IssuedDocument:
    """One anchored document: its bundle as JSON text, plus what a journal needs without parsing it."""

    name: str
    digest: bytes
    root: bytes
    leaf: bytes
    transaction_hash: str
    block_number: int
    bundle_json: str

    @property
    def bundle(self) -> Bundle:
        return Bundle.from_json(self.bundle_json)


@dataclass
class IssueResult:
    documents: list[IssuedDocument] = field(default_factory=list)
    batches: int = 0
    transactions: int = 0
    gas_used: int = 0
    seconds: float = 0.0
    transaction_hashes: list[str] = field(default_factory=list)

    @property
    def bundles(self) -> list[Bundle]:
        """Validated bundle models (parsed from the JSON: for inspection, not the bulk path)."""
        return [d.bundle for d in self.documents]


@dataclass(frozen=True)
class SignedBatch:
    """Documents of one type, each given a fresh salt and hashed with its terms into a leaf, in one Merkle
    tree whose root (with the tree size, type, chain, registry, party and issuer account) the issuer's
    document-signing key signed."""

    doc_type_id: int
    salts: list[bytes]
    leaves: list[bytes]
    tree: MerkleTree
    signature: Signature

    @classmethod
    def sign(
        cls,
        signer: Signer,
        digests: Sequence[bytes],
        doc_type_id: int,
        chain_id: int,
        registry: str,
        party: str,
        issuer: str,
        terms: Sequence[Terms] | None = None,
    ) -> SignedBatch:
        if not 1 <= len(digests) <= MAX_BATCH:
            raise ConfigError(f"a batch holds 1..{MAX_BATCH} documents, not {len(digests)}")
        salts = new_salts(len(digests))
        if terms is not None and all(t.open for t in terms):
            terms = None
        leaves = leaf_hashes(doc_type_id, salts, digests, terms)
        tree = MerkleTree(leaves)
        message = batch_message(tree.root, tree.size, doc_type_id, chain_id, registry, party, issuer)
        return cls(doc_type_id, salts, leaves, tree, signer.sign(message))


def terms_problem(t: Terms, one_time: bool, members: Set[str]) -> Literal["destination", "quantity"] | None:
    """Which term a registry could never honour, if any (the issuer and the service word it their own
    way): a one-time document destined to a non-member (nobody could use it up), or a quantity on a
    type that is not one-time (it could never be endorsed)."""
    if one_time and t.destination and t.destination not in members:
        return "destination"
    if t.quantity and not one_time:
        return "quantity"
    return None


class DocumentIssuer:
    """An issuing agency's account, acting with its document-signing key."""

    def __init__(
        self,
        registries: Registries,
        account: LocalAccount,
        signer: Signer,
        *,
        confirmations: int | None = None,
        max_batch: int = MAX_BATCH,
        check_chain: bool = True,
    ) -> None:
        """`check_chain`: before anything is signed or anchored, refuse (SignerChainError) a signer whose
        certificate chain does not validate up to the CA the issuer account is bound to on chain at the
        chain's time (`check_signer_chain`), whose bundles every verifier would reject. On by default;
        tests of the verifier turn it off to mint such bundles on purpose."""
        if not 1 <= max_batch <= MAX_BATCH:
            raise ConfigError(f"batch size must be 1..{MAX_BATCH}")
        self.reg = registries
        self.account = account
        self.signer = signer
        self.confirmations = confirmations
        self.max_batch = max_batch
        self.check_chain = check_chain
        self._party: str | None = None

    def check_signer_chain(self, *, at: int | None = None) -> bytes:
        """The id of the CA this issuer's signer chains up to (see `check_signer_chain`)."""
        return check_signer_chain(self.reg, self.account.address, self.signer, at=at)

    def check_authorized(self, doc_type_id: int) -> str:
        """The issuer's party; raise a clear error now rather than a revert after signing."""
        issuer = self.reg.trust.issuer(self.account.address)
        if issuer.status is Status.NONE:
            raise ConfigError(f"account {self.account.address} is not a registered issuer account")
        if issuer.status is not Status.ACTIVE:
            raise ConfigError(f"issuer account {self.account.address} is {issuer.status.name.lower()}")
        if not issuer.doc_types >> doc_type_id & 1:
            raise ConfigError(
                f"issuer account {self.account.address} may not anchor {type_name(doc_type_id)} documents"
            )
        return issuer.party

    def _check_terms(self, terms: Sequence[Terms], doc_type_id: int) -> None:
        """Refuse terms a border could never honour before anything is signed or anchored: a one-time
        document must be destined to a member party (only its consumer can use it), and only one-time
        documents can carry a quantity to endorse. Other documents may name any destination code (an
        ePhyto certificate for a country outside the consortium): verifiers show it as information."""
        if not any(t.destination or t.quantity for t in terms):
            return
        one_time = bool(self.reg.trust.one_time_doc_types() >> doc_type_id & 1)
        members = {p for p in self.reg.trust.parties() if self.reg.trust.is_member(p)}
        for t in terms:
            problem = terms_problem(t, one_time, members)
            if problem == "destination":
                raise ConfigError(
                    f"destination {t.destination!r} of {_a(type_name(doc_type_id))} is not a member party "
                    f"(members: {', '.join(sorted(members))})"
                )
            if problem == "quantity":
                raise ConfigError(
                    f"{type_name(doc_type_id)} is not a one-time document type: a quantity could never be endorsed"
                )

    def issue(
        self,
        documents: Sequence[DocumentInput],
        doc_type: str | int,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> IssueResult:
        """Anchor `documents` (all of one type) and return one bundle per document, in input order."""
        started = time.perf_counter()
        tid = type_id(doc_type)
        if not documents:
            return IssueResult()
        party = self._party = self.check_authorized(tid)
        if self.check_chain:
            self.check_signer_chain()
        registry = self.reg.manifest.document_registry.address
        chain_id = self.reg.chain.chain_id
        digests = [d.digest.digest for d in documents]
        terms = [d.terms for d in documents]
        self._check_terms(terms, tid)
        starts = range(0, len(documents), self.max_batch)
        n = self.max_batch
        batches = [
            SignedBatch.sign(
                self.signer,
                digests[i : i + n],
                tid,
                chain_id,
                registry,
                party,
                self.account.address,
                terms[i : i + n],
            )
            for i in starts
        ]

        result = IssueResult(batches=len(batches))
        anchors: dict[int, Anchor] = {}
        for i in range(0, len(batches), ROOTS_PER_TRANSACTION):
            group = batches[i : i + ROOTS_PER_TRANSACTION]
            if len(group) == 1:
                receipt = self.reg.documents.anchor(self.account, group[0].tree.root, tid, group[0].tree.size)
            else:
                receipt = self.reg.documents.anchor_many(
                    self.account,
                    [b.tree.root for b in group],
                    [tid] * len(group),
                    [b.tree.size for b in group],
                )
            if self.confirmations is not None and self.confirmations != self.reg.chain.config.confirmations:
                self.reg.chain.wait(receipt.tx_hash, confirmations=self.confirmations)
            block_time = self.reg.chain.block_timestamp(receipt.block_number)
            anchor = Anchor.create(
                chain_id=chain_id,
                registry=registry,
                transaction_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                block_hash=receipt.block_hash,
                block_time=block_time,
                issuer=self.account.address,
                party=party,
            )
            for j in range(i, i + len(group)):
                anchors[j] = anchor
            result.transactions += 1
            result.gas_used += receipt.gas_used
            result.transaction_hashes.append(receipt.tx_hash)

        for n, (start, b) in enumerate(zip(starts, batches, strict=True)):
            anchor = anchors[n]
            writer = BundleWriter(
                batch=Batch.create(b.tree.root, b.signature, self.signer.certificates),
                anchor=anchor,
                tree_size=b.tree.size,
                doc_type_id=tid,
            )
            for j, path in enumerate(b.tree.iter_proofs()):
                k = start + j
                d = documents[k].digest
                text = writer.render(
                    name=documents[k].name,
                    media_type=d.media_type,
                    canonicalization=d.canonicalization,
                    digest=d.digest,
                    salt=b.salts[j],
                    index=j,
                    path=path,
                    leaf_hash=b.leaves[j],
                    terms=documents[k].terms,
                )
                result.documents.append(
                    IssuedDocument(
                        documents[k].name,
                        d.digest,
                        b.tree.root,
                        b.leaves[j],
                        anchor.transaction_hash,
                        anchor.block_number,
                        text,
                    )
                )
                if progress is not None and k % 1000 == 999:
                    progress(1000)
        result.seconds = time.perf_counter() - started
        return result
