"""The bundle's models: every field validated on load, the leaf recomputed from its parts."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ..doctypes import MAX_TYPE_ID, type_name
from ..errors import BundleError
from ..inputs import MAX_TIME
from ..issuing.leaf import Terms, leaf_hash
from ..issuing.merkle import proof_length, verify_inclusion
from ..issuing.signing import ALGORITHMS, Signature, batch_message, verify_signature
from .parse import MEDIA_TYPE, one_line, precheck, short
from .render import ENCODE, render, render_shared, render_status, render_supersedes, render_terms

U64_MAX = (1 << 64) - 1
MAX_CERTIFICATES = 8

CANONICALIZATIONS = ("jcs-rfc8785", "xml-c14n2", "raw-sha256")


def _hex_check(n: int) -> Callable[[str], str]:
    pattern = re.compile(rf"0x[0-9a-f]{{{2 * n}}}")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"expected 0x and {2 * n} lowercase hex digits ({n} bytes), got {short(value)}")
        return value

    return check


def _b64_decode(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"expected standard padded base64, got {short(value)}") from None
    # Only the canonical encoding is accepted, so a bundle has exactly one valid serialization.
    if not raw or base64.b64encode(raw).decode() != value:
        raise ValueError("expected non-empty, canonically padded base64")
    return raw


def _b64_check(value: str) -> str:
    _b64_decode(value)
    return value


def _certificate_check(value: str) -> str:
    try:
        x509.load_der_x509_certificate(_b64_decode(value))
    except ValueError as exc:
        if str(exc).startswith("expected"):
            raise
        raise ValueError("not a DER-encoded X.509 certificate") from None
    return value


@functools.lru_cache(maxsize=4096)
def to_checksum_address(address: bytes | str) -> str:
    """EIP-55 mixed-case form of a 20-byte address (cached: a batch repeats the same two addresses)."""
    if isinstance(address, str):
        if not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
            raise ValueError(f"expected 0x and 40 hex digits, got {short(address)}")
        plain = address[2:].lower()
    else:
        if len(address) != 20:
            raise ValueError(f"an address is 20 bytes, got {len(address)}")
        plain = bytes(address).hex()
    from eth_hash.auto import (
        keccak,
    )  # deferred: its import costs ~25 ms, paid only once addresses are checked

    digest = keccak(plain.encode()).hex()
    # Only the first 40 nibbles of the hash are used: one per address character.
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(plain, digest, strict=False))


def _address_check(value: str) -> str:
    expected = to_checksum_address(value)
    if value != expected:
        raise ValueError(f"address is not EIP-55 checksummed (expected {expected})")
    return value


def _one_of(allowed: Sequence[str]) -> Callable[[str], str]:
    # A plain-str annotation with a runtime check (not Literal) so callers holding a str type-check.
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {short(value)}")
        return value

    return check


def _regex_check(pattern: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"expected {what}, got {short(value)}")
        return value

    return check


_NAME_RE = r"(?!\.{1,2}$)[^/\\\x00-\x1f\x7f]{1,255}"
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]"
_DOC_MEDIA_TYPE_RE = rf"[A-Za-z0-9]{_TOKEN}{{0,126}}/[A-Za-z0-9]{_TOKEN}{{0,126}}(; ?{_TOKEN}+={_TOKEN}+)*"
name_check = _regex_check(_NAME_RE, "a file name (1..255 characters, no path separators or control chars)")
doc_media_type_check = _regex_check(_DOC_MEDIA_TYPE_RE, "a media type like application/json")

Hex16 = Annotated[str, AfterValidator(_hex_check(16))]
Hex32 = Annotated[str, AfterValidator(_hex_check(32))]
Base64 = Annotated[str, AfterValidator(_b64_check)]
CertificateB64 = Annotated[str, AfterValidator(_certificate_check)]
Address = Annotated[str, AfterValidator(_address_check)]
U64 = Annotated[int, Field(ge=0, le=U64_MAX)]
Time = Annotated[int, Field(ge=0, le=MAX_TIME)]
PositiveU64 = Annotated[int, Field(ge=1, le=U64_MAX)]


def _list_to_tuple(value: object) -> object:
    # Lets Python callers pass lists while models stay hashable; JSON input arrives as a list anyway.
    return tuple(value) if isinstance(value, list) else value


class _Model(BaseModel):
    # strict: no silent coercion ("5" is not 5); extra="forbid": unknown fields are errors, not ignored.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
    )


class Document(_Model):
    name: Annotated[str, AfterValidator(name_check)]
    media_type: Annotated[str, AfterValidator(doc_media_type_check)]
    canonicalization: Annotated[str, AfterValidator(_one_of(CANONICALIZATIONS))]
    digest: Hex32
    document_type: str
    document_type_id: Annotated[int, Field(ge=0, le=MAX_TYPE_ID)]

    @model_validator(mode="after")
    def _type_matches(self) -> Document:
        expected = type_name(self.document_type_id)
        if self.document_type != expected:
            raise ValueError(
                f"documentType {self.document_type!r} does not match documentTypeId "
                f"{self.document_type_id} (expected {expected!r})"
            )
        return self


class Leaf(_Model):
    salt: Hex16
    hash: Hex32


# Terms validate on construction; a verifier builds the same few many times (every document of a batch).
_terms = functools.lru_cache(maxsize=4096)(Terms)


class DocumentTerms(_Model):
    """The terms the leaf commits to (leaf v2); null means open."""

    # One text per bundle: an open term is null, never 0 or "", and codes are written canonically.
    destination: (
        Annotated[
            str,
            AfterValidator(_regex_check(r"[A-Z0-9]{1,8}", "a party code of 1-8 capital letters or digits")),
        ]
        | None
    ) = None
    valid_from: Annotated[int, Field(ge=1, le=MAX_TIME)] | None = None
    valid_until: Annotated[int, Field(ge=1, le=MAX_TIME)] | None = None
    quantity: Annotated[int, Field(ge=1, le=U64_MAX)] | None = None
    unit: (
        Annotated[
            str, AfterValidator(_regex_check(r"[A-Za-z0-9]{1,8}", "a unit of 1-8 ASCII letters or digits"))
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _valid(self) -> DocumentTerms:
        self.terms()  # LeafError is a ValueError: pydantic reports it with the field path
        return self

    def terms(self) -> Terms:
        return _terms(
            self.destination or "",
            self.valid_from or 0,
            self.valid_until or 0,
            self.quantity or 0,
            self.unit or "",
        )

    @classmethod
    def of(cls, terms: Terms) -> DocumentTerms:
        return cls.model_construct(
            destination=terms.destination or None,
            valid_from=terms.valid_from or None,
            valid_until=terms.valid_until or None,
            quantity=terms.quantity or None,
            unit=terms.unit or None,
        )


OPEN_TERMS = DocumentTerms()


class Proof(_Model):
    index: U64
    tree_size: PositiveU64
    path: Annotated[tuple[Hex32, ...], BeforeValidator(_list_to_tuple)]

    @model_validator(mode="after")
    def _fits_tree(self) -> Proof:
        if self.index >= self.tree_size:
            raise ValueError(f"index {self.index} is not below treeSize {self.tree_size}")
        expected = proof_length(self.index, self.tree_size)
        if len(self.path) != expected:
            raise ValueError(
                f"path has {len(self.path)} hashes but leaf {self.index} of a {self.tree_size}-leaf "
                f"tree needs exactly {expected} (RFC 9162)"
            )
        return self


class BatchSignature(_Model):
    alg: Annotated[str, AfterValidator(_one_of(ALGORITHMS))]
    value: Base64


class Batch(_Model):
    root: Hex32
    signature: BatchSignature
    certificates: Annotated[
        tuple[CertificateB64, ...],
        BeforeValidator(_list_to_tuple),
        Field(min_length=1, max_length=MAX_CERTIFICATES),
    ]

    @classmethod
    def create(cls, root: bytes, signature: Signature, certificates: Sequence[x509.Certificate]) -> Batch:
        return cls(
            root=_hex(root),
            signature=BatchSignature(alg=signature.alg, value=base64.b64encode(signature.value).decode()),
            certificates=tuple(
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates
            ),
        )

    def x509_certificates(self) -> list[x509.Certificate]:
        return [x509.load_der_x509_certificate(base64.b64decode(c)) for c in self.certificates]


class Anchor(_Model):
    chain_id: PositiveU64
    registry: Address
    transaction_hash: Hex32
    block_number: U64
    block_hash: Hex32
    block_time: Time
    issuer: Address
    party: Annotated[
        str,
        AfterValidator(
            _regex_check(r"[A-Z0-9]{1,8}", "a party code of 1-8 capital letters or digits like 'SG'")
        ),
    ]

    @classmethod
    def create(
        cls,
        *,
        chain_id: int,
        registry: bytes | str,
        transaction_hash: bytes | str,
        block_number: int,
        block_hash: bytes | str,
        block_time: int,
        issuer: bytes | str,
        party: str,
    ) -> Anchor:
        """From raw chain values (bytes or hex of any case); addresses are checksummed here."""
        return cls(
            chain_id=chain_id,
            registry=to_checksum_address(registry),
            transaction_hash=_hex(transaction_hash),
            block_number=block_number,
            block_hash=_hex(block_hash),
            block_time=block_time,
            issuer=to_checksum_address(issuer),
            party=party,
        )


class Supersedes(_Model):
    issuer: Address
    root: Hex32
    leaf: Hex32


def _hex(value: bytes | str) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


class Bundle(_Model):
    media_type: Literal["application/vnd.trustanchor.bundle.v2+json"] = MEDIA_TYPE
    document: Document
    terms: DocumentTerms = OPEN_TERMS
    leaf: Leaf
    proof: Proof
    batch: Batch
    anchor: Anchor
    supersedes: Supersedes | None = None
    # The document's registry state at a witnessed checkpoint, for verifying offline
    # (anchor.checkpoint.status; checked by the offline verifier, not here). Outside what was signed;
    # absent, not null, when there is none, so that bundles without one are byte for byte as before.
    status: dict[str, Any] | None = Field(default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _leaf_matches(self) -> Bundle:
        expected = leaf_hash(
            self.document.document_type_id,
            bytes.fromhex(self.leaf.salt[2:]),
            bytes.fromhex(self.document.digest[2:]),
            self.terms.terms(),
        )
        if bytes.fromhex(self.leaf.hash[2:]) != expected:
            raise ValueError(
                "leaf.hash does not match the leaf computed from document.documentTypeId, "
                "terms, leaf.salt and document.digest"
            )
        return self

    @classmethod
    def from_json(cls, data: str | bytes) -> Bundle:
        precheck(data)
        try:
            return cls.model_validate_json(data, by_alias=True, by_name=False)
        except ValidationError as exc:
            raise BundleError(one_line(exc)) from None

    @classmethod
    def load(cls, path: Path | str) -> Bundle:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise BundleError(f"cannot read proof bundle {path}: {exc.strerror or exc}") from exc
        try:
            return cls.from_json(data)
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from None

    def save(self, path: Path | str) -> None:
        Path(path).write_text(self.to_json(), encoding="ascii")

    def to_json(self) -> str:
        d, leaf, proof = self.document, self.leaf, self.proof
        return render(
            ENCODE(d.name),
            ENCODE(d.media_type),
            d.canonicalization,
            d.digest[2:],
            ENCODE(d.document_type),
            d.document_type_id,
            render_terms(self.terms),
            leaf.salt[2:],
            leaf.hash[2:],
            proof.index,
            proof.tree_size,
            [h[2:] for h in proof.path],
            render_shared(self.batch, self.anchor),
            render_supersedes(self.supersedes),
            status=None if self.status is None else render_status(self.status),
        )

    def signed_message(self) -> bytes:
        """The bytes the batch signature must cover, rebuilt from this bundle's fields."""
        return batch_message(
            bytes.fromhex(self.batch.root[2:]),
            self.proof.tree_size,
            self.document.document_type_id,
            self.anchor.chain_id,
            self.anchor.registry,
            self.anchor.party,
            self.anchor.issuer,
        )

    def proof_valid(self) -> bool:
        """Does the inclusion proof lead from leaf.hash to batch.root (RFC 9162)?"""
        return verify_inclusion(
            bytes.fromhex(self.leaf.hash[2:]),
            self.proof.index,
            self.proof.tree_size,
            [bytes.fromhex(h[2:]) for h in self.proof.path],
            bytes.fromhex(self.batch.root[2:]),
        )

    def signature_valid(self) -> bool:
        """Is batch.signature the first certificate's signature over ``signed_message()``?

        Says nothing about whether that certificate is trustworthy: see ``signing.validate_chain``.
        """
        cert = self.batch.x509_certificates()[0]
        return verify_signature(
            cert,
            self.batch.signature.alg,
            base64.b64decode(self.batch.signature.value),
            self.signed_message(),
        )
