"""Verifying with no node: the same nine checks, read from a witnessed trust pack and the bundle's status proof.

The pack's trust state answers what ``verificationContext`` answers online (the audit snapshot copies
the contracts' time queries line for line), the bundle's status proof answers what ``document`` and the
anchoring transaction's receipt answer, and the verdict is read "as of" the pack's checkpoint: its
block, its block time and its age. Nothing here opens a socket.
"""

from __future__ import annotations

import copy
import json
import os
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from eth_utils import keccak

from ..audit.ids import party_raw
from ..audit.snapshot import Snapshot
from ..audit.snapshot_codec import decode_state
from ..audit.views import document_view
from ..bundle import Bundle
from ..checkpoint.note import Checkpoint
from ..checkpoint.pack import PackVerdict, Pins, TrustPack, verify_pack
from ..checkpoint.status import StatusProofMismatch, check_status_proof
from ..deploy import Manifest
from ..errors import CheckpointError
from .chainview import AnchoringTransaction, ChainView
from .model import Check, CheckStatus, Decision, Verdict
from .verifier import _party, _verdict

_ZERO = "0x" + "00" * 20
# DocumentRegistry's Anchored(bytes32 indexed root, address indexed issuer, uint8 docType, uint32 size).
_ANCHORED_TOPIC = "0x" + keccak(b"Anchored(bytes32,address,uint8,uint32)").hex()
_Z32 = b"\x00" * 32


@dataclass(frozen=True)
class AsOf:
    """When an offline verdict's registry facts were true."""

    events: int
    block: int
    block_time: int
    age: int  # seconds between the checkpoint's block time and the verification
    witnesses: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "block": self.block,
            "blockTime": self.block_time,
            "ageSeconds": self.age,
            "witnesses": list(self.witnesses),
        }


class OfflineVerifier:
    """A verifier bound to one trust pack, checked once against the pinned witness keys."""

    def __init__(
        self,
        pack: TrustPack,
        pins: Pins,
        manifest: Manifest,
        *,
        max_age: int | None = 24 * 3600,
        min_witnesses: int | None = None,
        ca_certificates: Sequence[x509.Certificate] = (),
        clock: Callable[[], float] = _time.time,
    ) -> None:
        self.pack = pack
        self.manifest = manifest
        self.max_age = max_age
        self.ca_certificates = list(ca_certificates)
        self.clock = clock
        self.accepted: PackVerdict = verify_pack(pack, pins, min_witnesses=min_witnesses)
        self._anchored_topic = _ANCHORED_TOPIC

    @property
    def checkpoint(self) -> Checkpoint:
        return self.pack.checkpoint

    def verify(self, document: bytes | str | os.PathLike[str], bundle: Bundle, as_party: str) -> Verdict:
        party = _party(as_party)
        cp = self.checkpoint
        age = max(0, int(self.clock()) - cp.block_time)
        as_of = AsOf(cp.size, cp.block, cp.block_time, age, self.accepted.witnesses)
        a = self.accepted
        if not a.ok:
            return self._without(document, bundle, party, a.code, a.message, as_of)
        if self.max_age is not None and age > self.max_age:
            return self._without(
                document,
                bundle,
                party,
                "STALE_CHECKPOINT",
                f"the trust pack's checkpoint is {_span(age)} old, more than the {_span(self.max_age)} allowed",
                as_of,
            )
        root = bytes.fromhex(bundle.batch.root[2:])
        leaf = bytes.fromhex(bundle.leaf.hash[2:])
        if bundle.status is None:
            return self._without(
                document,
                bundle,
                party,
                "NO_STATUS_PROOF",
                f"the bundle carries no status proof for checkpoint {cp.size}: refresh it while connected "
                "(`trustanchor bundle refresh`)",
                as_of,
            )
        # Checked on every verification, not cached: keying a cache by the proof's content would cost as
        # much as checking it (measured: json.dumps + SHA-256 of a 2 KB proof ~0.2 ms).
        try:
            proven = check_status_proof(
                bundle.status, cp, bundle.anchor.issuer, root, leaf, self._anchored_topic
            )
        except StatusProofMismatch as e:
            verdict = self._without(document, bundle, party, "STATUS_PROOF_MISMATCH", str(e), as_of)
            verdict.checks = [
                Check(c.name, CheckStatus.INVALID, "STATUS_PROOF_MISMATCH", str(e))
                if c.name == "document_status"
                else c
                for c in verdict.checks
            ]
            verdict.verdict = Decision.INVALID
            return verdict
        except CheckpointError as e:
            return self._without(document, bundle, party, "STATUS_PROOF_NOT_CURRENT", str(e), as_of)
        assert a.snapshot is not None
        s = _with_entities(a.snapshot, proven.entities, bundle)
        claimed = bundle.anchor.transaction_hash.lower()
        transaction = AnchoringTransaction(
            mined=proven.anchored,
            anchored_root=proven.anchored and proven.transaction == claimed,
            block_number=proven.block_number,
            block_hash=proven.block_hash,
        )
        view = ChainView(
            cp.block,
            cp.block_hash,
            cp.block_time,
            document_view(s, bundle.anchor.issuer.lower(), root, leaf),
            context_view(
                s,
                bundle.anchor.issuer.lower(),
                bundle.document.document_type_id,
                party,
                bundle.anchor.block_time,
                cp.block_time,
            ),
            transaction,
            s.one_time_types,
        )
        verdict = _verdict(document, bundle, party, self.manifest, 1, self.ca_certificates, view, None)
        verdict.details["asOf"] = as_of.to_dict()
        return verdict

    def _without(
        self,
        document: bytes | str | os.PathLike[str],
        bundle: Bundle,
        party: str,
        code: str,
        why: str,
        as_of: AsOf,
    ) -> Verdict:
        verdict = _verdict(
            document, bundle, party, self.manifest, 1, self.ca_certificates, None, why, unavailable_code=code
        )
        verdict.details["asOf"] = as_of.to_dict()
        return verdict


