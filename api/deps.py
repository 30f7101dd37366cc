"""FastAPI dependencies: the services, and the caller's API key checked against the route's roles.

A key goes in `X-API-Key: <key>` or `Authorization: Bearer <key>`. No key -> 401; a key of a role the
route does not admit -> 403 ROLE_NOT_ALLOWED; acting on another party's documents -> 403
PARTY_NOT_ALLOWED. Routes open to the public (verification, registry reads) admit callers without a
key only when the service is configured with `public_verification`. The key is checked before the
request's body is read (api/gate.py): a caller who may not call a route cannot make it read anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from .apikeys import Role
from .problems import ApiError
from .services import Services

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key: ta_<id>_<secret>")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


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

    api/gate.py finds it on a route and authorizes the caller from the headers before the body is read;
    the dependency then returns that same Principal.
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
        services: ServicesDep,
        x_api_key: Annotated[str | None, Security(_api_key_header)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    ) -> Principal:
        known = request.scope.get(_PRINCIPAL)
        if isinstance(known, tuple) and known[0] is self:
            principal: Principal = known[1]
            return principal
        key = x_api_key or (bearer.credentials if bearer else None)
        return authorize(services, key, self.roles, self.public)


IssuerKey = Annotated[Principal, Depends(RequireKey(Role.ISSUER))]
DocumentReaderKey = Annotated[Principal, Depends(RequireKey(Role.ISSUER, Role.AUDITOR))]
VerifierKey = Annotated[Principal, Depends(RequireKey(*VERIFY_ROLES, public=True))]
ConsumerKey = Annotated[Principal, Depends(RequireKey(Role.VERIFIER))]
RegistryReaderKey = Annotated[Principal, Depends(RequireKey(*Role, public=True))]
IntakeStatsKey = Annotated[Principal, Depends(RequireKey(Role.ISSUER, Role.AUDITOR, Role.REGISTRY_ADMIN))]
AdminKey = Annotated[Principal, Depends(RequireKey(Role.REGISTRY_ADMIN))]
AuditorKey = Annotated[Principal, Depends(RequireKey(Role.AUDITOR))]
