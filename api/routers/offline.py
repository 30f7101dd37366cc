"""Offline verification's two downloads: the witnessed trust pack, and a document's status proof at it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from anchor.bundle import Bundle
from anchor.checkpoint.pack import MEDIA_TYPE as PACK_MEDIA_TYPE

from ..auth import DocumentReaderKey, VerifierKey
from ..middleware import GatedRoute
from ..problems import ApiError, responses
from ..services import ServicesDep
from .issuing import DocId, owned

router = APIRouter(prefix="/v1", tags=["offline"], route_class=GatedRoute)


@router.get(
    "/trust-pack",
    summary="The newest witnessed trust pack, for verifying with no connection (docs/checkpoints.md)",
    response_class=Response,
    responses={
        200: {"content": {PACK_MEDIA_TYPE: {"schema": {"type": "object"}}}, "description": "The trust pack"},
        **responses(401, 403, 404, 503),
    },
)
async def trust_pack(principal: VerifierKey, services: ServicesDep) -> Response:
    _, text = await run_in_threadpool(services.packs.current)
    return Response(
        text,
        media_type=PACK_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="trust-pack.json"'},
    )


@router.get(
    "/documents/{doc_id}/status-proof",
    summary="The document's registry status at the trust pack's checkpoint, as proofs (a bundle's `status`)",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **responses(401, 403, 404, 409, 422, 503),
    },
)
async def status_proof(doc_id: DocId, principal: DocumentReaderKey, services: ServicesDep) -> dict[str, Any]:
    if services.settings.offline:
        raise ApiError(
            409, "OFFLINE", "this service runs offline: status proofs are made where there is a node"
        )
    doc = await run_in_threadpool(owned, services, principal, doc_id)
    text = services.views().bundle_text(doc)
    if text is None:
        raise ApiError(409, "DOCUMENT_NOT_ANCHORED", f"document {doc_id} is {doc.state}, not anchored")
    proof: dict[str, Any] = await run_in_threadpool(services.packs.status_proof, Bundle.from_json(text))
    return proof