def _with_entities(trust: Snapshot, entities: dict[str, str | None], bundle: Bundle) -> Snapshot:
    """The pack's trust snapshot plus the document's proven entities (a shallow copy: the trust part is shared)."""
    issuer = bundle.anchor.issuer.lower()
    keys = {
        "batches": f"{issuer}:{bundle.batch.root}",
        "documents": f"{issuer}:{bundle.batch.root}:{bundle.leaf.hash}",
        "usage": bundle.leaf.hash,
    }
    parsed = {
        section: ({keys[section]: json.loads(text)} if text is not None else {})
        for section, text in entities.items()
    }
    s = copy.copy(trust)  # dataclasses.replace would re-run __init__ over every field
    s.batches, s.documents, s.usage = decode_state(parsed["batches"], parsed["documents"], parsed["usage"])
    return s


def context_view(
    s: Snapshot, account: str, doc_type: int, verifier: str, time: int, now: int
) -> dict[str, Any]:
    """What ``TrustRegistry.verificationContext(account, docType, verifier, time)`` returns at block time `now`."""
    i = s.issuers.get(account)
    empty_issuer = {
        "party": b"\x00" * 8,
        "ca": _Z32,
        "docTypes": 0,
        "status": 0,
        "authorizedAt": 0,
        "revokedAt": 0,
    }
    empty_ca = {
        "party": b"\x00" * 8,
        "notBefore": 0,
        "notAfter": 0,
        "docTypes": 0,
        "status": 0,
        "registeredAt": 0,
        "revokedAt": 0,
    }
    out: dict[str, Any] = {
        "issuer": empty_issuer,
        "issuerStatusAtTime": 0,
        "issuerPartyMemberAtTime": False,
        "ca": empty_ca,
        "caStatusAtTime": 0,
        "recognizedAtTime": False,
        "recognizedNow": False,
        "verifierMember": s.is_member(verifier),
    }
    if i is None or not i.status:
        return out
    out["issuer"] = {
        "party": party_raw(i.party),
        "ca": i.ca,
        "docTypes": i.doc_types,
        "status": i.status,
        "authorizedAt": i.authorized_at,
        "revokedAt": i.revoked_at,
    }
    out["issuerStatusAtTime"] = s.issuer_status_at(account, time)
    out["issuerPartyMemberAtTime"] = s.is_member_at(i.party, time)
    c = s.cas.get(i.ca)
    if c is not None:
        out["ca"] = {
            "party": party_raw(c.party),
            "notBefore": c.not_before,
            "notAfter": c.not_after,
            "docTypes": c.doc_types,
            "status": c.status,
            "registeredAt": c.registered_at,
            "revokedAt": c.revoked_at,
        }
    out["caStatusAtTime"] = s.ca_status_at(i.ca, time)
    out["recognizedAtTime"] = s.recognizes_ca_at(verifier, i.ca, doc_type, time)
    out["recognizedNow"] = s.recognizes_ca_at(verifier, i.ca, doc_type, now)
    return out


def age_words(seconds: int) -> str:
    """An age as people say it: '3 h 20 min', '2 d 4 h', '45 s'."""
    d, rest = divmod(max(0, seconds), 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m} min"
    if m:
        return f"{m} min"
    return f"{s} s"


def _span(seconds: int) -> str:
    if seconds >= 86400 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def load_offline_verifier(
    pack_path: Path, pins_path: Path, manifest: Manifest, **kwargs: Any
) -> OfflineVerifier:
    """The pack and pins from files; CheckpointError naming the file if either is unreadable."""
    return OfflineVerifier(TrustPack.load(pack_path), Pins.load(pins_path), manifest, **kwargs)


__all__ = ["AsOf", "OfflineVerifier", "age_words", "context_view", "document_view", "load_offline_verifier"]
