"""Undo py_ecc's recursion limit of 100,000 (set when web3 is imported).

With that limit a deep recursion overflows the C stack and kills the process instead of raising
RecursionError. py-evm, the deepest user, asks for 12,288 frames (1,024 EVM call levels), and that is
what we allow.
"""

from __future__ import annotations

import sys

SAFE_RECURSION_LIMIT = 1024 * 12


def cap_recursion_limit() -> None:
    if sys.getrecursionlimit() > SAFE_RECURSION_LIMIT:
        sys.setrecursionlimit(SAFE_RECURSION_LIMIT)
