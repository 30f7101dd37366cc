"""`trustanchor demo`: a cross-border scenario played end to end on the local chain.

Singapore (SG) exports to Thailand (TH) a consignment with CITES permits, an ePhyto phytosanitary
certificate, a certificate of origin and a veterinary certificate; Malaysia (MY) ships goods with
certificates of origin. TH verifies at its border; a permit is used once; a tampered copy, a document
type TH does not recognize, a backdated CA revocation at MY and an amended certificate show what a
verifier sees when something is wrong. Every step states its expected and its actual outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from eth_account import Account

from .. import profiles
from ..bundle import Bundle, Supersedes
from ..config import Config
from ..deploy import Manifest
from ..doctypes import type_id
from ..errors import ContractRevert, TrustAnchorError
from ..issuing.batch import DocumentInput, DocumentIssuer
from ..issuing.canonical import digest_file
from ..issuing.leaf import NO_TERMS
from ..reasons import reason_code
from ..registry import DocumentProof, Opening, Registries, Status
from ..verify import CheckStatus, Decision, Verdict, Verifier
from . import documents as docs
from .chainprep import advance_time, prepare_chain
from .documents import Workspace
from .model import DemoResult, Expect, HandCommand, Reporter, Step, describe_verdict
from .offline import border_offline
from .parties import (
    AGENCIES,
    CA_DOC_TYPES,
    PARTIES,
    RECOGNITIONS,
    AccountBook,
    AgencyAccount,
    Party,
    admins,
    ensure_agency,
    ensure_ca,
    ensure_consumer,
    ensure_recognition,
)

CLOCK_STEP = 600  # seconds the chain's clock moves between MY's two certificates of origin

VALID = Expect(Decision.VALID)


class _Abort(Exception):
    """A step failed in a way that leaves nothing sensible for the following steps to do."""


class Scenario:
    def __init__(self, config: Config, manifest_path: Path, reporter: Reporter) -> None:
        self.config = config
        self.manifest_path = manifest_path
        self.out = reporter
        self.result = DemoResult()
        self.ws = Workspace(config.home)
        self._section = 0
        self._step = 0
        self.bundles: dict[str, tuple[Path, Bundle]] = {}
        self.tampered: Path | None = None

    # ------------------------------------------------------------------ plumbing

    def _begin(self, title: str, intro: str = "") -> None:
        self._section += 1
        self._step = 0
        self.out.section(f"{self._section}. {title}", intro)

    def _record(
        self,
        title: str,
        expected: str,
        actual: str,
        ok: bool,
        details: Sequence[str] = (),
        verdict: Verdict | None = None,
    ) -> Step:
        self._step += 1
        step = Step(f"{self._section}.{self._step}", title, expected, actual, ok, list(details), verdict)
        self.result.steps.append(step)
        self.out.step(step)
        return step

    def _fail(self, title: str, expected: str, error: BaseException) -> NoReturn:
        self._record(title, expected, f"error: {error}", False)
        raise _Abort(str(error)) from error

    # ------------------------------------------------------------------ the run

    def run(self) -> DemoResult:
        ready = prepare_chain(self.config, self.manifest_path)  # errors here are errors, not outcomes
        self.reg: Registries = ready.registries
        self.manifest: Manifest = ready.registries.manifest
        self.verifier = Verifier(self.reg.chain, self.manifest, confirmations=self.config.chain.confirmations)
        self.ws.reset()
        self._begin("The local chain")
        self._record("Local development chain", "a node answering", ready.chain_note, True)
        self._record(
            "Registries",
            "deployed, or the deployment in the manifest verified",
            "deployed" if ready.deployed else "verified",
            True,
            [ready.deploy_note],
        )
        try:
            self._members()
            self._pkis()
            self._recognitions()
            self._issue_consignment()
            self._border()
            self._consumption()
            self._partial_use()
            self._expiry()
            self._rejections()
            self._hostile_member()
            self._key_compromise()
            self._amendment()
            border_offline(self)
        except _Abort as e:
            self.result.aborted = str(e)
        else:
            self._hand_commands()
        return self.result

    def _members(self) -> None:
        title = "Member parties SG, TH and MY, acting through their admin accounts from the config"
        try:
            self.parties: dict[str, Party] = admins(self.config, self.reg)
        except TrustAnchorError as e:
            self._fail(title, "SG, TH, MY members", e)
        members = self.reg.trust.parties()
        threshold = self.reg.trust.threshold()
        details = [f"{p.code} admin {p.admin_spec} ({p.admin.address})" for p in self.parties.values()]
        self._record(
            title,
            "SG, TH, MY members",
            f"members {', '.join(m for m in members if self.reg.trust.is_member(m))}; threshold {threshold}",
            all(self.reg.trust.is_member(p) for p in PARTIES),
            details,
        )

    # ------------------------------------------------------------------ setup

    def _pkis(self) -> None:
        self._begin(
            "National PKIs, CAs and issuing agencies",
            f"PKIs live in {self.ws.root / 'pki'}. MY's CA is revoked at the end of every run, so each run "
            "gives MY a fresh CA and a fresh agency account (registrations are one-time per fingerprint "
            "and per account).",
        )
        book = AccountBook(self.ws.root / "accounts.json", self.config.chain.mnemonic)
        self.agencies: dict[str, AgencyAccount] = {}
        for code in PARTIES:
            party = self.parties[code]
            title = f"{code} sets up its PKI and registers its root CA for {', '.join(CA_DOC_TYPES[code])}"
            expected = f"CA active for {', '.join(CA_DOC_TYPES[code])}"
            try:
                o = ensure_ca(self.reg, party)
            except TrustAnchorError as e:
                self._fail(title, expected, e)
            self._record(title, expected, o.actual, o.ok, o.details)
            for agency in (a for a in AGENCIES if a.party == code):
                title = f"{code} authorizes {agency.name} to anchor {', '.join(agency.doc_types)}"
                expected = f"issuer account active, bound to {code}'s CA"
                try:
                    acct, o = ensure_agency(self.reg, party, agency, book)
                except TrustAnchorError as e:
                    self._fail(title, expected, e)
                self.agencies[agency.state_key] = acct
                self._record(title, expected, o.actual, o.ok, o.details)
            if code in ("TH", "MY"):
                title = f"{code} gives its border service a consumer account (consume and endorse only)"
                expected = f"consumer of {code}, no admin key in the service"
                try:
                    acct, o = ensure_consumer(self.reg, party, book)
                except TrustAnchorError as e:
                    self._fail(title, expected, e)
                self.agencies[f"{code}/border"] = acct
                self._record(title, expected, o.actual, o.ok, o.details)

    def _recognitions(self) -> None:
        self._begin(
            "Recognition agreements",
            "Each party decides alone whose CAs it trusts for which document types.",
        )
        for rec in RECOGNITIONS:
            title = f"{rec.recognizer} recognizes {rec.recognized}'s CAs for {', '.join(rec.want)}"
            if rec.refuse:
                title += f" (not {', '.join(rec.refuse)})"
            expected = f"{rec.recognizer} recognizes {rec.recognized} for {', '.join(rec.want)}"
            try:
                o = ensure_recognition(self.reg, self.parties, rec)
            except TrustAnchorError as e:
                self._fail(title, expected, e)
            self._record(title, expected, o.actual, o.ok, o.details)

    # ------------------------------------------------------------------ issuing

    def _issue(
        self,
        agency_key: str,
        names: Sequence[str],
        doc_type: str,
        title: str,
        *,
        valid_for: int | None = None,
    ) -> list[Bundle]:
        """Copy sample documents into the workspace (permits dated by the chain's clock), read their
        terms with the type's profile, anchor them in one batch, write their bundles."""
        acct = self.agencies[agency_key]
        party = self.parties[acct.agency.party]
        expected = f"{len(names)} document(s) anchored in one batch, one bundle each"
        try:
            assert party.signer is not None
            now = self.reg.chain.block_timestamp(self.reg.chain.block_number())
            paths = [
                self.ws.dated_copy(n, now, valid_for=valid_for)
                if doc_type == "cites-permit"
                else self.ws.copy(n)
                for n in names
            ]
            inputs = []
            for p in paths:
                digest = digest_file(p)
                profile = profiles.profile_for(type_id(doc_type), digest.media_type)
                terms = profile.read(p.read_bytes(), p.name) if profile else NO_TERMS
                inputs.append(DocumentInput(p.name, digest, terms))
            issuer = DocumentIssuer(self.reg, acct.account, party.signer)
            result = issuer.issue(inputs, doc_type)
        except (TrustAnchorError, OSError) as e:
            self._fail(title, expected, e)
        for path, bundle in zip(paths, result.bundles, strict=True):
            bundle.save(self.ws.bundle_path(path))
            self.bundles[path.name] = (path, bundle)
        first = result.bundles[0].anchor
        committed = sorted({_terms_line(b) for b in result.bundles if not b.terms.terms().open})
        self._record(
            title,
            expected,
            f"{len(result.bundles)} anchored in block {first.block_number} by {acct.spec} "
            f"({result.transactions} transaction, {result.gas_used} gas)",
            len(result.bundles) == len(names) and result.transactions == 1,
            [f"transaction {first.transaction_hash}", f"bundles in {self.ws.bundles}", *committed],
        )
        return result.bundles

    def _issue_consignment(self) -> None:
        self._begin(
            "Singapore issues the documents of a consignment to Thailand",
            "One Merkle batch per document type: one signature and one transaction however many documents.",
        )
        self._issue(
            "SG/nparks",
            docs.PERMITS,
            "cites-permit",
            "NParks issues three CITES export permits (Asian arowana, saltwater crocodile skins, orchids)",
        )
        self._issue(
            "SG/nparks",
            (docs.SPS_XML, docs.SPS_PDF),
            "phytosanitary-certificate",
            "NParks issues an ePhyto phytosanitary certificate (the real UN/CEFACT SPS XML sample) and its "
            "PDF attachment",
        )
        self._issue(
            "SG/nparks",
            (docs.VETERINARY,),
            "veterinary-certificate",
            "NParks (Animal & Veterinary Service) issues a veterinary health certificate for the fish",
        )
        self._issue(
            "SG/customs",
            (docs.SG_ORIGIN,),
            "certificate-of-origin",
            "Singapore Customs issues ATIGA Form D certificate of origin SG-FD-2026-118734",
        )

    # ------------------------------------------------------------------ verifying

    def _verify(
        self,
        title: str,
        name: str,
        expect: Expect,
        *,
        as_party: str = "TH",
        document: Path | None = None,
        explain: Callable[[Verdict], str | None] | None = None,
    ) -> Verdict:
        path, bundle = self.bundles[name]
        document = document or path
        try:
            v = self.verifier.verify(document, bundle, as_party)
        except TrustAnchorError as e:
            self._fail(title, expect.describe(), e)
        details: list[str] = []
        for c in v.checks:
            if c.status in (CheckStatus.INVALID, CheckStatus.ERROR) or c.warning:
                details.append(f"{c.name}: {c.message}")
        if not details:
            details.append(v.check("anchored").message)
            details.append(v.check("recognition").message)
        if explain is not None and (extra := explain(v)):
            details.append(extra)
        self._record(title, expect.describe(), describe_verdict(v), expect.matches(v), details, v)
        return v

    def _border(self) -> None:
        self._begin(
            "At the Thai border: TH verifies what SG issued",
            "Each verification checks integrity, inclusion, anchoring, document status, signature, "
            "certificate chain, CA status and recognition, all read at one block.",
        )
        for name in docs.PERMITS:
            species = docs.read_field(self.ws.documents / name, "specimens.0.scientificName")
            self._verify(f"TH verifies CITES permit {name} ({species})", name, VALID)
        self._verify(
            "TH verifies the ePhyto SPS certificate (XML, canonical XML 2.0); the real sample names "
            "Ecuador (EC) as importing country, which its profile reads as its destination",
            docs.SPS_XML,
            Expect(Decision.VALID, warning=("terms", "NOT_DESTINATION")),
        )
        self._verify("TH verifies the PDF attachment (hashed byte for byte)", docs.SPS_PDF, VALID)
        self._verify(f"TH verifies certificate of origin {docs.SG_ORIGIN}", docs.SG_ORIGIN, VALID)
        reformatted = self.ws.reformatted_copy(docs.PERMITS[2], f"reformatted-{docs.PERMITS[2]}")
        self._verify(
            f"TH verifies {reformatted.name}: same permit, keys reordered and re-indented (RFC 8785 "
            "canonical JSON)",
            docs.PERMITS[2],
            VALID,
            document=reformatted,
        )
        self._verify(
            "MY verifies SG's certificate of origin (MY recognizes SG for certificates of origin)",
            docs.SG_ORIGIN,
            VALID,
            as_party="MY",
        )
        self._verify(
            "MY verifies an SG CITES permit (MY does not recognize SG for CITES permits)",
            docs.PERMITS[2],
            Expect(Decision.INVALID, ("recognition", "NOT_RECOGNIZED"), also=(("terms", "NOT_DESTINATION"),)),
            as_party="MY",
        )

    def _consumption(self) -> None:
        name = docs.PERMITS[0]
        self._begin(
            "One-time use: TH consumes the arowana permit at import",
            "A permit covers one shipment: the importing party marks it used on chain.",
        )
        _, bundle = self.bundles[name]
        border = self.agencies["TH/border"]
        proof, opening = DocumentProof.of(bundle), Opening.of(bundle)
        title = f"TH's border service consumes {name} (destined to TH) as the consignment clears customs"
        try:
            r = self.reg.documents.consume(border.account, proof, opening)
        except TrustAnchorError as e:
            self._fail(title, "consumed by TH", e)
        state = self.reg.documents.document(proof.issuer, proof.root, proof.leaf)["state"]
        self._record(
            title,
            "consumed by TH",
            f"consumed in block {r.block_number} by consumer account {border.spec}",
            bool(state["consumedAt"]),
            [f"transaction {r.tx_hash}", "the consumer account can do nothing else: it is no admin"],
        )
        title = "Someone tries to use the same permit for a second shipment"
        expected = "rejected: DocumentAlreadyConsumed"
        try:
            r = self.reg.documents.consume(border.account, proof, opening)
        except ContractRevert as e:
            self._record(
                title, expected, f"rejected: {e.error}", e.error == "DocumentAlreadyConsumed", [str(e)]
            )
        except TrustAnchorError as e:
            self._record(title, expected, f"error: {e}", False)
        else:
            self._record(title, expected, f"accepted in block {r.block_number}", False)
        self._verify(
            f"TH verifies {name} again", name, Expect(Decision.INVALID, ("document_status", "CONSUMED"))
        )

    def _attempt(
        self, title: str, error: str, action: Callable[[], object], details: Sequence[str] = ()
    ) -> None:
        """A step whose transaction the registry must refuse with the custom error `error`."""
        expected = f"rejected: {error}"
        try:
            r = action()
        except ContractRevert as e:
            self._record(title, expected, f"rejected: {e}", e.error == error, [*details, str(e)])
        except TrustAnchorError as e:
            self._record(title, expected, f"error: {e}", False, details)
        else:
            block = getattr(r, "block_number", "?")
            self._record(title, expected, f"accepted in block {block}", False, details)

    def _partial_use(self) -> None:
        name = docs.PERMITS[1]
        path, bundle = self.bundles[name]
        quantity, unit = bundle.terms.quantity or 0, bundle.terms.unit or "units"
        self._begin(
            f"Partial shipments: {quantity} {unit} on one permit, endorsed shipment by shipment",
            "CITES asks the importing authority to endorse the quantity actually traded; the permit commits "
            "to its total, and the registry refuses more than remains.",
        )
        border = self.agencies["TH/border"]
        proof, opening = DocumentProof.of(bundle), Opening.of(bundle)
        for amount in (100, 40):
            title = f"TH endorses a shipment of {amount} {unit} against {name}"
            try:
                r = self.reg.documents.endorse(border.account, proof, opening, amount)
            except TrustAnchorError as e:
                self._fail(title, f"{amount} {unit} endorsed", e)
            used = self.reg.documents.document(proof.issuer, proof.root, proof.leaf)["state"]["endorsed"]
            self._record(
                title,
                f"{amount} {unit} endorsed",
                f"endorsed in block {r.block_number}: {used} of {quantity} used, {quantity - used} remain",
                True,
                [f"transaction {r.tx_hash}"],
            )
        self._attempt(
            f"A third shipment of 20 {unit} is presented against {name}",
            "QuantityExceeded",
            lambda: self.reg.documents.endorse(border.account, proof, opening, 20),
            [f"only {quantity - 140} {unit} remain on the permit"],
        )
        self._verify(
            f"TH verifies {name} after two shipments",
            name,
            Expect(Decision.VALID),
            explain=lambda v: v.check("terms").message,
        )
        del path

    def _expiry(self) -> None:
        name = docs.EXPIRING_PERMIT
        self._begin(
            "An expired permit at the border",
            "Validity is judged at the chain's time, the same for every verifier, never at a laptop's clock.",
        )
        self._issue(
            "SG/nparks",
            (name,),
            "cites-permit",
            f"NParks issues CITES permit {name} (python skins), valid for 5 minutes",
            valid_for=300,
        )
        title = f"The chain's clock moves forward {CLOCK_STEP // 60} minutes: the shipment arrives late"
        try:
            t0, t1 = advance_time(self.reg.chain, CLOCK_STEP)
        except TrustAnchorError as e:
            self._fail(title, f"block time +{CLOCK_STEP} s", e)
        self._record(title, f"block time +{CLOCK_STEP} s", f"block time {t0} -> {t1}", t1 - t0 >= CLOCK_STEP)
        self._verify(f"TH verifies {name}", name, Expect(Decision.INVALID, ("terms", "EXPIRED")))
        _, bundle = self.bundles[name]
        border = self.agencies["TH/border"]
        self._attempt(
            f"TH's border service tries to consume the expired {name}",
            "DocumentExpired",
            lambda: self.reg.documents.consume(border.account, DocumentProof.of(bundle), Opening.of(bundle)),
        )

    def _hostile_member(self) -> None:
        self._begin(
            "A hostile member: what MY cannot do to SG's and TH's documents",
            "Every member is a potential adversary: it holds its own keys and reads all public chain data.",
        )
        name = docs.PERMITS[2]
        _, permit = self.bundles[name]
        my_border = self.agencies["MY/border"]
        self._attempt(
            f"MY's consumer account tries to use up {name}, which is destined to TH, with the full bundle",
            "NotDestinationConsumer",
            lambda: self.reg.documents.consume(
                my_border.account, DocumentProof.of(permit), Opening.of(permit)
            ),
            ["only a consumer account of the document's destination may consume it"],
        )
        sg = self.parties["SG"]
        my = self.parties["MY"]
        self._attempt(
            "MY tries to authorize one of its agencies under SG's registered CA",
            "NotYourCA",
            lambda: self.reg.trust.authorize_issuer(
                my.admin, Account.create().address, sg.fingerprint, 1 << 3
            ),
            [
                "CA ids are bound to the registering party; MY could only register SG's certificate as its "
                "own CA, which neither blocks SG nor lets MY sign as SG (audits flag it)"
            ],
        )
        original = self.bundles[docs.SG_ORIGIN][1]
        miti = self.agencies["MY/miti"]
        root = bytes.fromhex(original.batch.root[2:])
        title = (
            "MY's agency copies the root of SG's certificate of origin from the chain and anchors it itself"
        )
        try:
            r = self.reg.documents.anchor(
                miti.account, root, original.document.document_type_id, original.proof.tree_size
            )
        except TrustAnchorError as e:
            self._fail(title, "a separate batch of MY's", e)
        own = self.reg.documents.batch(original.anchor.issuer, root)
        self._record(
            title,
            "a separate batch of MY's; SG's batch unchanged",
            f"anchored in block {r.block_number} as MY's own batch; SG's batch still by {own['issuer']}",
            own["issuer"].lower() == original.anchor.issuer.lower(),
            ["batches are keyed by (issuer account, root): a copy can neither block nor take over SG's"],
        )
        forged = original.model_copy(
            update={
                "anchor": original.anchor.model_copy(
                    update={
                        "issuer": miti.account.address,
                        "party": "MY",
                        "transaction_hash": r.tx_hash,
                        "block_number": r.block_number,
                        "block_hash": r.block_hash,
                        "block_time": self.reg.chain.block_timestamp(r.block_number),
                    }
                )
            }
        )
        forged_path = self.ws.bundles / f"forged-MY-{docs.SG_ORIGIN}.bundle.json"
        forged.save(forged_path)
        self.bundles["forged"] = (self.bundles[docs.SG_ORIGIN][0], forged)
        self._verify(
            "TH verifies SG's certificate of origin with a bundle claiming MY's copy of the root",
            "forged",
            Expect(
                Decision.INVALID,
                ("signature", "SIGNATURE_INVALID"),
                also=(("certificate_chain", "CA_NOT_REGISTERED"),),
            ),
            explain=lambda v: (
                "SG's signature covers SG's party and issuer account, not MY's; and SG's "
                "certificates do not lead to MY's CA"
            ),
        )
        self._verify(f"TH verifies SG's genuine {docs.SG_ORIGIN}", docs.SG_ORIGIN, VALID)

    def _rejections(self) -> None:
        self._begin("Rejections at the border")
        name = docs.PERMITS[1]
        field = "specimens.0.quantity"
        before = docs.read_field(self.ws.documents / name, field)
        tampered = self.ws.tampered_copy(name, {field: before * 10}, f"tampered-{name}")
        self._verify(
            f"TH verifies {tampered.name}: quantity changed from {before} to {before * 10} skins, "
            "presented with the genuine bundle",
            name,
            Expect(Decision.INVALID, ("integrity", "DIGEST_MISMATCH")),
            document=tampered,
        )
        self.tampered = tampered
        self._verify(
            f"TH verifies the veterinary certificate {docs.VETERINARY} (TH does not recognize SG for "
            "veterinary certificates)",
            docs.VETERINARY,
            Expect(Decision.INVALID, ("recognition", "NOT_RECOGNIZED")),
        )

    def _key_compromise(self) -> None:
        self._begin(
            "Key compromise at MY: a CA revocation backdated between two certificates",
            "MY learns that its CA key leaked at some moment: documents anchored before stay valid, "
            "documents anchored after become invalid.",
        )
        early, late = docs.MY_ORIGINS
        b1 = self._issue(
            "MY/miti", (early,), "certificate-of-origin", f"MITI issues certificate of origin {early}"
        )[0]
        title = f"The chain's clock moves forward {CLOCK_STEP // 60} minutes (evm_increaseTime + evm_mine)"
        try:
            t0, t1 = advance_time(self.reg.chain, CLOCK_STEP)
        except TrustAnchorError as e:
            self._fail(title, f"block time +{CLOCK_STEP} s", e)
        self._record(
            title,
            f"block time +{CLOCK_STEP} s",
            f"block time {t0} -> {t1} (+{t1 - t0} s)",
            t1 - t0 >= CLOCK_STEP,
            [
                "time only moves forward: the local chain's clock now stays ahead of the wall clock; "
                "fine for a development chain, impossible on a real one"
            ],
        )
        b2 = self._issue(
            "MY/miti", (late,), "certificate-of-origin", f"MITI issues certificate of origin {late}"
        )[0]
        my = self.parties["MY"]
        effective = (b1.anchor.block_time + b2.anchor.block_time) // 2
        title = (
            f"MY revokes its CA for key compromise, effective {_t(effective)}: between the two anchorings "
            f"({_t(b1.anchor.block_time)} and {_t(b2.anchor.block_time)})"
        )
        expected = f"CA revoked, effective {_t(effective)} (backdated)"
        try:
            r = self.reg.trust.revoke_ca(my.admin, my.fingerprint, effective, reason_code("key-compromise"))
        except TrustAnchorError as e:
            self._fail(title, expected, e)
        last = self.reg.trust.ca_history(my.fingerprint)[-1]
        backdated = " (backdated)" if last.effective_at < last.recorded_at else ""
        self._record(
            title,
            expected,
            f"CA {last.status.name.lower()}, effective {_t(last.effective_at)}{backdated}",
            last.status is Status.REVOKED and last.effective_at == effective and bool(backdated),
            [f"recorded at {_t(last.recorded_at)} in block {r.block_number}"],
        )
        self._verify(
            f"TH verifies {early}, anchored before the compromise",
            early,
            Expect(Decision.VALID, warning=("ca_status", "CA_REVOKED_LATER")),
        )
        self._verify(
            f"TH verifies {late}, anchored after it",
            late,
            Expect(Decision.INVALID, ("ca_status", "CA_REVOKED")),
        )

    def _amendment(self) -> None:
        self._begin(
            "An amended certificate supersedes the original",
            "The exporter's gross weight was wrong: Singapore Customs issues an amendment and points the "
            "original to it on chain.",
        )
        original = self.bundles[docs.SG_ORIGIN][1]
        amended = self._issue(
            "SG/customs",
            (docs.SG_ORIGIN_AMENDED,),
            "certificate-of-origin",
            f"Singapore Customs issues the amended certificate {docs.SG_ORIGIN_AMENDED}",
        )[0]
        amended = amended.model_copy(
            update={
                "supersedes": Supersedes(
                    issuer=original.anchor.issuer, root=original.batch.root, leaf=original.leaf.hash
                )
            }
        )
        path = self.bundles[docs.SG_ORIGIN_AMENDED][0]
        amended.save(self.ws.bundle_path(path))  # the amendment's bundle names what it replaces
        self.bundles[docs.SG_ORIGIN_AMENDED] = (path, amended)
        customs = self.agencies["SG/customs"]
        title = f"Singapore Customs supersedes {docs.SG_ORIGIN} by the amendment"
        try:
            r = self.reg.documents.supersede(
                customs.account, DocumentProof.of(original), DocumentProof.of(amended)
            )
        except TrustAnchorError as e:
            self._fail(title, "superseded", e)
        op = DocumentProof.of(original)
        d = self.reg.documents.document(op.issuer, op.root, op.leaf)
        self._record(
            title,
            "superseded, pointing to the amendment",
            f"superseded in block {r.block_number}",
            bool(d["state"]["supersededAt"]) and "0x" + bytes(d["successorLeaf"]).hex() == amended.leaf.hash,
            [f"transaction {r.tx_hash}"],
        )
        successor = amended.leaf.hash
        self._verify(
            f"TH verifies the original {docs.SG_ORIGIN}",
            docs.SG_ORIGIN,
            Expect(Decision.INVALID, ("document_status", "SUPERSEDED"), message_contains=successor),
            explain=lambda v: (
                f"leaf {successor[:18]}… is the amendment {docs.SG_ORIGIN_AMENDED}"
                if successor in v.check("document_status").message
                else None
            ),
        )
        self._verify(f"TH verifies the amendment {docs.SG_ORIGIN_AMENDED}", docs.SG_ORIGIN_AMENDED, VALID)

    # ------------------------------------------------------------------ afterwards

    def _hand_commands(self) -> None:
        """Verifications a person can repeat by hand; expectations as of the end of the demo."""
        offline = [c for c in self.result.commands if c.options]  # the offline one goes last
        self.result.commands = [c for c in self.result.commands if not c.options]
        wanted = [
            ("orchid permit", docs.PERMITS[2], None, "TH", "VALID"),
            ("crocodile skin permit", docs.PERMITS[1], None, "TH", "VALID"),
            ("tampered copy of the crocodile skin permit", docs.PERMITS[1], "tampered", "TH", "INVALID (integrity: DIGEST_MISMATCH)"),
            ("consumed arowana permit", docs.PERMITS[0], None, "TH", "INVALID (document_status: CONSUMED)"),
            ("ePhyto SPS certificate", docs.SPS_XML, None, "TH", "VALID"),
            ("veterinary certificate", docs.VETERINARY, None, "TH", "INVALID (recognition: NOT_RECOGNIZED)"),
            ("MY certificate anchored before the compromise", docs.MY_ORIGINS[0], None, "TH",
             "VALID with warning (ca_status: CA_REVOKED_LATER)"),
            ("MY certificate anchored after it", docs.MY_ORIGINS[1], None, "TH", "INVALID (ca_status: CA_REVOKED)"),
            ("superseded certificate of origin", docs.SG_ORIGIN, None, "TH", "INVALID (document_status: SUPERSEDED)"),
            ("its amendment", docs.SG_ORIGIN_AMENDED, None, "TH", "VALID"),
        ]  # fmt: skip
        for description, name, variant, party, expected in wanted:
            if name not in self.bundles:
                continue
            path, _ = self.bundles[name]
            if variant == "tampered":
                if self.tampered is None:
                    continue
                path = self.tampered
            self.result.commands.append(
                HandCommand(
                    description, str(path), str(self.ws.bundle_path(self.bundles[name][0])), party, expected
                )
            )
        self.result.commands += offline


def _terms_line(b: Bundle) -> str:
    t = b.terms
    parts = [f"destined to {t.destination}"] if t.destination else []
    if t.valid_until:
        parts.append(f"valid until {_t(t.valid_until)}")
    if t.quantity:
        parts.append(f"{t.quantity} {t.unit or 'units'}")
    return "terms committed in the leaf: " + ", ".join(parts)


def _t(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run_demo(config: Config, manifest_path: Path, reporter: Reporter) -> DemoResult:
    """Play the whole scenario; errors before it starts (chain, deployment) raise, later ones are steps."""
    return Scenario(config, manifest_path, reporter).run()


__all__ = ["Scenario", "run_demo"]
