"""The demo's last act: TH's border post loses its connection and verifies from a witnessed trust pack.

Every party's witness recomputes the checkpoint from the chain and co-signs it; TH's border post, while
still connected, pins the witness keys, takes the trust pack and refreshes the bundles it expects; then
SG revokes a document, the node stops, and the border post verifies everything offline: the same
verdicts as online at the checkpoint, and the revoked document VALID *as of* the checkpoint, with its age.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from .._internal import anvil
from ..audit.source import AuditSource
from ..bundle import Bundle
from ..checkpoint.pack import Pins, verify_pack
from ..checkpoint.publish import newest_pack
from ..checkpoint.state import Checkpointer
from ..checkpoint.status import refreshed
from ..checkpoint.witness import Published, WitnessLedger, witness
from ..errors import TrustAnchorError
from ..reasons import reason_code
from ..registry import DocumentProof
from ..verify import Decision, Verdict
from ..verify.offline import OfflineVerifier, age_words
from . import documents as docs
from .chainprep import advance_time
from .model import Expect, HandCommand, describe_verdict
from .parties import PARTIES, AccountBook, ensure_witness

if TYPE_CHECKING:
    from .scenario import Scenario

REVOKED_AFTER_PACK = docs.SPS_PDF
LATER = 2 * 3600  # how long after the checkpoint the border post verifies


def offline_dir(s: Scenario) -> Path:
    # Per deployment: a redeployed registry starts a new event log, which old witness ledgers would refuse.
    return s.ws.root / "offline" / s.manifest.trust_registry.address.lower()


def border_offline(s: Scenario) -> None:
    s._begin(
        "The border post goes offline: verifying from a witnessed trust pack",
        "Each member party's witness recomputes the registries' checkpoint from the chain and co-signs it. "
        "TH's border post keeps the trust pack and refreshed bundles; then it loses its connection.",
    )
    base = offline_dir(s)
    book = AccountBook(s.ws.root / "accounts.json", s.config.chain.mnemonic)
    witnesses = {}
    for code in PARTIES:
        title = f"{code} gives its checkpoint witness an account (co-signs checkpoints, nothing on chain)"
        try:
            acct, o = ensure_witness(s.reg, s.parties[code], book)
        except TrustAnchorError as e:
            s._fail(title, f"witness of {code}", e)
        witnesses[code] = acct
        s._record(title, f"witness of {code}", o.actual, o.ok, o.details)
    source = AuditSource.from_chain(s.reg.chain, s.manifest)
    published = Published(base / "checkpoints")
    head = source.head()
    for code, acct in witnesses.items():
        title = f"{code}'s witness replays the registries from its node and co-signs the checkpoint"
        try:
            checkpointer = Checkpointer(source)
            cp = checkpointer.advance(head)
            ledger = WitnessLedger.load(base / "witness" / f"{acct.account.address.lower()}.json")
            done = witness(
                checkpointer, code, bytes(acct.account.key), acct.account.address, ledger, published
            )
        except TrustAnchorError as e:
            s._fail(title, "co-signed", e)
        signers = sorted({c.party for c in done.signed.cosignatures})
        s._record(
            title,
            "co-signed, extending what it signed before",
            f"checkpoint of {cp.size} events at block {cp.block} co-signed by {', '.join(signers)}",
            not done.evidence,
            [f"published in {done.path}"],
        )
    title = "TH's border post, still connected, pins the witness keys and takes the newest trust pack"
    try:
        pins_path = s.config.home / "offline" / "pins.json"
        checkpointer = Checkpointer(source)
        now_cp = checkpointer.advance(source.head())
        pins = Pins.of(checkpointer.snapshot, now_cp, accepted=False)
        pack = newest_pack(source, published)
        accepted = verify_pack(pack, pins)
        pack_path = s.config.home / "offline" / "trust-pack.json"
        pack_path.parent.mkdir(parents=True, exist_ok=True)
        pack_path.write_text(pack.to_json(), encoding="utf-8")
        accepted.keep_pins(pins, pins_path)
    except TrustAnchorError as e:
        s._fail(title, "a witnessed pack", e)
    cp = pack.checkpoint
    s._record(
        title,
        f"accepted: co-signed by at least {pins.threshold} parties",
        f"{accepted.code}: {accepted.message}",
        accepted.ok,
        [f"{pack_path} ({pack_path.stat().st_size:,} bytes), pins in {pins_path}"],
    )
    title = "TH's border post refreshes the bundles it holds with status proofs at that checkpoint"
    try:
        at = Checkpointer(source)
        at.advance(cp.block)
        fresh: dict[str, Bundle] = {}
        for name, (path, bundle) in s.bundles.items():
            fresh[name] = refreshed(at, bundle)
            fresh[name].save(s.ws.bundle_path(path))
    except TrustAnchorError as e:
        s._fail(title, "refreshed", e)
    s._record(title, "every bundle carries its status proof", f"{len(fresh)} bundles refreshed", True)
    online: dict[str, Verdict] = {
        name: s.verifier.verify(path, bundle, "TH") for name, (path, bundle) in s.bundles.items()
    }
    _, revoked = s.bundles[REVOKED_AFTER_PACK]
    title = f"SG revokes {REVOKED_AFTER_PACK} after the pack was made"
    try:
        r = s.reg.documents.revoke_document(
            s.agencies["SG/nparks"].account, DocumentProof.of(revoked), reason_code("superseded")
        )
    except TrustAnchorError as e:
        s._fail(title, "revoked", e)
    s._record(
        title, "revoked on chain", f"revoked in block {r.block_number}", True, [f"transaction {r.tx_hash}"]
    )
    s._verify(
        f"Online, TH sees {REVOKED_AFTER_PACK} revoked",
        REVOKED_AFTER_PACK,
        Expect(Decision.INVALID, ("document_status", "DOCUMENT_REVOKED")),
    )
    _, later = advance_time(s.reg.chain, LATER)
    stopped = _stop_node(s)
    # The border post's clock: the chain's, which the demo moved ahead of the wall clock.
    verifier = OfflineVerifier(pack, Pins.load(pins_path), s.manifest, max_age=24 * 3600, clock=lambda: later)
    for name, (path, _) in s.bundles.items():
        v = verifier.verify(path, fresh[name], "TH")
        want = online[name]
        ok = _codes(v) == _codes(want)
        s._record(
            f"Offline, TH verifies {name}",
            f"{describe_verdict(want)}, as online at the checkpoint",
            describe_verdict(v),
            ok,
            [_as_of(v)]
            if name != REVOKED_AFTER_PACK
            else [_as_of(v), "revoked after the checkpoint: the verdict says as of when"],
            v,
        )
    _restart_node(s, stopped)
    s.result.commands.append(
        HandCommand(
            f"offline, {REVOKED_AFTER_PACK} (revoked after the trust pack was made)",
            str(s.bundles[REVOKED_AFTER_PACK][0]),
            str(s.ws.bundle_path(s.bundles[REVOKED_AFTER_PACK][0])),
            "TH",
            "VALID as of the pack's checkpoint while it is under 24 h old, then INDETERMINATE (STALE_CHECKPOINT)",
            ("--offline",),
        )
    )


def _codes(v: Verdict) -> list[tuple[str, str, str]]:
    return [(c.name, c.status.value, c.code) for c in v.checks]


def _as_of(v: Verdict) -> str:
    a = v.details.get("asOf") or {}
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(a.get("blockTime", 0)))
    return (
        f"as of checkpoint {a.get('events')} (block {a.get('block')}, {stamp}, age {age_words(a.get('ageSeconds', 0))}), "
        f"witnessed by {', '.join(a.get('witnesses', []))}"
    )


def _stop_node(s: Scenario) -> bool:
    title = "TH's border post loses its connection: the chain node stops"
    if s.config.chain.backend != "anvil":
        s._record(
            title, "no node reachable", "the chain here is not this home's node: left running, not used", True
        )
        return False
    try:
        stopped = anvil.down(s.config)
    except TrustAnchorError as e:
        s._record(title, "no node reachable", f"not stopped: {e}; nothing below uses it", True)
        return False
    s._record(
        title, "no node reachable", "node stopped" if stopped else "no node of this home was running", True
    )
    return stopped


def _restart_node(s: Scenario, stopped: bool) -> None:
    if not stopped:
        return
    title = "The connection is back: the node restarts with its saved state"
    try:
        anvil.up(s.config)
        block = s.reg.chain.block_number()
    except TrustAnchorError as e:
        s._fail(title, "node answering", e)
    s._record(title, "node answering", f"node answering at block {block}", True)
