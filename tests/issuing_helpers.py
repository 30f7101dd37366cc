"""A small issuing scenario for the verifier tests: SG's PKI and CA on chain, an issuer, TH recognizing SG.

`build_scenario(world, tmp_path)` gives:

* SG's PKI (root CA -> issuing CA -> document signer) made by `init_pki`, the root CA registered on
  chain with the validity read from the certificate, for phyto, certificate of origin and CITES permit;
* issuer account dev:4 bound to that root CA for the same three types;
* TH recognizing SG for phyto and certificate of origin only (not CITES permits); MY recognizing nothing;
* three JSON phytosanitary certificates issued in one batch (`docs`, `bundles`).

The signer carries the whole chain up to the root, so bundles are self-contained (no local CA store).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account.signers.local import LocalAccount
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from anchor.bundle import Batch, Bundle, Leaf, Proof
from anchor.cacert import CACertificate, ca_id, read_ca_certificate
from anchor.deploy import Manifest
from anchor.doctypes import mask_of
from anchor.issuing.batch import DocumentInput, DocumentIssuer
from anchor.issuing.canonical import digest_bytes
from anchor.issuing.leaf import NO_TERMS, Terms, leaf_hash
from anchor.issuing.merkle import MerkleTree
from anchor.issuing.signing import Signer, batch_message
from anchor.pki import CaKey, PkiPaths, init_pki, issue_signer, load_ca
from anchor.verify import Verdict, Verifier
from tests.conftest import World
from tests.conftest import mine as mine  # test_verify's import of it from here

PHYTO = "phytosanitary-certificate"
ORIGIN = "certificate-of-origin"
PERMIT = "cites-permit"

CA_TYPES = mask_of([PHYTO, ORIGIN, PERMIT])
ISSUER_TYPES = CA_TYPES
TH_RECOGNIZES = mask_of([PHYTO, ORIGIN])
ISSUER_INDEX = 4
CONSUMER_INDEX = 7


def json_doc(i: int, **extra: Any) -> bytes:
    """A small phytosanitary certificate as pretty-printed JSON (key order deliberately unsorted)."""
    body = {
        "certificateNumber": f"SG-PHY-2025-{i:05d}",
        "exporter": {"name": "Lion City Orchids Pte Ltd", "country": "SG"},
        "consignee": {"name": "Bangkok Flora Co", "country": "TH"},
        "commodity": {"description": "Dendrobium cut flowers", "quantity": 120 + i, "unit": "boxes"},
        "treatments": [{"type": "fumigation", "chemical": "methyl bromide", "durationHours": 2}],
        "issuedAt": "2025-03-01T08:30:00+08:00",
        **extra,
    }
    return json.dumps(body, indent=2, ensure_ascii=False).encode()


@dataclass
class Pki:
    """One party's PKI on disk plus what the tests need from it in memory."""

    paths: PkiPaths
    ca: CACertificate
    signer: Signer
    issuing_cert: x509.Certificate
    issuing_key: CaKey
    root_cert: x509.Certificate

    def signer_with(self, cert: x509.Certificate, key: Any) -> Signer:
        """A signer for another end-entity `cert` of this PKI (validity not checked: for bad certs)."""
        return Signer(key, [cert, self.issuing_cert, self.root_cert], check_validity=False)

    def expired_signer(self, now: int, party: str = "SG") -> Signer:
        """A document signer whose certificate expired a day before chain time `now`."""
        key = ec.generate_private_key(ec.SECP256R1())
        at = dt.datetime.fromtimestamp(now, dt.UTC)
        cert = issue_signer(
            party,
            key.public_key(),
            self.issuing_cert,
            self.issuing_key,
            valid_from=at - dt.timedelta(days=30),
            not_after=at - dt.timedelta(days=1),
        )
        return self.signer_with(cert, key)


def load_ca_key_pair(pki: Pki) -> tuple[CaKey, x509.Certificate]:
    """The root CA's key and certificate (for proofs of possession)."""
    cert, key = load_ca(pki.paths.root_ca, pki.paths.root_ca_key)
    return key, cert


def make_pki(out_dir: Path, party: str = "SG") -> Pki:
    paths = init_pki(party, out_dir)
    ca = read_ca_certificate(paths.root_ca)
    signer = Signer.from_pem(paths.signer_key, paths.signer_cert, [paths.issuing_ca, paths.root_ca])
    issuing_cert, issuing_key = load_ca(paths.issuing_ca, paths.issuing_ca_key)
    return Pki(paths, ca, signer, issuing_cert, issuing_key, ca.certificate)


def reload(bundle: Bundle) -> Bundle:
    """Round-trip through JSON, as a border agency receives it: tampering must survive bundle loading."""
    return Bundle.from_json(bundle.to_json())


