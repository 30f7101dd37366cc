"""The one writer of a bundle's JSON text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .parse import MEDIA_TYPE

if TYPE_CHECKING:
    from .model import Anchor, Batch, DocumentTerms, Supersedes

# --- rendering -------------------------------------------------------------------------------------
# The layout is exactly json.dumps(bundle, indent=2) + "\n" with ASCII escapes and the field order of
# the models; it is written by hand because the stdlib's indenting encoder is pure Python and too slow
# for issuing 100,000 bundles. tests/test_bundle.py checks the two stay identical.

ENCODE = json.JSONEncoder().encode


def render(
    name: str,
    media_type: str,
    canonicalization: str,
    digest: str,
    document_type: str,
    document_type_id: int,
    terms: str,
    salt: str,
    leaf: str,
    index: int,
    tree_size: int,
    path: list[str],
    shared: str,
    supersedes: str,
    /,
    status: str | None = None,
) -> str:
    """Text fields come JSON-encoded; hashes as bare hex digits (no 0x). Positional: this is per document."""
    path_json = '[\n      "0x' + '",\n      "0x'.join(path) + '"\n    ]' if path else "[]"
    return (
        f'{{\n  "mediaType": "{MEDIA_TYPE}",\n  "document": {{\n    "name": {name},\n'
        f'    "mediaType": {media_type},\n    "canonicalization": "{canonicalization}",\n'
        f'    "digest": "0x{digest}",\n    "documentType": {document_type},\n'
        f'    "documentTypeId": {document_type_id}\n  }},\n'
        f'  "terms": {terms},\n'
        f'  "leaf": {{\n    "salt": "0x{salt}",\n    "hash": "0x{leaf}"\n  }},\n'
        f'  "proof": {{\n    "index": {index},\n    "treeSize": {tree_size},\n'
        f'    "path": {path_json}\n  }},\n'
        f'{shared},\n  "supersedes": {supersedes}'
        + ("" if status is None else f',\n  "status": {status}')
        + "\n}\n"
    )


def render_status(status: dict[str, object]) -> str:
    """A status proof as json.dumps(..., indent=2) nested one level down (it is written rarely)."""
    return json.dumps(status, indent=2).replace("\n", "\n  ")


def render_shared(batch: Batch, anchor: Anchor) -> str:
    certs = ",\n      ".join(f'"{c}"' for c in batch.certificates)
    a = anchor
    return (
        f'  "batch": {{\n    "root": "{batch.root}",\n    "signature": {{\n'
        f'      "alg": "{batch.signature.alg}",\n      "value": "{batch.signature.value}"\n    }},\n'
        f'    "certificates": [\n      {certs}\n    ]\n  }},\n'
        f'  "anchor": {{\n    "chainId": {a.chain_id},\n    "registry": "{a.registry}",\n'
        f'    "transactionHash": "{a.transaction_hash}",\n    "blockNumber": {a.block_number},\n'
        f'    "blockHash": "{a.block_hash}",\n    "blockTime": {a.block_time},\n'
        f'    "issuer": "{a.issuer}",\n    "party": "{a.party}"\n  }}'
    )


def render_supersedes(supersedes: Supersedes | None) -> str:
    if supersedes is None:
        return "null"
    return (
        f'{{\n    "issuer": "{supersedes.issuer}",\n    "root": "{supersedes.root}",\n'
        f'    "leaf": "{supersedes.leaf}"\n  }}'
    )


def render_terms(t: DocumentTerms) -> str:
    def v(x: object) -> str:
        return "null" if x is None else ENCODE(x)

    return (
        f'{{\n    "destination": {v(t.destination)},\n    "validFrom": {v(t.valid_from)},\n'
        f'    "validUntil": {v(t.valid_until)},\n    "quantity": {v(t.quantity)},\n    "unit": {v(t.unit)}\n  }}'
    )
