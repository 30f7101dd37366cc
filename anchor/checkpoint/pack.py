"""Trust packs: a witnessed checkpoint with the trust state it commits to, checked against pinned witnesses.

A verifier pins, while it is connected, the witness accounts of every member party and the governance
threshold (``Pins``). A pack is accepted when at least that many parties co-signed its checkpoint with
keys that are both pinned and still witness keys in the state the checkpoint commits to (so an old key
stops counting as soon as a witnessed checkpoint shows it revoked); when its trust state hashes to the
checkpoint's trust root; and when its event log extends the last checkpoint the verifier accepted. The
pins then roll forward to the pack's state: keys rotate only through witnessed checkpoints.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..audit.snapshot import Snapshot
from ..errors import CheckpointError
from .note import Checkpoint, SignedCheckpoint
from .state import TRUST_SECTIONS, TrustState, trust_map, trust_snapshot
from .tlog import verify_consistency

MEDIA_TYPE = "application/vnd.trustanchor.trust-pack.v1+json"
PINS_MEDIA_TYPE = "application/vnd.trustanchor.witness-pins.v1+json"
MAX_PACK = 64 * 1024 * 1024
_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Consistency:
    """An RFC 9162 consistency proof from an earlier checkpoint (its size and event root) to the pack's."""

    from_size: int
    from_root: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class TrustPack:
    signed: SignedCheckpoint
    trust: TrustState
    consistency: tuple[Consistency, ...] = ()

    @property
    def checkpoint(self) -> Checkpoint:
        return self.signed.checkpoint

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "mediaType": MEDIA_TYPE,
                    "checkpoint": self.signed.text(),
                    "trust": self.trust,
                    "consistency": [
                        {
                            "fromSize": c.from_size,
                            "fromRoot": c.from_root.hex(),
                            "proof": [p.hex() for p in c.proof],
                        }
                        for c in self.consistency
                    ],
                },
                sort_keys=True,
                separators=(",", ":"),
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> TrustPack:
        if len(data) > MAX_PACK:
            raise CheckpointError(f"a trust pack is at most {MAX_PACK // (1024 * 1024)} MiB")
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise CheckpointError("not a trust pack: not JSON") from None
        if not isinstance(obj, dict) or obj.get("mediaType") != MEDIA_TYPE:
            raise CheckpointError(f"not a trust pack: mediaType is not {MEDIA_TYPE}")
        if set(obj) != {"mediaType", "checkpoint", "trust", "consistency"}:
            raise CheckpointError("a trust pack has exactly mediaType, checkpoint, trust and consistency")
        if not isinstance(obj["checkpoint"], str):
            raise CheckpointError("trust pack checkpoint must be a signed note (text)")
        signed = SignedCheckpoint.parse(obj["checkpoint"])
        trust = obj["trust"]
        if (
            not isinstance(trust, dict)
            or set(trust) != set(TRUST_SECTIONS)
            or not all(
                isinstance(v, dict) and all(isinstance(k, str) and isinstance(t, str) for k, t in v.items())
                for v in trust.values()
            )
        ):
            raise CheckpointError(
                f"trust pack trust state must map each of {', '.join(TRUST_SECTIONS)} to entities"
            )
        proofs = obj["consistency"]
        if not isinstance(proofs, list) or len(proofs) > 1024:
            raise CheckpointError("trust pack consistency must be a list of at most 1024 proofs")
        consistency = []
        for c in proofs:
            try:
                if set(c) != {"fromSize", "fromRoot", "proof"} or len(c["proof"]) > 128:
                    raise ValueError
                consistency.append(
                    Consistency(
                        _positive(c["fromSize"]), _hash(c["fromRoot"]), tuple(_hash(p) for p in c["proof"])
                    )
                )
            except (ValueError, TypeError):
                raise CheckpointError(
                    "a trust pack consistency proof is {fromSize, fromRoot, proof[]}"
                ) from None
        return cls(signed, trust, tuple(consistency))

    @classmethod
    def load(cls, path: Path | str) -> TrustPack:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise CheckpointError(f"cannot read trust pack {path}: {e.strerror or e}") from None
        try:
            return cls.from_json(data)
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}") from None