@dataclass
class Scenario:
    world: World
    tmp_path: Path
    pki: Pki
    issuer: LocalAccount
    docs: list[bytes] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)

    @property
    def manifest(self) -> Manifest:
        return self.world.reg.manifest

    @property
    def fingerprint(self) -> bytes:
        """The CA id SG's root is registered under (bound to SG)."""
        return ca_id("SG", self.pki.ca.fingerprint)

    def issue(
        self,
        docs: Sequence[bytes],
        doc_type: str = PHYTO,
        *,
        media_type: str = "application/json",
        signer: Signer | None = None,
        names: Sequence[str] | None = None,
        terms: Terms = NO_TERMS,
    ) -> list[Bundle]:
        inputs = [
            DocumentInput(
                names[i] if names else f"doc-{i}.json", digest_bytes(d, media_type, name=f"doc-{i}"), terms
            )
            for i, d in enumerate(docs)
        ]
        # The verifier's tests anchor bad chains on purpose (expired, unregistered, cut short): the
        # issuer's own check, which would refuse them, is what tests/test_first_week_cli.py covers.
        issuer = DocumentIssuer(self.world.reg, self.issuer, signer or self.pki.signer, check_chain=False)
        return issuer.issue(inputs, doc_type).bundles

    def consumer(self, party: str = "TH", index: int = CONSUMER_INDEX) -> LocalAccount:
        """A consumer account of `party` (granted on first use): what a border service holds."""
        account = self.world.account(index)
        trust = self.world.reg.trust
        if trust.consumer_party(account.address) != party:
            admin = {"SG": self.world.sg, "TH": self.world.th, "MY": self.world.my}[party]
            trust.grant_consumer(admin, account.address)
        return account

    def issue_permits(self, n: int, terms: Terms, *, first: int = 0) -> tuple[list[bytes], list[Bundle]]:
        """`n` CITES permits (a one-time type) with `terms`; TH is made to recognize SG for permits."""
        if not self.world.reg.trust.recognition_at("TH", "SG", self.world.now()) & mask_of([PERMIT]):
            self.world.reg.trust.recognize(self.world.th, "SG", mask_of([PERMIT]))
        docs = [json_doc(first + i, permit=True) for i in range(n)]
        return docs, self.issue(docs, PERMIT, terms=terms)

    def verifier(self, **kwargs: Any) -> Verifier:
        return Verifier(self.world.chain, self.manifest, **kwargs)

    def verify(self, document: bytes | Path, bundle: Bundle, as_party: str = "TH", **kwargs: Any) -> Verdict:
        return self.verifier(**kwargs).verify(document, bundle, as_party)


def build_scenario(
    world: World, tmp_path: Path, *, n_docs: int = 3, th_recognizes: int = TH_RECOGNIZES
) -> Scenario:
    pki = make_pki(tmp_path / "sg-pki")
    root_key, _ = load_ca_key_pair(pki)
    ca_fp, _ = world.reg.trust.register_ca(world.sg, pki.ca, CA_TYPES, root_key)
    issuer = world.account(ISSUER_INDEX)
    world.reg.trust.authorize_issuer(world.sg, issuer.address, ca_fp, ISSUER_TYPES)
    if th_recognizes:
        world.reg.trust.recognize(world.th, "SG", th_recognizes)
    scenario = Scenario(world, tmp_path, pki, issuer)
    if n_docs:
        scenario.docs = [json_doc(i) for i in range(n_docs)]
        scenario.bundles = scenario.issue(scenario.docs)
    return scenario


def signed_but_unanchored(scenario: Scenario, template: Bundle) -> Bundle:
    """A correctly signed bundle for `template`'s document in a batch that was never anchored.

    What an issuer holds when its anchoring transaction never made it: new salt, a 3-leaf tree whose
    root is signed by the real signer for the trusted chain and registry; anchor fields copied.
    """
    d = template.document
    salt = os.urandom(16)
    leaf = leaf_hash(d.document_type_id, salt, bytes.fromhex(d.digest[2:]), template.terms.terms())
    tree = MerkleTree([leaf, os.urandom(32), os.urandom(32)])
    a = template.anchor
    signature = scenario.pki.signer.sign(
        batch_message(tree.root, tree.size, d.document_type_id, a.chain_id, a.registry, a.party, a.issuer)
    )
    return Bundle(
        media_type=template.media_type,
        document=d,
        terms=template.terms,
        leaf=Leaf(salt="0x" + salt.hex(), hash="0x" + leaf.hex()),
        proof=Proof(
            index=0, tree_size=tree.size, path=tuple("0x" + h.hex() for h in tree.inclusion_proof(0))
        ),
        batch=Batch.create(tree.root, signature, scenario.pki.signer.certificates),
        anchor=a,
    )


class DeadProvider(BaseProvider):
    """A provider whose node has gone away: every request is refused, as a closed port would."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        raise ConnectionRefusedError(111, "Connection refused")

    def is_connected(self, show_traceback: bool = False) -> bool:
        return False
