"""The eight checks of a verification, each a small pure function returning one Check."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ..bundle import Bundle
from ..cacert import ca_id
from ..deploy import party_code
from ..doctypes import names_of
from ..errors import PKIError
from ..issuing.canonical import Digest
from ..issuing.leaf import Terms, leaf_hash
from ..issuing.merkle import verify_inclusion
from ..issuing.signing import validate_chain as _validate_chain
from ..issuing.signing import verify_signature
from ..reasons import reason_name
from .chainview import ChainView
from .model import Check, CheckStatus

V, INV, E = CheckStatus.VALID, CheckStatus.INVALID, CheckStatus.ERROR
_ZERO = "0x" + "00" * 20
STATUS_NAMES = {0: "unregistered", 1: "active", 2: "suspended", 3: "revoked"}


@lru_cache(maxsize=4096)
def _t(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _b(h: str) -> bytes:
    return bytes.fromhex(h[2:])


def integrity(bundle: Bundle, digest: Digest | None, error: str | None) -> Check:
    n = "integrity"
    if digest is None:
        return Check(n, INV, "DOCUMENT_UNREADABLE", error or "the document could not be read")
    d = bundle.document
    if digest.canonicalization != d.canonicalization:
        return Check(
            n, INV, "CANONICALIZATION_MISMATCH",
            f"the bundle says {d.canonicalization} but the document was read as {digest.canonicalization}",
        )  # fmt: skip
    if "0x" + digest.digest.hex() != d.digest:
        return Check(
            n, INV, "DIGEST_MISMATCH", "the document differs from the one that was issued (digest mismatch)"
        )
    terms = bundle.terms.terms()
    if leaf_hash(d.document_type_id, _b(bundle.leaf.salt), digest.digest, terms) != _b(bundle.leaf.hash):
        return Check(
            n, INV, "LEAF_MISMATCH", "the leaf does not recompute from salt, digest, document type and terms"
        )
    return Check(n, V, "DIGEST_MATCH", f"the document's {d.canonicalization} digest matches the bundle")


def inclusion(bundle: Bundle) -> Check:
    p = bundle.proof
    ok = verify_inclusion(
        _b(bundle.leaf.hash), p.index, p.tree_size, [_b(h) for h in p.path], _b(bundle.batch.root)
    )
    if not ok:
        return Check(
            "inclusion",
            INV,
            "PROOF_INVALID",
            "the inclusion proof does not lead from the leaf to the batch root",
        )
    return Check(
        "inclusion", V, "PROOF_VALID", f"leaf {p.index} of a {p.tree_size}-document batch leads to the root"
    )


def anchored(
    bundle: Bundle, view: ChainView | None, trusted_chain_id: int, trusted_registry: str, confirmations: int
) -> Check:
    n = "anchored"
    a = bundle.anchor
    if a.chain_id != trusted_chain_id:
        return Check(
            n,
            INV,
            "WRONG_CHAIN",
            f"the bundle is for chain {a.chain_id}, not the trusted chain {trusted_chain_id}",
        )
    if a.registry.lower() != trusted_registry.lower():
        return Check(
            n,
            INV,
            "WRONG_REGISTRY",
            f"the bundle names registry {a.registry}, not the trusted {trusted_registry}",
        )
    if view is None:
        return Check(n, E, "CHAIN_UNAVAILABLE", "the chain could not be read")
    b = view.document["batch"]
    if b["issuer"] == _ZERO:
        return Check(
            n,
            INV,
            "ROOT_NOT_ANCHORED",
            f"issuer {a.issuer} never anchored this batch root on the trusted registry",
        )
    if b["size"] != bundle.proof.tree_size or b["docType"] != bundle.document.document_type_id:
        return Check(
            n, INV, "BATCH_MISMATCH",
            f"the anchored batch has {b['size']} documents of type {b['docType']}; the bundle claims "
            f"{bundle.proof.tree_size} of type {bundle.document.document_type_id}",
        )  # fmt: skip
    t = view.transaction
    if not t.mined:
        return Check(
            n, INV, "TRANSACTION_MISMATCH",
            f"transaction {a.transaction_hash}, which the bundle names, is not on the chain (reorg?)",
        )  # fmt: skip
    if not t.anchored_root:
        return Check(
            n, INV, "TRANSACTION_MISMATCH",
            f"transaction {a.transaction_hash}, which the bundle names, did not anchor this root on the trusted registry",
        )  # fmt: skip
    if t.block_number != a.block_number or (t.block_hash or "").lower() != a.block_hash.lower():
        return Check(
            n, INV, "BLOCK_MISMATCH",
            f"the root was anchored in block {t.block_number} ({t.block_hash}), not in block {a.block_number} ({a.block_hash}) as the bundle claims (reorg?)",
        )  # fmt: skip
    if a.block_time != b["anchoredAt"]:
        return Check(
            n, INV, "BLOCK_MISMATCH", "the root was anchored at another time than the bundle's block claims"
        )
    depth = view.block_number - a.block_number + 1
    if depth < confirmations:
        return Check(
            n, E, "INSUFFICIENT_CONFIRMATIONS", f"{depth} of {confirmations} required confirmations so far"
        )
    ctx = view.context
    iss = ctx["issuer"]
    if ctx["issuerStatusAtTime"] != 1:
        state = STATUS_NAMES.get(ctx["issuerStatusAtTime"], "?")
        return Check(
            n, INV, "ISSUER_NOT_AUTHORIZED", f"issuer account {a.issuer} was {state} when it anchored"
        )
    if not iss["docTypes"] >> bundle.document.document_type_id & 1:
        return Check(
            n,
            INV,
            "ISSUER_NOT_AUTHORIZED",
            f"issuer account {a.issuer} may not anchor {bundle.document.document_type}",
        )
    if not ctx["issuerPartyMemberAtTime"]:
        return Check(
            n,
            INV,
            "ISSUER_NOT_AUTHORIZED",
            f"party {party_code(iss['party'])} was not a member when it anchored",
        )
    if party_code(iss["party"]) != a.party:
        return Check(
            n,
            INV,
            "PARTY_MISMATCH",
            f"issuer {a.issuer} belongs to {party_code(iss['party'])}, not {a.party}",
        )
    return Check(
        n, V, "ANCHORED",
        f"anchored by {a.party} issuer {a.issuer} in block {a.block_number} at {_t(b['anchoredAt'])} ({depth} confirmation{'s' if depth != 1 else ''})",
    )  # fmt: skip


def document_status(view: ChainView | None) -> Check:
    n = "document_status"
    if view is None:
        return Check(n, E, "CHAIN_UNAVAILABLE", "the chain could not be read")
    d = view.document
    if d["batchRevocation"]["revokedAt"]:
        r = d["batchRevocation"]
        return Check(
            n,
            INV,
            "BATCH_REVOKED",
            f"the whole batch was revoked at {_t(r['revokedAt'])} ({reason_name(r['reason'])})",
        )
    s = d["state"]
    if s["revokedAt"]:
        return Check(
            n,
            INV,
            "DOCUMENT_REVOKED",
            f"the document was revoked at {_t(s['revokedAt'])} ({reason_name(s['revokeReason'])})",
        )
    if s["supersededAt"]:
        return Check(
            n, INV, "SUPERSEDED",
            f"the document was superseded at {_t(s['supersededAt'])} by leaf 0x{d['successorLeaf'].hex()} "
            f"of batch 0x{d['successorRoot'].hex()} (issuer {d['successorIssuer']})",
        )  # fmt: skip
    if s["consumedAt"]:
        return Check(
            n, INV, "CONSUMED",
            f"the document was already used: consumed by {party_code(s['consumedBy'])} at {_t(s['consumedAt'])}",
        )  # fmt: skip
    return Check(n, V, "ACTIVE", "not revoked, superseded or consumed")


@lru_cache(maxsize=4096)
def _signature_ok(cert_der: bytes, alg: str, sig: bytes, message: bytes) -> bool:
    # Pure function of its inputs: every document of a batch shares one signature check.
    return verify_signature(x509.load_der_x509_certificate(cert_der), alg, sig, message)


@lru_cache(maxsize=4096)
def _certificates(encoded: tuple[str, ...]) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """DER certificates of a bundle and their SHA-256 fingerprints (shared by a whole batch)."""
    ders = tuple(base64.b64decode(c) for c in encoded)
    return ders, tuple(hashlib.sha256(d).digest() for d in ders)


def signature(bundle: Bundle) -> Check:
    n = "signature"
    try:
        cert_der = _certificates(tuple(bundle.batch.certificates))[0][0]
        ok = _signature_ok(
            cert_der,
            bundle.batch.signature.alg,
            base64.b64decode(bundle.batch.signature.value),
            bundle.signed_message(),
        )
    except (ValueError, PKIError) as e:
        return Check(n, INV, "CERTIFICATE_UNREADABLE", f"the signing certificate cannot be used: {e}")
    if not ok:
        return Check(
            n,
            INV,
            "SIGNATURE_INVALID",
            "the batch signature does not verify with the signing certificate's key",
        )
    return Check(
        n, V, "SIGNATURE_VALID", f"{bundle.batch.signature.alg} signature over the batch root verifies"
    )


@lru_cache(maxsize=4096)
def _chain_result(leaf: bytes, intermediates: tuple[bytes, ...], anchor: bytes, at: int) -> str | None:
    """None if valid, else pyca's reason. Pure function of its inputs, so cached."""
    try:
        _validate_chain(
            x509.load_der_x509_certificate(leaf),
            [x509.load_der_x509_certificate(c) for c in intermediates],
            [x509.load_der_x509_certificate(anchor)],
            dt.datetime.fromtimestamp(at, dt.UTC),
        )
    except PKIError as e:
        return str(e)
    return None


