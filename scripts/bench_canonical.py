#!/usr/bin/env python3
"""Hostile XML is refused quickly, in process. One JSON object on stdout.

tests/test_canonical.py checks that each document below is refused (DTD, nesting, namespaces in scope);
how fast, which the tests used to assert with a 2 s wall-clock limit each, is measured here: a test
must not depend on the machine's speed or load. Each case is timed 3 times; the best is reported.
"""

from __future__ import annotations

import json
import sys
import time

from anchor.errors import DocumentError
from anchor.issuing.canonical import canonicalize

LIMIT_S = 2.0
_NAMESPACES = " ".join(f'xmlns:p{i}="urn:x:{i}"' for i in range(100_000))
CASES = {
    "billion-laughs": '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    + "]><r>&i;</r>",
    "external-dtd": '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd"><r/>',
    "empty-dtd": "<!DOCTYPE r><r/>",
    "nesting-300k": "<a>" * 300_000 + "</a>" * 300_000,
    "namespaces-100k": f"<a {_NAMESPACES}>" + "<p0:b/>" * 100_000 + "</a>",
}


def refusal_seconds(document: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        try:
            canonicalize(document, "application/xml")
        except DocumentError:
            best = min(best, time.perf_counter() - start)
        else:
            raise SystemExit("error: a hostile document was accepted")
    return best


def main() -> int:
    seconds = {name: round(refusal_seconds(doc.encode()), 4) for name, doc in CASES.items()}
    print(
        json.dumps(
            {
                "refusal_seconds": seconds,
                "limit_seconds": LIMIT_S,
                "targets_met": {name: s <= LIMIT_S for name, s in seconds.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
