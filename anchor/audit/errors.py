"""Errors of the audit package (all TrustAnchorError, so the CLI prints them as one line)."""

from __future__ import annotations

from ..errors import TrustAnchorError


class AuditError(TrustAnchorError):
    """An audit could not be carried out as asked (bad block, bad checkpoint, unusable node)."""


class AuditQueryError(AuditError):
    """The question itself is malformed: not a block number, blocks in the wrong order, a block and a
    time at once (a usage error, as opposed to a block the chain does not have)."""


class BlockOutOfRange(AuditError):
    """The block (or time) asked about is not on this chain: before the deployment or past the head."""


class ResumePointError(AuditError):
    """A saved resume point (replayed snapshot) is unreadable, corrupt or belongs to another deployment."""


class ReorgDuringReplay(AuditError):
    """A block read during a replay was replaced before the replay finished."""

    def __init__(self, block: int, seen: str, now: str | None) -> None:
        self.block = block
        self.seen = seen
        self.now = now
        super().__init__(f"block {block} changed during the replay (hash {seen} is now {now or 'gone'})")
