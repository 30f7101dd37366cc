"""Health, readiness and API key management."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Liveness(BaseModel):
    status: Literal["alive"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, dict[str, Any]] = Field(
        description="chain, deployment, signers, intake, batcher: each with ok and a detail sentence"
    )


class ApiKeyView(BaseModel):
    id: str
    role: str
    party: str
    label: str
    createdAt: int
    revokedAt: int | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["issuer", "verifier", "auditor", "registry-admin"]
    label: str = Field(default="", max_length=200)


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="The key itself: shown only now, store it safely")


class ApiKeyList(BaseModel):
    keys: list[ApiKeyView]
