"""Issuing: document submissions, document state views, lifecycle requests."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anchor.reasons import REASONS

# The bundle format's rule for document names (anchor.bundle): 1..255 characters, no path separators
# or control characters, not "." or "..". Checked here so a batch never meets a name it cannot render.
_NAME = re.compile(r"(?!\.{1,2}$)[^/\\\x00-\x1f\x7f]{1,255}")
DocState = Literal["pending", "anchored", "failed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("must be a file name: 1-255 characters, no / or \\ or control characters")
    return value


class TermsSubmission(_Strict):
    """Terms to commit in the document's leaf, over what its type's profile reads from the document."""

    destination: str | None = Field(default=None, max_length=8, examples=["TH"], description="Party code")
    validFrom: int | str | None = Field(default=None, description="Unix seconds or ISO 8601")
    validUntil: int | str | None = Field(default=None, description="Unix seconds or ISO 8601")
    quantity: int | None = Field(
        default=None, ge=1, le=2**64 - 1, description="Whole units that shipments may endorse up to"
    )
    unit: str | None = Field(default=None, max_length=8, examples=["skins"])


class DocumentSubmission(_Strict):
    name: str = Field(min_length=1, max_length=255, description="File name, e.g. permit-0001.json")
    mediaType: str | None = Field(
        default=None,
        max_length=255,
        description="e.g. application/json; default: from the name's extension (else octet-stream)",
    )
    content: str = Field(description="The document's bytes, standard base64")
    terms: TermsSubmission | None = Field(
        default=None,
        description="Destination, validity and quantity; by default read from the document by its type's "
        "term profile, and these take precedence",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)


class SubmitRequest(_Strict):
    documentType: str = Field(min_length=1, max_length=64, examples=["cites-permit"])
    documents: list[DocumentSubmission] = Field(min_length=1)


class ErrorInfo(BaseModel):
    code: str
    message: str


class AnchorInfo(BaseModel):
    root: str
    transactionHash: str | None
    blockNumber: int | None
    blockHash: str | None
    blockTime: int | None


class DocumentView(BaseModel):
    id: int
    party: str
    name: str
    documentType: str
    documentTypeId: int
    digest: str
    mediaType: str
    canonicalization: str
    size: int
    submittedAt: float
    state: DocState
    batch: AnchorInfo | None = None
    error: ErrorInfo | None = None
    revokedAt: int | None = None
    revokeReason: str | None = None
    supersededBy: int | None = None
    supersedes: int | None = None
    terms: dict[str, Any] = Field(default_factory=dict, description="The terms its leaf commits to")
    bundle: dict[str, Any] | None = Field(default=None, description="The proof bundle, once anchored")


class SubmitResponse(BaseModel):
    documents: list[DocumentView]


class DocumentList(BaseModel):
    documents: list[DocumentView]
    next: int | None = Field(description="Pass as `after` for the next page; null at the end")


DocumentId = Annotated[int, Field(ge=1, le=2**62)]


class LookupRequest(_Strict):
    ids: list[DocumentId] = Field(min_length=1, max_length=10_000)
    includeBundles: bool = False


class RevokeRequest(_Strict):
    reason: str = Field(default="unspecified", description=f"One of {', '.join(REASONS)} or a code 0-255")
    wholeBatch: bool = Field(default=False, description="Revoke every document of the document's batch")


class SupersedeRequest(_Strict):
    successorId: int = Field(ge=1, le=2**62, description="The amended document (anchored, same party)")


class TransactionInfo(BaseModel):
    transactionHash: str
    blockNumber: int
    gasUsed: int


class LifecycleResponse(BaseModel):
    id: int
    action: Literal["revoked", "batch-revoked", "superseded"]
    transaction: TransactionInfo
    successorId: int | None = None


class IntakeStats(BaseModel):
    party: str
    documents: dict[str, int]
    backlog: int
    backlogLimit: int
    batches: dict[str, int]
