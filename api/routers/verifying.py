"""Verifying: document + bundle -> verdict with every check; consuming a one-time document."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from anchor.bundle import Bundle

from ..auth import ConsumerKey, Principal, VerifierKey
from ..bundles import load_bundle
from ..middleware import GatedRoute
from ..models import ConsumeRequest, ConsumeResponse, VerdictView, VerifyRequest
from ..parsing import decode_base64, parse_json, parse_party, sized, upload_route, validate
from ..problems import ApiError, responses
from ..services import Services, ServicesDep

router = APIRouter(prefix="/v1", tags=["verifying"], route_class=GatedRoute)


def _body_schema(model: type[Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    }


_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["document", "bundle"],
                    "properties": {
                        "document": {"type": "string", "format": "binary"},
                        "bundle": {"type": "string", "format": "binary"},
                        "verifyingParty": {"type": "string", "example": "TH"},
                    },
                }
            }
        },
    }
}


def _party(principal: Principal, requested: str | None) -> str:
    if requested is None or requested == "":
        if principal.party is None:
            raise ApiError(422, "VALIDATION_FAILED", "required without an API key", field="verifyingParty")
        return principal.party
    party = parse_party(requested, "verifyingParty")
    if principal.party is not None:
        principal.require_party(party)
    return party


def _json(content_type: str, body: bytes) -> Any:
    if content_type and not content_type.split(";")[0].strip().lower().endswith("json"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
    return parse_json(body)


def _verify_request(
    services: Services, principal: Principal, content_type: str, body: bytes
) -> tuple[bytes, Bundle, str]:
    request = validate(VerifyRequest, _json(content_type, body))
    party = _party(principal, request.verifyingParty)
    document = decode_base64(request.document, "document", services.settings.max_document_bytes)
    return document, services.bundles.parse(request.bundle), party


async def verify_json(
    services: Services, principal: Principal, content_type: str, body: bytes, arrived: float
) -> VerdictView:
    """POST /v1/verify."""
    document, bundle, party = await sized(len(body), _verify_request, services, principal, content_type, body)
    return await services.verification.verify(document, bundle, party, arrived)


@router.post(
    "/verify",
    response_model=VerdictView,
    summary="Verify a document against its proof bundle as a receiving party",
    openapi_extra=_body_schema(VerifyRequest),
    responses=responses(401, 403, 413, 415, 422, 503),
)
async def verify(request: Request, principal: VerifierKey, services: ServicesDep) -> VerdictView:
    """The verdict (VALID, INVALID or INDETERMINATE) with all eight checks, each with a stable code and a
    sentence: the same structure as `trustanchor verify --json`. While the chain cannot be read the
    verdict is INDETERMINATE."""
    arrived = time.monotonic()
    content_type = request.headers.get("content-type", "")
    return await verify_json(services, principal, content_type, await request.body(), arrived)


@router.post(
    "/verify/upload",
    response_model=VerdictView,
    summary="Verify with multipart/form-data files (as the verification page sends them)",
    openapi_extra=_UPLOAD_SCHEMA,
    responses=responses(401, 403, 413, 415, 422, 503),
)
@upload_route
async def verify_upload(request: Request, principal: VerifierKey, services: ServicesDep) -> VerdictView:
    arrived = time.monotonic()
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send multipart/form-data")
    try:
        form = await request.form(max_files=2, max_fields=5)
    except ApiError:
        raise
    except Exception as e:
        raise ApiError(
            422, "INVALID_MULTIPART", f"cannot read the form: {str(e)[:200]}", field="body"
        ) from None
    try:
        doc_part, bundle_part = form.get("document"), form.get("bundle")
        if not isinstance(doc_part, UploadFile):
            raise ApiError(422, "VALIDATION_FAILED", "a document file is required", field="document")
        if not isinstance(bundle_part, UploadFile):
            raise ApiError(422, "VALIDATION_FAILED", "a bundle file is required", field="bundle")
        limit = services.settings.max_document_bytes
        document = await doc_part.read(limit + 1)
        if len(document) > limit:
            raise ApiError(
                413, "DOCUMENT_TOO_LARGE", f"larger than the limit of {limit} bytes", field="document"
            )
        bundle_bytes = await bundle_part.read(1024 * 1024 + 1)
        if len(bundle_bytes) > 1024 * 1024:
            raise ApiError(413, "BUNDLE_TOO_LARGE", "a bundle is at most 1 MiB", field="bundle")
        party_field = form.get("verifyingParty")
        party = _party(principal, party_field if isinstance(party_field, str) else None)
    finally:
        await form.close()
    bundle = await sized(len(bundle_bytes), load_bundle, bundle_bytes)
    return await services.verification.verify(document, bundle, party, arrived)


def _consume_request(
    services: Services, content_type: str, raw: bytes
) -> tuple[Bundle, bytes | None, int | None]:
    body = validate(ConsumeRequest, _json(content_type, raw))
    bundle = services.bundles.parse(body.bundle)
    services.verification.trusted(bundle)
    if body.amount is not None and not bundle.terms.quantity:
        raise ApiError(
            422,
            "NO_QUANTITY",
            f"{bundle.document.name} commits to no quantity: consume it whole",
            field="amount",
        )
    if body.document is None:
        return bundle, None, body.amount
    document = decode_base64(body.document, "document", services.settings.max_document_bytes)
    return bundle, document, body.amount


@router.post(
    "/consume",
    response_model=ConsumeResponse,
    summary="Consume a one-time document (e.g. a CITES permit at import) as the verifying party",
    openapi_extra=_body_schema(ConsumeRequest),
    responses=responses(401, 403, 409, 413, 415, 422, 502, 503),
)
async def consume(request: Request, principal: ConsumerKey, services: ServicesDep) -> ConsumeResponse:
    """Recorded on chain by the party's consumer account, only for a document destined to that party,
    within its validity period: a second consumption is refused (409 DOCUMENT_ALREADY_CONSUMED). With
    `amount`, one partial shipment is endorsed against the document's quantity (409 QUANTITY_EXCEEDED
    beyond what remains). With `document`, the document must first verify VALID."""
    arrived = time.monotonic()
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    bundle, document, amount = await sized(len(raw), _consume_request, services, content_type, raw)
    assert principal.party is not None
    verdict = None
    if document is not None:
        verdict = await services.verification.verify(document, bundle, principal.party, arrived)
        if verdict.verdict != "VALID":
            raise ApiError(
                409,
                "DOCUMENT_NOT_VALID",
                f"the document verifies {verdict.verdict}, so it is not consumed",
                extra={"verdict": verdict.model_dump(mode="json")},
            )
    receipt, endorsed = await run_in_threadpool(services.lifecycle.consume, principal.party, bundle, amount)
    quantity = bundle.terms.quantity
    return ConsumeResponse(
        consumed=not quantity or endorsed >= quantity,
        party=principal.party,
        document=bundle.document.name,
        transactionHash=receipt.tx_hash,
        blockNumber=receipt.block_number,
        endorsed=endorsed if quantity else None,
        quantity=quantity,
        remaining=quantity - endorsed if quantity else None,
        verdict=verdict,
    )
