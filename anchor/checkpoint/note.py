"""A checkpoint: the registries' whole state at one block, as a C2SP signed note with witness co-signatures.

The body follows C2SP tlog-checkpoint: origin, tree size (the number of registry events), base64 event
tree root, then extension lines naming the block and the two authenticated map roots:

    trustanchor/<chain id>/<trust registry>/<document registry>
    <events>
    <base64 event root>
    block <number> <0x block hash>
    time <block timestamp>
    trust <base64 trust map root>
    state <base64 state map root>

Co-signatures follow a blank line, one per line, as C2SP signed-note signature lines:
``— <PARTY>.witness <base64(20-byte witness account || 65-byte secp256k1 signature r,s,v)>``. The
witness signs SHA-256("TrustAnchor/cosignature/v1\\0" || body); the account is recovered from the
signature (the address in the line only says which one to expect), so a line cannot name a key it
was not made with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError

from ..errors import CheckpointError

COSIGN_DOMAIN = b"TrustAnchor/cosignature/v1\x00"
_ORIGIN = re.compile(r"trustanchor/([0-9]{1,20})/(0x[0-9a-f]{40})/(0x[0-9a-f]{40})")
_SIG_LINE = re.compile(r"\u2014 ([A-Z0-9]{2,8})\.witness ([A-Za-z0-9+/=]+)")
MAX_NOTE = 64 * 1024


@dataclass(frozen=True)
class Checkpoint:
    chain_id: int
    trust_registry: str  # lowercase 0x address
    document_registry: str
    size: int  # registry events so far
    root: bytes  # RFC 9162 root of the event log
    block: int
    block_hash: str  # lowercase 0x hash
    block_time: int
    trust_root: bytes
    state_root: bytes

    @property
    def origin(self) -> str:
        return f"trustanchor/{self.chain_id}/{self.trust_registry}/{self.document_registry}"

    def body(self) -> str:
        b64 = base64.b64encode
        return (
            f"{self.origin}\n{self.size}\n{b64(self.root).decode()}\n"
            f"block {self.block} {self.block_hash}\ntime {self.block_time}\n"
            f"trust {b64(self.trust_root).decode()}\nstate {b64(self.state_root).decode()}\n"
        )

    def digest(self) -> bytes:
        return hashlib.sha256(self.body().encode()).digest()

    def signing_hash(self) -> bytes:
        return hashlib.sha256(COSIGN_DOMAIN + self.body().encode()).digest()

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) != 8 or lines[-1] != "":
            raise CheckpointError("a checkpoint body has exactly 7 lines, each ending in a newline")
        origin = _ORIGIN.fullmatch(lines[0])
        if origin is None:
            raise CheckpointError(
                f"checkpoint origin {lines[0][:100]!r} is not trustanchor/<chain>/<trust>/<docs>"
            )
        block = lines[3].split(" ")
        if len(block) != 3 or block[0] != "block" or not re.fullmatch(r"0x[0-9a-f]{64}", block[2]):
            raise CheckpointError("checkpoint line 4 must be 'block <number> <0x block hash>'")
        time, trust, state = lines[4].split(" "), lines[5].split(" "), lines[6].split(" ")
        if [time[0], trust[0], state[0]] != ["time", "trust", "state"] or {
            len(time),
            len(trust),
            len(state),
        } != {2}:
            raise CheckpointError("checkpoint lines 5-7 must be 'time <t>', 'trust <root>', 'state <root>'")
        checkpoint = cls(
            int(origin.group(1)),
            origin.group(2),
            origin.group(3),
            _uint(lines[1], "size"),
            _root(lines[2], "event root"),
            _uint(block[1], "block"),
            block[2],
            _uint(time[1], "time"),
            _root(trust[1], "trust root"),
            _root(state[1], "state root"),
        )
        if checkpoint.body() != body:
            raise CheckpointError("checkpoint body is not in canonical form")
        return checkpoint


def _uint(text: str, what: str) -> int:
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", text):
        raise CheckpointError(f"checkpoint {what} {text[:30]!r} is not a decimal integer")
    return int(text)


def _root(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise CheckpointError(f"checkpoint {what} is not a base64 32-byte hash")
    return raw


@dataclass(frozen=True)
class Cosignature:
    party: str
    witness: str  # lowercase 0x address the signature must recover to
    signature: bytes  # 65 bytes: r, s, v in {0, 1}

    def line(self) -> str:
        payload = bytes.fromhex(self.witness[2:]) + self.signature
        return f"\u2014 {self.party}.witness {base64.b64encode(payload).decode()}"

    def signer(self, checkpoint: Checkpoint) -> str | None:
        """The account that made this signature over `checkpoint`, if it is the one the line names."""
        try:
            public = keys.Signature(self.signature).recover_public_key_from_msg_hash(
                checkpoint.signing_hash()
            )
        except (BadSignature, ValidationError, ValueError):
            return None
        address = public.to_checksum_address().lower()
        return address if address == self.witness else None


def cosign(checkpoint: Checkpoint, party: str, private_key: bytes) -> Cosignature:
    key = keys.PrivateKey(private_key)
    signature = key.sign_msg_hash(checkpoint.signing_hash()).to_bytes()
    return Cosignature(party, key.public_key.to_checksum_address().lower(), signature)


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    cosignatures: tuple[Cosignature, ...]

    def text(self) -> str:
        lines = sorted({c.line() for c in self.cosignatures})
        return self.checkpoint.body() + "\n" + "".join(line + "\n" for line in lines)

    def with_cosignature(self, cosignature: Cosignature) -> SignedCheckpoint:
        others = tuple(c for c in self.cosignatures if c.witness != cosignature.witness)
        return SignedCheckpoint(self.checkpoint, (*others, cosignature))

    @classmethod
    def parse(cls, text: str) -> SignedCheckpoint:
        if len(text) > MAX_NOTE:
            raise CheckpointError(f"a signed checkpoint is at most {MAX_NOTE} characters")
        body, sep, signatures = text.partition("\n\n")
        if not sep:
            raise CheckpointError("a signed checkpoint is a body, a blank line, then signature lines")
        checkpoint = Checkpoint.parse(body + "\n")
        cosignatures = []
        for line in signatures.split("\n"):
            if not line:
                continue
            m = _SIG_LINE.fullmatch(line)
            try:
                payload = base64.b64decode(m.group(2), validate=True) if m else b""
            except binascii.Error:
                payload = b""
            if m is None or len(payload) != 85:
                raise CheckpointError(f"not a witness signature line: {line[:80]!r}")
            cosignatures.append(Cosignature(m.group(1), "0x" + payload[:20].hex(), payload[20:]))
        return cls(checkpoint, tuple(cosignatures))
