"""Registry reads: parties, CAs and issuers with status histories, the recognition matrix."""

from __future__ import annotations

from pydantic import BaseModel


class StatusChangeView(BaseModel):
    status: str
    effectiveAt: int
    recordedAt: int
    reason: str


class PartyView(BaseModel):
    party: str
    member: bool
    admins: list[str]
    cas: list[str]
    issuers: list[str]


class PartyList(BaseModel):
    block: int
    at: int | None
    threshold: int
    parties: list[PartyView]


class CaView(BaseModel):
    fingerprint: str
    party: str
    notBefore: int
    notAfter: int
    documentTypes: list[str]
    status: str
    registeredAt: int
    revokedAt: int | None
    history: list[StatusChangeView]


class CaList(BaseModel):
    block: int
    at: int | None
    cas: list[CaView]


class CaOne(BaseModel):
    block: int
    at: int | None
    ca: CaView


class IssuerView(BaseModel):
    account: str
    party: str
    ca: str | None
    documentTypes: list[str]
    status: str
    authorizedAt: int
    revokedAt: int | None
    history: list[StatusChangeView]


class IssuerList(BaseModel):
    block: int
    at: int | None
    issuers: list[IssuerView]


class RecognitionChangeView(BaseModel):
    recognizer: str
    recognized: str
    documentTypes: list[str]
    effectiveAt: int


class RecognitionMatrix(BaseModel):
    block: int
    at: int | None
    parties: list[str]
    matrix: dict[str, dict[str, list[str]]]
    history: list[RecognitionChangeView] | None = None
