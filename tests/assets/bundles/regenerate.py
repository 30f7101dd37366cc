"""Regenerate the bundle test vectors in this directory (run from the repo root).

    .venv/bin/python tests/assets/bundles/regenerate.py

Keys are random, so every run changes certificates, signatures and thus most bytes of the files;
tests/test_bundle.py and docs/bundle.md quote a few values from them (the truncated-JSON position,
the example in the docs) and must be updated with them. Salts, digests, terms and thus the leaves and
the batch root do not change between runs.

`bad-version-v1.json` is not written here: it is a genuine version 1 bundle, issued on registries v1
before the format moved to version 2, and kept as it was (this library can no longer write one). A
reader must refuse it and tell the holder to ask the issuer to re-issue the document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from anchor.bundle import Anchor, Batch, Bundle, BundleWriter, Supersedes
from anchor.issuing.leaf import NO_TERMS, Terms, leaf_hashes
from anchor.issuing.merkle import MerkleTree
from anchor.issuing.signing import Signer, batch_message
from anchor.pki import init_pki

OUT = Path(__file__).parent
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PARTY = "SG"
CHAIN_ID = 31337
TYPE_ID = 3  # certificate-of-origin
BLOCK_TIME = 1767225600  # 2026-01-01T00:00:00Z
# Leaf 3 commits to terms: for TH only, 2026-01-01T00:00:00Z to 2026-06-30T23:59:59Z, 1203 kg.
TERMS = Terms(destination="TH", valid_from=1767225600, valid_until=1782863999, quantity=1203, unit="kg")


def main() -> None:
    pki = init_pki(
        PARTY,
        Path(tempfile.mkdtemp()),
        valid_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        days=3650,
        ca_days=7300,
    )
    signer = Signer.from_pkcs12(pki.signer_p12)
    (OUT / "vector-root-ca.pem").write_bytes(pki.root_ca.read_bytes())

    docs = [
        rfc8785.dumps(
            {
                "certificateNumber": f"SG-COO-2026-{i + 1:04d}",
                "exporter": "Example Exports Pte Ltd",
                "importer": "Example Imports Co Ltd",
                "goods": [{"hs": "090111", "description": "Coffee, not roasted", "netKg": 1200 + i}],
                "originCountry": "SG",
            }
        )
        for i in range(5)
    ]
    (OUT / "vector-document-2.json").write_bytes(docs[2])
    digests = [hashlib.sha256(d).digest() for d in docs]
    # Fixed salts keep the vectors' leaves stable across runs; real salts come from new_salts().
    salts = [hashlib.sha256(b"vector salt %d" % i).digest()[:16] for i in range(5)]
    terms = [NO_TERMS, NO_TERMS, NO_TERMS, TERMS, NO_TERMS]
    tree = MerkleTree(leaf_hashes(TYPE_ID, salts, digests, terms))
    signature = signer.sign(batch_message(tree.root, 5, TYPE_ID, CHAIN_ID, REGISTRY, PARTY, ISSUER))
    anchor = Anchor.create(
        chain_id=CHAIN_ID,
        registry=REGISTRY,
        transaction_hash=hashlib.sha256(b"tx").digest(),
        block_number=42,
        block_hash=hashlib.sha256(b"block").digest(),
        block_time=BLOCK_TIME,
        issuer=ISSUER.lower(),
        party=PARTY,
    )
    writer = BundleWriter(
        batch=Batch.create(tree.root, signature, signer.certificates),
        anchor=anchor,
        tree_size=5,
        doc_type_id=TYPE_ID,
    )

    def render(i: int, supersedes: Supersedes | None = None) -> str:
        return writer.render(
            name=f"coo-{i + 1:04d}.json",
            media_type="application/json",
            canonicalization="jcs-rfc8785",
            digest=digests[i],
            salt=salts[i],
            index=i,
            path=tree.inclusion_proof(i),
            supersedes=supersedes,
            terms=terms[i],
        )

    valid = render(2)
    old = Supersedes(
        issuer=ISSUER,
        root="0x" + hashlib.sha256(b"old root").hexdigest(),
        leaf="0x" + hashlib.sha256(b"old leaf").hexdigest(),
    )
    amended = render(4, old)
    with_terms = render(3)
    for name, text in (
        ("valid-v2.json", valid),
        ("valid-amended-v2.json", amended),
        ("valid-terms-v2.json", with_terms),
    ):
        bundle = Bundle.from_json(text)
        assert bundle.proof_valid() and bundle.signature_valid()
        (OUT / name).write_text(text)

    def variant(name: str, mutate: Callable[[dict[str, Any]], object], base: str = valid) -> None:
        obj = json.loads(base)
        mutate(obj)
        (OUT / name).write_text(json.dumps(obj, indent=2) + "\n")

    variant("bad-version-v3.json", lambda o: o.update(mediaType="application/vnd.trustanchor.bundle.v3+json"))
    (OUT / "bad-truncated.json").write_text(valid[: len(valid) // 2])
    variant("bad-hex-salt.json", lambda o: o["leaf"].update(salt="0x" + o["leaf"]["salt"][2:].upper()))
    variant(
        "bad-hex-path.json", lambda o: o["proof"]["path"].__setitem__(1, o["proof"]["path"][1][:-2] + "zz")
    )
    variant("bad-index-out-of-range.json", lambda o: o["proof"].update(index=5))
    variant("bad-leaf-mismatch.json", lambda o: o["leaf"].update(salt="0x" + "00" * 16))
    variant("bad-extra-field.json", lambda o: o["document"].update(comment="hello"))
    variant("bad-path-length.json", lambda o: o["proof"].update(path=o["proof"]["path"][:-1]))
    variant("bad-type-mismatch.json", lambda o: o["document"].update(documentType="cites-permit"))
    variant("bad-checksum.json", lambda o: o["anchor"].update(registry=o["anchor"]["registry"].lower()))
    variant("bad-string-number.json", lambda o: o["proof"].update(treeSize="5"))
    variant("bad-block-time.json", lambda o: o["anchor"].update(blockTime=1 << 40))
    variant("bad-missing-field.json", lambda o: o["batch"].pop("signature"))
    (OUT / "bad-not-an-object.json").write_text("[1, 2, 3]\n")
    # The first "salt" is the impostor; Python's json (last one wins) would not even notice it.
    (OUT / "bad-duplicate-key.json").write_text(
        valid.replace('  "leaf": {', '  "leaf": {\n    "salt": "0x' + "11" * 16 + '",', 1)
    )

    # Terms (leaf v2): each defect once, on the bundle that has terms.
    variant("bad-terms-mismatch.json", lambda o: o["terms"].update(quantity=12030), with_terms)
    variant("bad-terms-added.json", lambda o: o["terms"].update(destination="TH"))
    variant(
        "bad-terms-until-before-from.json", lambda o: o["terms"].update(validUntil=1767225599), with_terms
    )
    variant("bad-terms-lowercase-destination.json", lambda o: o["terms"].update(destination="th"), with_terms)
    variant("bad-terms-unit-without-quantity.json", lambda o: o["terms"].update(quantity=None), with_terms)
    variant("bad-terms-quantity-zero.json", lambda o: o["terms"].update(quantity=0), with_terms)
    variant("bad-terms-quantity-overflow.json", lambda o: o["terms"].update(quantity=1 << 64), with_terms)
    variant("bad-supersedes-no-issuer.json", lambda o: o["supersedes"].pop("issuer"), amended)


if __name__ == "__main__":
    main()