def certificate_chain(bundle: Bundle, view: ChainView | None, extra_cas: Sequence[x509.Certificate]) -> Check:
    n = "certificate_chain"
    if view is None:
        return Check(n, E, "CHAIN_UNAVAILABLE", "the chain could not be read")
    bound = view.context["issuer"]["ca"]
    if view.context["issuer"]["status"] == 0:
        return Check(
            n,
            INV,
            "ISSUER_UNKNOWN",
            "the anchoring account is not a registered issuer, so no CA is bound to it",
        )
    ders, prints = _certificates(tuple(bundle.batch.certificates))
    # CA ids are bound to the registering party: a chain through a CA that another party registered
    # (even the same certificate) never matches the issuer's.
    party = party_code(view.context["issuer"]["party"])
    anchor = next((d for d, fp in zip(ders, prints, strict=True) if ca_id(party, fp) == bound), None)
    if anchor is None:
        extra = [c.public_bytes(Encoding.DER) for c in extra_cas]
        anchor = next((c for c in extra if ca_id(party, hashlib.sha256(c).digest()) == bound), None)
    if anchor is None:
        return Check(
            n, INV, "CA_NOT_REGISTERED",
            f"no certificate in the bundle (or the local CA store) is the CA 0x{bound.hex()[:16]}… the issuer is bound to",
        )  # fmt: skip
    anchored_at = view.document["batch"]["anchoredAt"]
    reason = _chain_result(ders[0], tuple(c for c in ders[1:] if c != anchor), anchor, anchored_at)
    if reason is not None:
        return Check(n, INV, "CHAIN_INVALID", f"at the anchoring time {_t(anchored_at)}: {reason}")
    return Check(
        n, V, "CHAIN_VALID",
        f"document-signing chain valid at {_t(anchored_at)} up to the registered CA 0x{bound.hex()[:16]}…",
    )  # fmt: skip


