"""Verifying: requests, and the verdict (the structure of anchor.verify Verdict.to_dict())."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerifyRequest(_Strict):
    document: str = Field(description="The document's bytes, standard base64")
    bundle: dict[str, Any] = Field(
        description="The proof bundle (application/vnd.trustanchor.bundle.v1+json)"
    )
    verifyingParty: str | None = Field(
        default=None, max_length=8, description="The receiving party, e.g. TH; default: the API key's party"
    )


class ConsumeRequest(_Strict):
    bundle: dict[str, Any] = Field(description="The one-time document's proof bundle")
    document: str | None = Field(
        default=None,
        description="The document (base64): if given, it must verify VALID before it is consumed",
    )
    amount: int | None = Field(
        default=None,
        ge=1,
        le=2**64 - 1,
        description="Endorse this quantity (one partial shipment) instead of using the whole document",
    )


class CheckView(BaseModel):
    name: str
    status: Literal["VALID", "INVALID", "SKIPPED", "ERROR"]
    code: str
    message: str
    warning: bool | None = None


class ChainRead(BaseModel):
    chainId: int | None
    readAtBlock: int | None
    readAtBlockHash: str | None
    readAtTime: int | None


class VerdictView(BaseModel):
    verdict: Literal["VALID", "INVALID", "INDETERMINATE"]
    verifyingParty: str
    document: str
    checks: list[CheckView]
    chain: ChainRead
    anchoredAt: int | None
    details: dict[str, Any]


class ConsumeResponse(BaseModel):
    consumed: bool = Field(description="Whether the document is now used up")
    party: str
    document: str
    transactionHash: str
    blockNumber: int
    endorsed: int | None = Field(default=None, description="With a quantity: how much is used so far")
    quantity: int | None = Field(default=None, description="The quantity the document commits to")
    remaining: int | None = None
    verdict: VerdictView | None = None