def _positive(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError
    return value


def _hash(value: object) -> bytes:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise ValueError
    return bytes.fromhex(value)


# ---------------------------------------------------------------------------------------------- pins


@dataclass(frozen=True)
class Pins:
    """The witness keys and threshold a verifier trusts, and the last checkpoint it accepted."""

    chain_id: int
    trust_registry: str
    document_registry: str
    threshold: int
    witnesses: dict[str, tuple[str, ...]]  # member party -> witness accounts (lowercase)
    size: int = 0
    root: bytes = b""
    block: int = 0
    block_time: int = 0

    @classmethod
    def of(cls, snapshot: Snapshot, checkpoint: Checkpoint, *, accepted: bool = True) -> Pins:
        """The pins a trusted view of `snapshot` (at `checkpoint`) gives: its member parties' witness keys;
        with `accepted`, `checkpoint` is also the one later packs must extend (else none is yet)."""
        return cls(
            checkpoint.chain_id,
            checkpoint.trust_registry,
            checkpoint.document_registry,
            snapshot.threshold,
            {pid: tuple(p.witnesses) for pid, p in sorted(snapshot.parties.items()) if p.member},
            *(
                (checkpoint.size, checkpoint.root, checkpoint.block, checkpoint.block_time)
                if accepted
                else ()
            ),
        )

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "mediaType": PINS_MEDIA_TYPE,
                    "chainId": self.chain_id,
                    "trustRegistry": self.trust_registry,
                    "documentRegistry": self.document_registry,
                    "threshold": self.threshold,
                    "witnesses": {p: list(w) for p, w in self.witnesses.items()},
                    "checkpoint": {
                        "size": self.size,
                        "root": self.root.hex(),
                        "block": self.block,
                        "blockTime": self.block_time,
                    },
                },
                indent=2,
            )
            + "\n"
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Pins:
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(
                f"no pinned witness keys at {path}: run `trustanchor pack pin` once while connected"
            ) from None
        except (OSError, ValueError) as e:
            raise CheckpointError(f"pinned witness keys {path} are unreadable: {e}") from None
        try:
            if obj["mediaType"] != PINS_MEDIA_TYPE:
                raise ValueError
            cp = obj["checkpoint"]
            witnesses = {str(p): tuple(str(a) for a in w) for p, w in obj["witnesses"].items()}
            if not all(_ADDRESS.fullmatch(a) for w in witnesses.values() for a in w):
                raise ValueError
            return cls(
                int(obj["chainId"]),
                str(obj["trustRegistry"]),
                str(obj["documentRegistry"]),
                int(obj["threshold"]),
                witnesses,
                int(cp["size"]),
                bytes.fromhex(cp["root"]),
                int(cp["block"]),
                int(cp["blockTime"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise CheckpointError(f"{path} is not a witness pins file") from None


# ---------------------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class PackVerdict:
    """Whether a pack may be relied on, with the code a verdict reports when it may not."""

    ok: bool
    code: str
    message: str
    checkpoint: Checkpoint
    witnesses: tuple[str, ...] = ()  # parties whose co-signature counted
    snapshot: Snapshot | None = field(default=None, compare=False)
    pins: Pins | None = None  # the pins to keep after accepting this pack

    def keep_pins(self, pins: Pins, path: Path) -> bool:
        """Save the pins this accepted pack gives over `pins` (kept at `path`) if it is newer: keys rotate
        only through witnessed checkpoints, and the next pack must extend this one. True if saved."""
        if not self.ok or self.pins is None or self.checkpoint.size <= pins.size:
            return False
        self.pins.save(path)
        return True


def verify_pack(pack: TrustPack, pins: Pins, *, min_witnesses: int | None = None) -> PackVerdict:
    """Check `pack` against `pins` (age is the caller's, who knows the time: see ``PackVerdict``)."""
    cp = pack.checkpoint

    def no(code: str, message: str) -> PackVerdict:
        return PackVerdict(False, code, message, cp)

    if (cp.chain_id, cp.trust_registry, cp.document_registry) != (
        pins.chain_id,
        pins.trust_registry,
        pins.document_registry,
    ):
        return no(
            "WRONG_TRUST_PACK",
            f"the trust pack is for {cp.origin}, not the trusted "
            f"trustanchor/{pins.chain_id}/{pins.trust_registry}/{pins.document_registry}",
        )
    if trust_map(pack.trust).root() != cp.trust_root:
        return no(
            "TRUST_STATE_MISMATCH", "the pack's trust state does not hash to its checkpoint's trust root"
        )
    try:
        snapshot = trust_snapshot(pack.trust)
    except Exception as e:
        return no("TRUST_STATE_MISMATCH", f"the pack's trust state is not readable ({type(e).__name__})")
    if (snapshot.block, snapshot.block_hash.lower(), snapshot.block_time) != (
        cp.block,
        cp.block_hash,
        cp.block_time,
    ):
        return no("TRUST_STATE_MISMATCH", "the pack's trust state is not at its checkpoint's block")
    needed = max(1, min_witnesses if min_witnesses is not None else pins.threshold)
    counted = []
    for party, pinned in sorted(pins.witnesses.items()):
        now_keys = set(snapshot.parties[party].witnesses) if party in snapshot.parties else set()
        for c in pack.signed.cosignatures:
            if (
                c.party == party
                and c.witness in pinned
                and c.witness in now_keys
                and c.signer(cp) == c.witness
            ):
                counted.append(party)
                break
    if len(counted) < needed:
        return no(
            "INSUFFICIENT_WITNESSES",
            f"{len(counted)} of the {needed} member parties needed co-signed checkpoint {cp.size} with a "
            f"pinned witness key{': ' + ', '.join(counted) if counted else ''}",
        )
    if pins.size:
        if cp.size < pins.size:
            return no(
                "ROLLED_BACK_CHECKPOINT",
                f"the pack's checkpoint has {cp.size} events, older than the {pins.size} already accepted here",
            )
        if cp.size == pins.size:
            if cp.root != pins.root:
                return no(
                    "FORKED_CHECKPOINT",
                    f"two different event logs of {cp.size} events: the pack's and the pinned one",
                )
        else:
            proof = next(
                (c for c in pack.consistency if c.from_size == pins.size and c.from_root == pins.root), None
            )
            if proof is None:
                return no(
                    "NO_CONSISTENCY_PROOF",
                    f"the pack does not prove that its log extends the checkpoint of {pins.size} events accepted here",
                )
            if not verify_consistency(pins.size, cp.size, pins.root, cp.root, proof.proof):
                return no(
                    "FORKED_CHECKPOINT",
                    f"the pack's event log does not extend the checkpoint of {pins.size} events accepted here",
                )
    return PackVerdict(
        True,
        "WITNESSED",
        f"checkpoint {cp.size} at block {cp.block} co-signed by {', '.join(counted)}",
        cp,
        tuple(counted),
        snapshot,
        replace(Pins.of(snapshot, cp), threshold=max(snapshot.threshold, 1)),
    )
