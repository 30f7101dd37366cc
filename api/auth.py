"""Who may call what: API keys (one role and one party each, only a SHA-256 of the key stored) and the
FastAPI dependencies that check them against each route's roles.

A key reads `ta_<id>_<secret>`: the 8-hex-digit id finds the row, the 256-bit random secret makes the
SHA-256 safe to store (no dictionary can reach it), and the comparison is constant-time. The key itself
is shown once, at creation.

A key goes in `X-API-Key: <key>` or `Authorization: Bearer <key>`. No key -> 401; a key of a role the
route does not admit -> 403 ROLE_NOT_ALLOWED; acting on another party's documents -> 403
PARTY_NOT_ALLOWED. Routes open to the public (verification, registry reads) admit callers without a
key only when the service is configured with `public_verification`. The key is checked before the
request's body is read (api/middleware.py): a caller who may not call a route cannot make it read
anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from anchor.deploy import party_id
from anchor.errors import ConfigError

from .problems import ApiError
from .store import Database

if TYPE_CHECKING:
    from .services import Services


_KEY_RE = re.compile(r"ta_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
_DUMMY_HASH = hashlib.sha256(b"no such key").digest()


class Role(StrEnum):
    ISSUER = "issuer"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    REGISTRY_ADMIN = "registry-admin"


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    role: Role
    party: str
    label: str
    created_at: int
    revoked_at: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "role": self.role.value,
            "party": self.party,
            "label": self.label,
            "createdAt": self.created_at,
            "revokedAt": self.revoked_at,
        }


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower().replace("_", "-"))
    except ValueError:
        raise ConfigError(f"unknown role {text!r} (known: {', '.join(r.value for r in Role)})") from None


class ApiKeys:
    def __init__(self, db: Database, *, cache_seconds: float = 0.0) -> None:
        """`cache_seconds` > 0 remembers answers that long (a revocation then takes up to that long)."""
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, ApiKeyInfo | None]] = {}

    def create(self, role: Role, party: str, label: str = "") -> tuple[str, ApiKeyInfo]:
        """A new key (returned once, in clear) and its record."""
        party_id(party)
        party = party.upper()
        if len(label) > 200:
            raise ConfigError("label is longer than 200 characters")
        now = int(time.time())
        with self.db.write() as c:
            while True:
                key_id = secrets.token_hex(4)
                if c.execute("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone() is None:
                    break
            secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            key = f"ta_{key_id}_{secret}"
            c.execute(
                "INSERT INTO api_keys (id, key_hash, role, party, label, created_at) VALUES (?,?,?,?,?,?)",
                (key_id, _hash(key), role.value, party, label, now),
            )
        return key, ApiKeyInfo(key_id, role, party, label, now, None)

    def revoke(self, key_id: str, *, party: str | None = None) -> ApiKeyInfo:
        """Revoke by id (optionally only within `party`); revoking twice keeps the first time."""
        info = self.get(key_id)
        if info is None or (party is not None and info.party != party):
            raise ConfigError(f"no API key with id {key_id!r}")
        if info.revoked_at is None:
            with self.db.write() as c:
                c.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (int(time.time()), key_id),
                )
        self._cache.clear()
        got = self.get(key_id)
        assert got is not None
        return got

    def get(self, key_id: str) -> ApiKeyInfo | None:
        row = (
            self.db.conn()
            .execute(
                "SELECT id, role, party, label, created_at, revoked_at FROM api_keys WHERE id = ?", (key_id,)
            )
            .fetchone()
        )
        return _info(row) if row else None

    def all(self, party: str | None = None) -> list[ApiKeyInfo]:
        sql = "SELECT id, role, party, label, created_at, revoked_at FROM api_keys"
        args: tuple[str, ...] = ()
        if party is not None:
            sql += " WHERE party = ?"
            args = (party.upper(),)
        return [_info(r) for r in self.db.conn().execute(sql + " ORDER BY created_at, id", args)]

    def authenticate(self, key: str) -> ApiKeyInfo | None:
        """The key's record if the key is genuine and not revoked, else None (same work either way)."""
        if self.cache_seconds <= 0:
            return self._authenticate(key)
        digest = _hash(key.strip())
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = self._authenticate(key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self.cache_seconds, info)
        return info

    def _authenticate(self, key: str) -> ApiKeyInfo | None:
        m = _KEY_RE.fullmatch(key.strip())
        key_id = m.group(1) if m else "-"
        row = (
            self.db.conn()
            .execute(
                "SELECT id, role, party, label, created_at, revoked_at, key_hash FROM api_keys WHERE id = ?",
                (key_id,),
            )
            .fetchone()
        )
        stored = bytes(row[6]) if row else _DUMMY_HASH
        genuine = hmac.compare_digest(_hash(key.strip()), stored)
        if not (m and row and genuine) or row[5] is not None:
            return None
        return _info(row[:6])


