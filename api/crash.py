"""Test-only fault injection: TRUSTANCHOR_CRASH_AT=point[,point...] makes the process SIGKILL itself there.

The crash-recovery tests start a real `trustanchor serve` with this variable to die at a precise moment
of intake or anchoring, then restart it without the variable and check what recovery did. Unset (the
normal case) every `hit` is a set lookup that finds nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "TRUSTANCHOR_CRASH_AT"

POINTS = frozenset(
    {
        "intake_before_commit",  # documents digested, not yet committed: the client gets no answer
        "intake_after_commit",  # committed, response not yet sent
        "batch_signed",  # root signed and transaction signed, batch not yet persisted
        "batch_persisted",  # batch and raw transaction persisted, not yet sent
        "after_send",  # transaction sent, not yet recorded as sent
        "before_receipt_record",  # receipt seen, anchoring not yet recorded
    }
)


class CrashPoints:
    def __init__(self, spec: str | None) -> None:
        names = {p.strip() for p in (spec or "").split(",") if p.strip()}
        unknown = names - POINTS
        if unknown:
            raise ValueError(f"{ENV}: unknown crash point(s) {', '.join(sorted(unknown))}")
        self._armed = frozenset(names)

    @classmethod
    def from_env(cls) -> CrashPoints:
        return cls(os.environ.get(ENV))

    @property
    def armed(self) -> frozenset[str]:
        return self._armed

    def hit(self, point: str) -> None:
        if point in self._armed:
            os.kill(os.getpid(), signal.SIGKILL)
