"""Work that grows with a request's size runs off the event loop.

Parsing a JSON body, decoding base64 or canonicalizing a document costs time in proportion to its size
(a 4 MiB body takes tens of milliseconds). On the event loop that time is taken from every other
request, down to the liveness probe; in a worker thread the loop keeps answering. Small inputs stay
on the loop: for them the hop to a thread costs more than the work (verification of a typical permit
takes about 60 µs), and their cost is bounded by `INLINE_BYTES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

# Up to this many bytes of input, parsing or checking takes well under a millisecond.
INLINE_BYTES = 64 * 1024


async def sized(size: int, fn: Callable[..., T], *args: object) -> T:
    """fn(*args), on the event loop if `size` (the input's bytes) is small, else in a worker thread."""
    if size <= INLINE_BYTES:
        return fn(*args)
    return await run_in_threadpool(fn, *args)
