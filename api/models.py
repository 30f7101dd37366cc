"""The HTTP API's request and response models: they define the OpenAPI schema, and every route returns one.

All derive from `ApiModel`, which forbids unknown fields: a request with a field the API does not know is
refused (422, "unknown field"), and an answer the service builds cannot carry a field the schema does not
declare.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anchor.reasons import REASONS


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ issuing

# The bundle format's rule for document names (anchor.bundle): 1..255 characters, no path separators
# or control characters, not "." or "..". Checked here so a batch never meets a name it cannot render.
_NAME = re.compile(r"(?!\.{1,2}$)[^/\\\x00-\x1f\x7f]{1,255}")
DocState = Literal["pending", "anchored", "failed"]
DocumentId = Annotated[int, Field(ge=1, le=2**62)]


def check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("must be a file name: 1-255 characters, no / or \\ or control characters")
    return value


class TermsSubmission(ApiModel):
    """Terms to commit in the document's leaf, over what its type's profile reads from the document."""

    destination: str | None = Field(default=None, max_length=8, examples=["TH"], description="Party code")
    validFrom: int | str | None = Field(default=None, description="Unix seconds or ISO 8601")
    validUntil: int | str | None = Field(default=None, description="Unix seconds or ISO 8601")
    quantity: int | None = Field(
        default=None, ge=1, le=2**64 - 1, description="Whole units that shipments may endorse up to"
    )
    unit: str | None = Field(default=None, max_length=8, examples=["skins"])


class DocumentSubmission(ApiModel):
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


class SubmitRequest(ApiModel):
    documentType: str = Field(min_length=1, max_length=64, examples=["cites-permit"])
    documents: list[DocumentSubmission] = Field(min_length=1)


class ErrorInfo(ApiModel):
    code: str
    message: str


class AnchorInfo(ApiModel):
    root: str
    transactionHash: str | None
    blockNumber: int | None
    blockHash: str | None
    blockTime: int | None


class DocumentView(ApiModel):
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


class SubmitResponse(ApiModel):
    documents: list[DocumentView]


class DocumentList(ApiModel):
    documents: list[DocumentView]
    next: int | None = Field(description="Pass as `after` for the next page; null at the end")


class LookupRequest(ApiModel):
    ids: list[DocumentId] = Field(min_length=1, max_length=10_000)
    includeBundles: bool = False


class RevokeRequest(ApiModel):
    reason: str = Field(default="unspecified", description=f"One of {', '.join(REASONS)} or a code 0-255")
    wholeBatch: bool = Field(default=False, description="Revoke every document of the document's batch")


class SupersedeRequest(ApiModel):
    successorId: int = Field(ge=1, le=2**62, description="The amended document (anchored, same party)")


class TransactionInfo(ApiModel):
    transactionHash: str
    blockNumber: int
    gasUsed: int


class LifecycleResponse(ApiModel):
    id: int
    action: Literal["revoked", "batch-revoked", "superseded"]
    transaction: TransactionInfo
    successorId: int | None = None


class IntakeStats(ApiModel):
    party: str
    documents: dict[str, int]
    backlog: int
    backlogLimit: int
    batches: dict[str, int]


# ------------------------------------------------------------------ verifying


class VerifyRequest(ApiModel):
    document: str = Field(description="The document's bytes, standard base64")
    bundle: dict[str, Any] = Field(
        description="The proof bundle (application/vnd.trustanchor.bundle.v1+json)"
    )
    verifyingParty: str | None = Field(
        default=None, max_length=8, description="The receiving party, e.g. TH; default: the API key's party"
    )


class ConsumeRequest(ApiModel):
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


class CheckView(ApiModel):
    name: str
    status: Literal["VALID", "INVALID", "SKIPPED", "ERROR"]
    code: str
    message: str
    # As `trustanchor verify --json` writes it: present (true) only on a check that passed with a warning.
    warning: bool | None = Field(default=None, exclude_if=lambda v: v is None)


class ChainRead(ApiModel):
    chainId: int | None
    readAtBlock: int | None
    readAtBlockHash: str | None
    readAtTime: int | None


class VerdictView(ApiModel):
    """The structure of `trustanchor verify --json` (anchor.verify Verdict.to_dict())."""

    verdict: Literal["VALID", "INVALID", "INDETERMINATE"]
    verifyingParty: str
    document: str
    checks: list[CheckView]
    chain: ChainRead
    anchoredAt: int | None
    terms: dict[str, Any] = Field(description="The terms the document's leaf commits to")
    details: dict[str, Any]


class ConsumeResponse(ApiModel):
    consumed: bool = Field(description="Whether the document is now used up")
    party: str
    document: str
    transactionHash: str
    blockNumber: int
    endorsed: int | None = Field(default=None, description="With a quantity: how much is used so far")
    quantity: int | None = Field(default=None, description="The quantity the document commits to")
    remaining: int | None = None
    verdict: VerdictView | None = None


# ------------------------------------------------------------------ registry


class StatusChangeView(ApiModel):
    status: str
    effectiveAt: int
    recordedAt: int
    reason: str


class PartyView(ApiModel):
    party: str
    member: bool
    admins: list[str]
    cas: list[str]
    issuers: list[str]


class PartyList(ApiModel):
    block: int
    at: int | None
    threshold: int
    parties: list[PartyView]


class CaView(ApiModel):
    fingerprint: str
    party: str
    notBefore: int
    notAfter: int
    documentTypes: list[str]
    status: str
    registeredAt: int
    revokedAt: int | None
    history: list[StatusChangeView]


class CaList(ApiModel):
    block: int
    at: int | None
    cas: list[CaView]


class CaOne(ApiModel):
    block: int
    at: int | None
    ca: CaView


class IssuerView(ApiModel):
    account: str
    party: str
    ca: str | None
    documentTypes: list[str]
    status: str
    authorizedAt: int
    revokedAt: int | None
    history: list[StatusChangeView]


class IssuerList(ApiModel):
    block: int
    at: int | None
    issuers: list[IssuerView]


class RecognitionChangeView(ApiModel):
    recognizer: str
    recognized: str
    documentTypes: list[str]
    effectiveAt: int


class RecognitionMatrix(ApiModel):
    block: int
    at: int | None
    parties: list[str]
    matrix: dict[str, dict[str, list[str]]]
    history: list[RecognitionChangeView] | None = Field(
        default=None, description="With `history=true`", exclude_if=lambda v: v is None
    )


# ------------------------------------------------------------------ health and API keys


class Liveness(ApiModel):
    status: Literal["alive"]


class Readiness(ApiModel):
    ready: bool
    checks: dict[str, dict[str, Any]] = Field(
        description="chain, deployment, signers, parties, roles, chains, intake, batcher: each with ok and "
        "a detail sentence"
    )


class ApiKeyView(ApiModel):
    id: str
    role: str
    party: str
    label: str
    createdAt: int
    revokedAt: int | None


class ApiKeyCreate(ApiModel):
    role: Literal["issuer", "verifier", "auditor", "registry-admin"]
    label: str = Field(default="", max_length=200)


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="The key itself: shown only now, store it safely")


class ApiKeyList(ApiModel):
    keys: list[ApiKeyView]
