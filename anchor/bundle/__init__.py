"""Proof bundles: the per-document JSON evidence (format: docs/bundle.md, schema: schemas/bundle-v2.json).

`model` holds the validated models (loading checks everything that can be checked without keys or a
chain node: shapes, lengths, leaf hash, proof length; signature, certificate chain and on-chain
anchor are the verifier's job); `parse` the checks made on the raw text before the models see it;
`render` the one writer of a bundle's JSON text, used both by ``Bundle.to_json`` and by the issuer's
``BundleWriter`` (`writer`), so both produce byte-identical files.
"""

from .model import (
    CANONICALIZATIONS,
    MAX_CERTIFICATES,
    MEDIA_TYPE,
    OPEN_TERMS,
    Anchor,
    Batch,
    BatchSignature,
    Bundle,
    Document,
    DocumentTerms,
    Leaf,
    Proof,
    Supersedes,
    to_checksum_address,
)
from .writer import BundleWriter

__all__ = [
    "CANONICALIZATIONS",
    "MAX_CERTIFICATES",
    "MEDIA_TYPE",
    "OPEN_TERMS",
    "Anchor",
    "Batch",
    "BatchSignature",
    "Bundle",
    "BundleWriter",
    "Document",
    "DocumentTerms",
    "Leaf",
    "Proof",
    "Supersedes",
    "to_checksum_address",
]
