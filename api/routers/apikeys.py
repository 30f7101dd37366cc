"""API keys of the caller's party, managed by its registry admin (the CLI manages all of them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ..auth import AdminKey, ApiKeyInfo, Role
from ..middleware import GatedRoute
from ..models import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyView
from ..problems import ApiError, responses
from ..services import ServicesDep

router = APIRouter(prefix="/v1/apikeys", tags=["api keys"], route_class=GatedRoute)
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}$", description="The key's public id")]


@router.get("", response_model=ApiKeyList, summary="This party's API keys", responses=responses(401, 403))
def list_keys(principal: AdminKey, services: ServicesDep) -> ApiKeyList:
    return ApiKeyList(keys=[_view(k) for k in services.apikeys.all(principal.party)])


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Create a key for this party",
    responses=responses(401, 403, 413, 422),
)
def create_key(body: ApiKeyCreate, principal: AdminKey, services: ServicesDep) -> ApiKeyCreated:
    assert principal.party is not None
    key, info = services.apikeys.create(Role(body.role), principal.party, body.label)
    return ApiKeyCreated(**_view(info).model_dump(), key=key)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyView,
    summary="Revoke one of this party's keys",
    responses=responses(401, 403, 404, 422),
)
def revoke_key(key_id: KeyId, principal: AdminKey, services: ServicesDep) -> ApiKeyView:
    info = services.apikeys.get(key_id)
    if info is None:
        raise ApiError(404, "API_KEY_NOT_FOUND", f"no API key with id {key_id!r}")
    principal.require_party(info.party)
    return _view(services.apikeys.revoke(key_id))


def _view(info: ApiKeyInfo) -> ApiKeyView:
    return ApiKeyView.model_validate(info.to_dict())
