"""Registry reads: parties, CAs with their status history, issuer accounts, the recognition matrix.

Each takes `block` (read the registry as it was at that block) and/or `at` (what held at that time,
from the contracts' time-effective views); by default the head block and its time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ..auth import RegistryReaderKey
from ..middleware import GatedRoute
from ..models import CaList, CaOne, IssuerList, PartyList, RecognitionMatrix
from ..parsing import parse_at, parse_fingerprint, parse_party
from ..problems import ApiError, responses
from ..services import ServicesDep

router = APIRouter(prefix="/v1/registry", tags=["registry"], route_class=GatedRoute)

Block = Annotated[int | None, Query(ge=0, le=2**62, description="Read at this block (default: the head)")]
At = Annotated[
    str | None,
    Query(max_length=40, description="A time: unix seconds or ISO 8601 (UTC if no offset); default: now"),
]
Party = Annotated[str | None, Query(max_length=8, description="Only this party, e.g. SG")]
_ERRORS = responses(401, 403, 404, 422, 502, 503)


@router.get("/parties", response_model=PartyList, summary="Member parties", responses=_ERRORS)
async def parties(
    principal: RegistryReaderKey, services: ServicesDep, block: Block = None, at: At = None
) -> PartyList:
    if services.settings.offline:  # as of the trust pack's checkpoint: the only registry view offline
        if block is not None or at is not None:
            raise ApiError(
                409, "OFFLINE", "offline, parties are known only as of the trust pack's checkpoint"
            )
        return await run_in_threadpool(services.verification.offline_parties)
    return await run_in_threadpool(services.registry.parties, block, parse_at(at))


@router.get("/cas", response_model=CaList, summary="CAs with their full status history", responses=_ERRORS)
async def cas(
    principal: RegistryReaderKey,
    services: ServicesDep,
    party: Party = None,
    block: Block = None,
    at: At = None,
) -> CaList:
    p = parse_party(party) if party else None
    return await run_in_threadpool(services.registry.cas, p, block, parse_at(at))


@router.get("/cas/{fingerprint}", response_model=CaOne, summary="One CA with its history", responses=_ERRORS)
async def ca(
    fingerprint: str, principal: RegistryReaderKey, services: ServicesDep, block: Block = None, at: At = None
) -> CaOne:
    fp = parse_fingerprint(fingerprint)
    return await run_in_threadpool(services.registry.ca, fp, block, parse_at(at))


@router.get("/issuers", response_model=IssuerList, summary="Issuing agency accounts", responses=_ERRORS)
async def issuers(
    principal: RegistryReaderKey,
    services: ServicesDep,
    party: Party = None,
    block: Block = None,
    at: At = None,
) -> IssuerList:
    p = parse_party(party) if party else None
    return await run_in_threadpool(services.registry.issuers, p, block, parse_at(at))


@router.get(
    "/recognitions",
    response_model=RecognitionMatrix,
    summary="Who recognizes whose CAs for which document types",
    responses=_ERRORS,
)
async def recognitions(
    principal: RegistryReaderKey,
    services: ServicesDep,
    block: Block = None,
    at: At = None,
    history: bool = False,
) -> RecognitionMatrix:
    return await run_in_threadpool(services.registry.recognitions, block, parse_at(at), history)