def _unknown_issuer(n: str, view: ChainView) -> Check | None:
    if view.context["issuer"]["status"] == 0:
        return Check(
            n, INV, "ISSUER_UNKNOWN", "the anchoring account is not a registered issuer, so it has no CA"
        )
    return None


def ca_status(view: ChainView | None) -> Check:
    n = "ca_status"
    if view is None:
        return Check(n, E, "CHAIN_UNAVAILABLE", "the chain could not be read")
    if unknown := _unknown_issuer(n, view):
        return unknown
    ctx = view.context
    ca: dict[str, Any] = ctx["ca"]
    at = view.document["batch"]["anchoredAt"]
    status = ctx["caStatusAtTime"]
    if status == 3:
        return Check(
            n,
            INV,
            "CA_REVOKED",
            f"the CA was revoked effective {_t(ca['revokedAt'])}, before the anchoring at {_t(at)}",
        )
    if status == 2:
        return Check(n, INV, "CA_SUSPENDED", f"the CA was suspended at the anchoring time {_t(at)}")
    if status != 1:
        return Check(n, INV, "CA_NOT_ACTIVE", f"the CA was not registered at the anchoring time {_t(at)}")
    if not ca["notBefore"] <= at <= ca["notAfter"]:
        return Check(
            n,
            INV,
            "CA_OUTSIDE_VALIDITY",
            f"the anchoring time {_t(at)} is outside the CA's registered validity",
        )
    if ca["status"] == 3:
        return Check(
            n, V, "CA_REVOKED_LATER",
            f"the CA was active when the document was anchored; it was revoked later, effective {_t(ca['revokedAt'])}",
            warning=True,
        )  # fmt: skip
    return Check(n, V, "CA_ACTIVE", f"the CA was active at the anchoring time {_t(at)}")


