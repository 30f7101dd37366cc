"""The issuer's fast path: all bundles of one anchored batch, batch-wide parts checked and rendered once."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from ..doctypes import type_name
from ..errors import BundleError, SigningError
from ..issuing.leaf import NO_TERMS, Terms, leaf_hash
from ..issuing.signing import batch_message, verify_signature
from .model import (
    CANONICALIZATIONS,
    MEDIA_TYPE,
    OPEN_TERMS,
    Anchor,
    Batch,
    Bundle,
    Document,
    DocumentTerms,
    Leaf,
    Proof,
    Supersedes,
    doc_media_type_check,
    name_check,
)
from .render import ENCODE, render, render_shared, render_supersedes, render_terms

_OPEN_TERMS_JSON = render_terms(OPEN_TERMS)


class BundleWriter:
    """Produces all bundles of one anchored batch; batch-wide parts are validated and rendered once.

    Per document it checks only what the caller supplies from outside the library (name, media
    type, byte lengths, index); the leaf hash and proof are trusted to come from ``anchor.leaf`` and
    ``anchor.merkle`` (``Bundle.from_json`` on the output re-checks all of it).
    """

    def __init__(self, *, batch: Batch, anchor: Anchor, tree_size: int, doc_type_id: int) -> None:
        self.batch = batch
        self.anchor = anchor
        self.tree_size = tree_size
        self.doc_type_id = doc_type_id
        self._type_name = type_name(doc_type_id)
        self._type_name_json = ENCODE(self._type_name)
        self._shared = render_shared(batch, anchor)
        self._media_types: dict[str, str] = {}
        try:
            message = batch_message(
                bytes.fromhex(batch.root[2:]),
                tree_size,
                doc_type_id,
                anchor.chain_id,
                anchor.registry,
                anchor.party,
                anchor.issuer,
            )
        except SigningError as exc:
            raise BundleError(str(exc)) from None
        cert = batch.x509_certificates()[0]
        # One verification per batch catches a signature made for another root, type, chain or registry.
        if not verify_signature(cert, batch.signature.alg, base64.b64decode(batch.signature.value), message):
            raise BundleError(
                "batch signature does not verify for this root, tree size, document type, chain, registry, "
                "party and issuer account"
            )

    def render(
        self,
        *,
        name: str,
        media_type: str,
        canonicalization: str,
        digest: bytes,
        salt: bytes,
        index: int,
        path: Sequence[bytes],
        leaf_hash: bytes | None = None,
        supersedes: Supersedes | None = None,
        terms: Terms = NO_TERMS,
    ) -> str:
        """The bundle's JSON text, identical to ``build(...).to_json()`` but about 3x cheaper."""
        media_type_json, leaf = self._check(
            name, media_type, canonicalization, digest, salt, index, leaf_hash, terms
        )
        return render(
            ENCODE(name),
            media_type_json,
            canonicalization,
            digest.hex(),
            self._type_name_json,
            self.doc_type_id,
            _OPEN_TERMS_JSON if terms.open else render_terms(DocumentTerms.of(terms)),
            salt.hex(),
            leaf.hex(),
            index,
            self.tree_size,
            [h.hex() for h in path],
            self._shared,
            "null" if supersedes is None else render_supersedes(supersedes),
        )

    def build(
        self,
        *,
        name: str,
        media_type: str,
        canonicalization: str,
        digest: bytes,
        salt: bytes,
        index: int,
        path: Sequence[bytes],
        leaf_hash: bytes | None = None,
        supersedes: Supersedes | None = None,
        terms: Terms = NO_TERMS,
    ) -> Bundle:
        """A ``Bundle`` object without pydantic validation (``model_construct``), for callers that keep objects."""
        _, leaf = self._check(name, media_type, canonicalization, digest, salt, index, leaf_hash, terms)
        return Bundle.model_construct(
            media_type=MEDIA_TYPE,
            document=Document.model_construct(
                name=name,
                media_type=media_type,
                canonicalization=canonicalization,
                digest="0x" + digest.hex(),
                document_type=self._type_name,
                document_type_id=self.doc_type_id,
            ),
            terms=OPEN_TERMS if terms.open else DocumentTerms.of(terms),
            leaf=Leaf.model_construct(salt="0x" + salt.hex(), hash="0x" + leaf.hex()),
            proof=Proof.model_construct(
                index=index, tree_size=self.tree_size, path=tuple(["0x" + h.hex() for h in path])
            ),
            batch=self.batch,
            anchor=self.anchor,
            supersedes=supersedes,
        )

    def _check(
        self,
        name: str,
        media_type: str,
        canonicalization: str,
        digest: bytes,
        salt: bytes,
        index: int,
        leaf_hash: bytes | None,
        terms: Terms,
    ) -> tuple[str, bytes]:
        """Validate the caller-supplied parts; return the JSON-encoded media type and the leaf hash."""
        if not 0 <= index < self.tree_size:
            raise BundleError(f"index {index} is not below the batch's tree size {self.tree_size}")
        if len(digest) != 32 or len(salt) != 16 or (leaf_hash is not None and len(leaf_hash) != 32):
            raise BundleError("digest and leaf hash must be 32 bytes and salt 16 bytes")
        if canonicalization not in CANONICALIZATIONS:
            raise BundleError(f"unknown canonicalization {canonicalization!r}")
        try:
            name_check(name)
        except ValueError as exc:
            raise BundleError(f"document.name: {exc}") from None
        media_type_json = self._media_types.get(media_type)
        if media_type_json is None:
            try:
                doc_media_type_check(media_type)
            except ValueError as exc:
                raise BundleError(f"document.mediaType: {exc}") from None
            media_type_json = self._media_types[media_type] = ENCODE(media_type)
        if leaf_hash is None:
            leaf_hash = _leaf_hash(self.doc_type_id, salt, digest, terms)
        return media_type_json, leaf_hash


_leaf_hash = leaf_hash  # BundleWriter's leaf_hash parameters shadow the function name