def _info(row: tuple[object, ...]) -> ApiKeyInfo:
    key_id, role, party, label, created, revoked = row
    return ApiKeyInfo(
        str(key_id),
        Role(str(role)),
        str(party),
        str(label),
        int(created),  # type: ignore[call-overload]
        None if revoked is None else int(revoked),  # type: ignore[call-overload]
    )


# ------------------------------------------------------------------ callers


_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key: ta_<id>_<secret>")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's id, role and party; or the public (no key, where allowed)."""

    key_id: str | None
    role: Role | None
    party: str | None

    @property
    def public(self) -> bool:
        return self.key_id is None

    def require_party(self, party: str) -> None:
        if self.party != party:
            raise ApiError(
                403,
                "PARTY_NOT_ALLOWED",
                f"this key acts for {self.party or 'no party'}; the resource belongs to {party}",
            )


def authorize(
    services: Services, key: str | None, roles: tuple[Role, ...], public: bool = False
) -> Principal:
    """The caller behind `key`, if its role is one of `roles` (or no key, where the public may call)."""
    if not key:
        if public and services.settings.public_verification:
            return Principal(None, None, None)
        raise ApiError(
            401,
            "UNAUTHENTICATED",
            "an API key is required (X-API-Key header or Authorization: Bearer)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    info = services.apikeys.authenticate(key)
    if info is None:
        raise ApiError(
            401,
            "INVALID_API_KEY",
            "the API key is unknown or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if info.role not in roles:
        names = " or ".join(r.value for r in roles)
        article = "an" if info.role.value[:1] in "aeiou" else "a"
        raise ApiError(
            403, "ROLE_NOT_ALLOWED", f"{article} {info.role.value} key may not do this; it needs {names}"
        )
    return Principal(info.id, info.role, info.party)


VERIFY_ROLES = (Role.VERIFIER,)
_PRINCIPAL = "trustanchor.principal"


def api_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key from raw request headers, read as the security schemes below read it."""
    key = authorization = None
    for name, value in headers:
        if name == b"x-api-key" and key is None:
            key = value.decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    if key:
        return key
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class RequireKey:
    """The dependency that admits callers with a key of one of `roles` (or the public, where allowed).

    The gate (api/middleware.py) finds it on a route and authorizes the caller from the headers before the
    body is read; the dependency then returns that same Principal.
    """

    def __init__(self, *roles: Role, public: bool = False) -> None:
        self.roles = roles
        self.public = public

    def authorize(self, services: Services, headers: Iterable[tuple[bytes, bytes]]) -> Principal:
        return authorize(services, api_key(headers), self.roles, self.public)

    def remember(self, scope: Scope, principal: Principal) -> None:
        scope[_PRINCIPAL] = (self, principal)

    async def __call__(
        self,
        request: Request,
        x_api_key: Annotated[str | None, Security(_api_key_header)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    ) -> Principal:
        known = request.scope.get(_PRINCIPAL)
        if isinstance(known, tuple) and known[0] is self:
            principal: Principal = known[1]
            return principal
        key = x_api_key or (bearer.credentials if bearer else None)
        return authorize(request.app.state.services, key, self.roles, self.public)


IssuerKey = Annotated[Principal, Depends(RequireKey(Role.ISSUER))]
DocumentReaderKey = Annotated[Principal, Depends(RequireKey(Role.ISSUER, Role.AUDITOR))]
VerifierKey = Annotated[Principal, Depends(RequireKey(*VERIFY_ROLES, public=True))]
ConsumerKey = Annotated[Principal, Depends(RequireKey(Role.VERIFIER))]
RegistryReaderKey = Annotated[Principal, Depends(RequireKey(*Role, public=True))]
IntakeStatsKey = Annotated[Principal, Depends(RequireKey(Role.ISSUER, Role.AUDITOR, Role.REGISTRY_ADMIN))]
AdminKey = Annotated[Principal, Depends(RequireKey(Role.REGISTRY_ADMIN))]
AuditorKey = Annotated[Principal, Depends(RequireKey(Role.AUDITOR))]
