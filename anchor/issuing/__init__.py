"""Issuing, stage by stage: a document's canonical bytes and digest (`canonical`), its salted leaf with
the terms it carries (`leaf`), the batch's Merkle tree (`merkle`), the issuer's signature over the root
(`signing`), and the batch that anchors it and writes a bundle per document (`batch`).

Each stage imports only the stages before it; the proof bundle itself lives in `anchor.bundle`, which
the verifier reads too.
"""
