"""Regenerate the bundle test vectors in this directory (run from the repo root).

    .venv/bin/python tests/assets/bundles/regenerate.py

Keys are random, so every run changes certificates, signatures and thus most bytes of the files;
tests/test_bundle.py and docs/bundle.md quote a few values from them (the truncated-JSON position,
the example in the docs) and must be updated with them.
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
from anchor.leaf import leaf_hash
from anchor.merkle import MerkleTree
from anchor.pki import init_pki
from anchor.signing import Signer, batch_message

OUT = Path(__file__).parent
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TYPE_ID = 3  # certificate-of-origin


def main() -> None:
    pki = init_pki(
        "SG",
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
    tree = MerkleTree([leaf_hash(TYPE_ID, s, d) for s, d in zip(salts, digests, strict=True)])
    signature = signer.sign(batch_message(tree.root, 5, TYPE_ID, 31337, REGISTRY))
    anchor = Anchor.create(
        chain_id=31337,
        registry=REGISTRY,
        transaction_hash=hashlib.sha256(b"tx").digest(),
        block_number=42,
        block_hash=hashlib.sha256(b"block").digest(),
        block_time=1767225600,
        issuer="0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        party="SG",
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
        )

    valid = render(2)
    old = Supersedes(
        root="0x" + hashlib.sha256(b"old root").hexdigest(),
        leaf="0x" + hashlib.sha256(b"old leaf").hexdigest(),
    )
    amended = render(4, old)
    for name, text in (("valid-v1.json", valid), ("valid-amended-v1.json", amended)):
        bundle = Bundle.from_json(text)
        assert bundle.proof_valid() and bundle.signature_valid()
        (OUT / name).write_text(text)

    def variant(name: str, mutate: Callable[[dict[str, Any]], object]) -> None:
        obj = json.loads(valid)
        mutate(obj)
        (OUT / name).write_text(json.dumps(obj, indent=2) + "\n")

    variant("bad-version-v2.json", lambda o: o.update(mediaType="application/vnd.trustanchor.bundle.v2+json"))
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


if __name__ == "__main__":
    main()
