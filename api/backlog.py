"""The intake backlog: documents accepted and not yet anchored (nor failed), counted in memory.

Intake checks it on every submission, so it must not cost a COUNT(*) over the pending rows; the
batcher re-reads the true value from the store now and then, so any drift heals.
"""

from __future__ import annotations

import threading


class Backlog:
    def __init__(self, limit: int, value: int = 0) -> None:
        self.limit = limit
        self._value = value
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        return self._value

    def add(self, n: int) -> None:
        with self._lock:
            self._value += n

    def sub(self, n: int) -> None:
        with self._lock:
            self._value = max(0, self._value - n)

    def set(self, n: int) -> None:
        with self._lock:
            self._value = n

    def room(self) -> int:
        return max(0, self.limit - self._value)
