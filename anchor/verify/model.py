"""Verdicts: an overall decision and every check with its own status, stable code and sentence."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"


class CheckStatus(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    SKIPPED = "SKIPPED"
    ERROR = "ERROR"


CHECK_NAMES = (
    "integrity",
    "inclusion",
    "anchored",
    "document_status",
    "signature",
    "certificate_chain",
    "ca_status",
    "recognition",
    "terms",
)


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    code: str
    message: str
    warning: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "status": self.status.value,
            "code": self.code,
            "message": self.message,
        }
        if self.warning:
            d["warning"] = True
        return d


@dataclass
class Verdict:
    verdict: Decision
    checks: list[Check]
    verifying_party: str
    document: str
    chain_id: int | None = None
    read_at_block: int | None = None
    read_at_block_hash: str | None = None
    read_at_time: int | None = None
    anchored_at: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.verdict is Decision.VALID

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.warning]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "verifyingParty": self.verifying_party,
            "document": self.document,
            "checks": [c.to_dict() for c in self.checks],
            "chain": {
                "chainId": self.chain_id,
                "readAtBlock": self.read_at_block,
                "readAtBlockHash": self.read_at_block_hash,
                "readAtTime": self.read_at_time,
            },
            "anchoredAt": self.anchored_at,
            "terms": self.terms,
            "details": self.details,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def decide(checks: list[Check]) -> Decision:
    if any(c.status is CheckStatus.INVALID for c in checks):
        return Decision.INVALID
    if any(c.status is CheckStatus.ERROR for c in checks):
        return Decision.INDETERMINATE
    return Decision.VALID