def recognition(bundle: Bundle, view: ChainView | None, verifier: str) -> Check:
    n = "recognition"
    if view is None:
        return Check(n, E, "CHAIN_UNAVAILABLE", "the chain could not be read")
    ctx = view.context
    if not ctx["verifierMember"]:
        return Check(n, INV, "VERIFIER_NOT_MEMBER", f"{verifier} is not a member party of the registry")
    if unknown := _unknown_issuer(n, view):
        return unknown
    issuer_party = party_code(ctx["issuer"]["party"])
    dt_name = bundle.document.document_type
    if not ctx["recognizedAtTime"]:
        allowed = names_of(ctx["ca"]["docTypes"])
        extra = (
            ""
            if bundle.document.document_type_id < 64
            and ctx["ca"]["docTypes"] >> bundle.document.document_type_id & 1
            else f" (the CA is registered only for {', '.join(allowed)})"
        )
        return Check(
            n,
            INV,
            "NOT_RECOGNIZED",
            f"{verifier} did not recognize {issuer_party}'s CA for {dt_name} when it was issued{extra}",
        )
    if not ctx["recognizedNow"]:
        return Check(
            n, V, "RECOGNITION_WITHDRAWN_SINCE",
            f"{verifier} recognized {issuer_party}'s CA for {dt_name} when it was issued, but no longer does",
            warning=True,
        )  # fmt: skip
    return Check(
        n, V, "RECOGNIZED", f"{verifier} recognizes {issuer_party}'s CA for {dt_name}, at issuance and now"
    )


def _when(ts: int) -> str:
    return _t(ts)


def terms(bundle: Bundle, view: ChainView | None, verifier: str) -> Check:
    """The terms the leaf commits to, at the chain's time (the verdict's read time)."""
    n = "terms"
    t = bundle.terms.terms()
    if t.open:
        return Check(n, V, "NO_TERMS", "the document commits to no destination, validity period or quantity")
    if view is None:
        return Check(n, E, "CHAIN_UNAVAILABLE", "the chain could not be read (its time decides validity)")
    now = view.block_time
    one_time = bool(view.one_time_types >> bundle.document.document_type_id & 1)
    if t.valid_from and now < t.valid_from:
        return Check(
            n,
            INV,
            "NOT_YET_VALID",
            f"the document is valid only from {_when(t.valid_from)} (chain time {_when(now)})",
        )
    if t.valid_until and now > t.valid_until:
        consumed = view.document["state"]["consumedAt"]
        used = (
            f"; it was used at {_when(consumed)}, within its validity"
            if consumed and consumed <= t.valid_until
            else ""
        )
        return Check(
            n,
            INV,
            "EXPIRED",
            f"the document expired at {_when(t.valid_until)} (chain time {_when(now)}){used}",
        )
    if t.destination and t.destination != verifier:
        if one_time:
            return Check(
                n, INV, "NOT_DESTINATION",
                f"the document is destined to {t.destination}, not {verifier}: only {t.destination} may accept and use it",
            )  # fmt: skip
        return Check(
            n, V, "NOT_DESTINATION",
            f"the document is destined to {t.destination}, not {verifier} (for information: {bundle.document.document_type} is not a one-time type)",
            warning=True,
        )  # fmt: skip
    if t.quantity:
        endorsed = int(view.document["state"].get("endorsed", 0))
        unit = f" {t.unit}" if t.unit else ""
        if endorsed >= t.quantity:
            return Check(
                n, INV, "QUANTITY_EXHAUSTED", f"all {t.quantity}{unit} were endorsed in earlier shipments"
            )
        return Check(
            n, V, "TERMS_MET",
            f"{t.quantity - endorsed} of {t.quantity}{unit} remain ({endorsed} endorsed so far){_validity(t)}",
        )  # fmt: skip
    return Check(n, V, "TERMS_MET", "within its terms" + _validity(t))


def _validity(t: Terms) -> str:
    parts = []
    if t.destination:
        parts.append(f"destined to {t.destination}")
    if t.valid_from or t.valid_until:
        parts.append(
            f"valid {_when(t.valid_from) if t.valid_from else 'from issue'} to {_when(t.valid_until) if t.valid_until else 'open'}"
        )
    return (": " + ", ".join(parts)) if parts else ""


def terms_summary(bundle: Bundle, view: ChainView | None) -> dict[str, Any]:
    """The terms for the verdict (CLI, JSON, API, page): null fields are open."""
    t = bundle.terms
    out: dict[str, Any] = t.model_dump(by_alias=True)
    if t.quantity:
        endorsed = int(view.document["state"].get("endorsed", 0)) if view else None
        out["endorsed"] = endorsed
        out["remaining"] = None if endorsed is None else max(t.quantity - endorsed, 0)
    return out
