"""From published checkpoints to trust packs: which checkpoints are witnessed, and the pack of the newest.

Everything here recomputes from the caller's own node: a published checkpoint counts only if this node's
replay gives the same body at its block, and a co-signature only if the state it commits to holds the
signing account as a witness of the party it names (and that party is a member).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..audit.snapshot import Snapshot
from ..audit.source import AuditSource
from ..errors import CheckpointError
from .note import Checkpoint, SignedCheckpoint
from .pack import Consistency, TrustPack
from .state import Checkpointer, TrustState
from .witness import Published


def counted_cosigners(snapshot: Snapshot, signed: SignedCheckpoint) -> list[str]:
    """Member parties with a valid co-signature by one of their witness accounts in `snapshot`."""
    parties = []
    for c in signed.cosignatures:
        if (
            c.party not in parties
            and snapshot.witness_party.get(c.witness) == c.party
            and snapshot.is_member(c.party)
            and c.signer(signed.checkpoint) == c.witness
        ):
            parties.append(c.party)
    return sorted(parties)


@dataclass(frozen=True)
class Reviewed:
    signed: SignedCheckpoint
    matches_chain: bool  # this node's replay gives the same checkpoint at its block
    cosigners: tuple[str, ...]  # member parties whose witness co-signed (per this node's state then)
    threshold: int
    trust: TrustState

    @property
    def witnessed(self) -> bool:
        return self.matches_chain and len(self.cosigners) >= self.threshold


def review(
    source: AuditSource, published: Published, *, min_witnesses: int | None = None
) -> tuple[list[Reviewed], Checkpointer]:
    """Every published checkpoint, oldest first, checked against this node; the checkpointer ends at the
    newest one's block (or stays empty when none is published)."""
    checkpointer = Checkpointer(source)
    out: list[Reviewed] = []
    head = source.head()
    for signed in sorted(published.notes(), key=lambda n: (n.checkpoint.block, n.checkpoint.size)):
        cp = signed.checkpoint
        if cp.block > head:
            out.append(Reviewed(signed, False, (), 0, {}))
            continue
        if checkpointer.checkpoint is None or checkpointer.checkpoint.block < cp.block:
            checkpointer.advance(cp.block)
        mine = checkpointer.checkpoint
        matches = mine == cp
        threshold = max(1, min_witnesses if min_witnesses is not None else checkpointer.snapshot.threshold)
        # Counted against this node's state at the block, match or not: an auditor needs to know whether a
        # checkpoint that disagrees with the chain carried enough signatures for verifiers to accept it.
        cosigners = tuple(counted_cosigners(checkpointer.snapshot, signed))
        out.append(Reviewed(signed, matches, cosigners, threshold, checkpointer.trust if matches else {}))
    return out, checkpointer


def newest_pack(source: AuditSource, published: Published, *, min_witnesses: int | None = None) -> TrustPack:
    """The trust pack of the newest witnessed checkpoint, with consistency proofs from every earlier
    witnessed one (so a verifier holding any of them can check the new one extends it)."""
    reviewed, checkpointer = review(source, published, min_witnesses=min_witnesses)
    witnessed = [r for r in reviewed if r.witnessed]
    if not witnessed:
        raise CheckpointError(
            f"no published checkpoint in {published.dir} is co-signed by enough member parties and matches "
            "this node's chain: run `trustanchor checkpoint witness` for more parties"
        )
    newest = witnessed[-1]
    cp = newest.signed.checkpoint
    consistency = tuple(
        Consistency(
            r.signed.checkpoint.size,
            r.signed.checkpoint.root,
            tuple(checkpointer.log.consistency_proof(r.signed.checkpoint.size, cp.size)),
        )
        for r in witnessed[:-1]
        if 0 < r.signed.checkpoint.size < cp.size
    )
    return TrustPack(newest.signed, newest.trust, consistency)


def checkpointer_at(source: AuditSource, checkpoint: Checkpoint) -> Checkpointer:
    """A checkpointer replayed to `checkpoint`'s block; CheckpointError if this node disagrees with it."""
    checkpointer = Checkpointer(source)
    if checkpoint.block > source.head():
        raise CheckpointError(f"this node has not reached block {checkpoint.block} of the checkpoint yet")
    mine = checkpointer.advance(checkpoint.block)
    if mine != checkpoint:
        raise CheckpointError(
            f"this node's registries at block {checkpoint.block} give another checkpoint than the pack's: "
            "another chain, or a forked checkpoint"
        )
    return checkpointer
