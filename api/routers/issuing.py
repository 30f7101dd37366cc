"""Issuing: submit documents (JSON or multipart), read their state and bundles, revoke, supersede."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from anchor.bundle import MEDIA_TYPE as BUNDLE_MEDIA_TYPE
from anchor.chain import Receipt
from anchor.errors import ConfigError
from anchor.issuing.leaf import Terms
from anchor.reasons import reason_code

from ..auth import DocumentReaderKey, IntakeStatsKey, IssuerKey, Principal
from ..intake import RawDocument
from ..middleware import GatedRoute
from ..models import (
    DocState,
    DocumentList,
    DocumentView,
    IntakeStats,
    LifecycleResponse,
    LookupRequest,
    RevokeRequest,
    SubmitRequest,
    SubmitResponse,
    SupersedeRequest,
    TermsSubmission,
    TransactionInfo,
    check_name,
)
from ..parsing import decode_base64, parse_doc_type, parse_terms, sized, upload_route
from ..problems import ApiError, responses
from ..services import Services, ServicesDep
from ..store import DocumentRow

router = APIRouter(prefix="/v1", tags=["issuing"], route_class=GatedRoute)

Wait = Annotated[
    float,
    Query(
        ge=0, le=60, description="Seconds to wait for the documents to be anchored (or fail) before answering"
    ),
]
DocId = Annotated[int, Path(ge=1, le=2**62, description="Document id")]
_TERM_FIELDS = ("destination", "validFrom", "validUntil", "quantity", "unit")

_MULTIPART_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["documentType", "files"],
                    "properties": {
                        "documentType": {"type": "string", "example": "cites-permit"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        **{
                            name: {"type": "string", "description": "Term for every file (over its profile)"}
                            for name in _TERM_FIELDS
                        },
                    },
                }
            }
        },
    }
}


def owned(services: Services, principal: Principal, doc_id: int) -> DocumentRow:
    doc = services.docs.get(doc_id)
    if doc is None:
        raise ApiError(404, "DOCUMENT_NOT_FOUND", f"no document {doc_id}")
    principal.require_party(doc.party)
    return doc


async def _wait(services: Services, ids: list[int], wait: float) -> list[DocumentView]:
    """Poll until no document is pending or `wait` passed; then their views, in order."""
    if wait > 0:
        deadline = time.monotonic() + min(wait, services.settings.max_wait_seconds)
        while time.monotonic() < deadline:
            rows = await run_in_threadpool(services.docs.many, ids)
            if all(r.state != "pending" for r in rows.values()):
                break
            await asyncio.sleep(0.05)
    rows = await run_in_threadpool(services.docs.many, ids)
    return await run_in_threadpool(services.views().views, [rows[i] for i in ids])


async def _finish(services: Services, ids: list[int], wait: float, response: Response) -> SubmitResponse:
    views = await _wait(services, ids, wait)
    response.status_code = 202 if any(v.state == "pending" for v in views) else 200
    return SubmitResponse(documents=views)


async def _accept(
    services: Services, principal: Principal, doc_type: int, raw: list[RawDocument]
) -> list[int]:
    assert principal.party is not None
    docs = await run_in_threadpool(services.intake.digest, raw, doc_type)
    return await run_in_threadpool(services.intake.submit, principal.party, doc_type, docs)


@router.post(
    "/documents",
    response_model=SubmitResponse,
    status_code=202,
    summary="Submit one or many documents (JSON, base64 content)",
    responses={
        200: {"model": SubmitResponse, "description": "All final"},
        **responses(401, 403, 409, 413, 422, 503),
    },
)
async def submit_json(
    body: SubmitRequest, principal: IssuerKey, services: ServicesDep, response: Response, wait: Wait = 0
) -> SubmitResponse:
    """Documents are committed to the service's store before this answers; each comes back with its id and
    state (pending until its batch is anchored; with `wait`, the bundle once anchored). Submitting a
    document again (same party, type and digest) returns the same id: retries are safe. A JSON body is
    limited to `max_request_bytes` (4 MiB by default): send large documents to /v1/documents/upload."""
    services.intake.check_count(len(body.documents), "documents")
    doc_type = parse_doc_type(body.documentType)
    size = sum(len(d.content) for d in body.documents)
    raw = await sized(size, _decode, body, services.settings.max_document_bytes)
    ids = await _accept(services, principal, doc_type, raw)
    return await _finish(services, ids, wait, response)


def _decode(body: SubmitRequest, limit: int) -> list[RawDocument]:
    return [
        RawDocument(
            d.name,
            d.mediaType,
            decode_base64(d.content, f"documents[{i}].content", limit),
            f"documents[{i}].content",
            f"documents[{i}].mediaType",
            parse_terms(d.terms, f"documents[{i}].terms"),
            f"documents[{i}].terms",
        )
        for i, d in enumerate(body.documents)
    ]


@router.post(
    "/documents/upload",
    response_model=SubmitResponse,
    status_code=202,
    summary="Submit documents as multipart/form-data files",
    openapi_extra=_MULTIPART_SCHEMA,
    responses={
        200: {"model": SubmitResponse, "description": "All final"},
        **responses(401, 403, 409, 413, 415, 422, 503),
    },
)
@upload_route
async def submit_multipart(
    request: Request, principal: IssuerKey, services: ServicesDep, response: Response, wait: Wait = 0
) -> SubmitResponse:
    """Form fields: `documentType`, and one `files` part per document (its file name and Content-Type are
    the document's name and media type; application/octet-stream means "from the extension"). The body
    is limited to `max_upload_bytes` (64 MiB by default) and each file to `max_document_bytes`; files
    are spooled to disk as they arrive."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send multipart/form-data")
    limit = services.settings.max_documents_per_request
    try:
        form = await request.form(max_files=limit + 1, max_fields=20)
    except ApiError:
        raise
    except Exception as e:
        raise ApiError(
            422, "INVALID_MULTIPART", f"cannot read the form: {str(e)[:200]}", field="body"
        ) from None
    try:
        doc_type_field = form.get("documentType")
        if not isinstance(doc_type_field, str):
            raise ApiError(422, "VALIDATION_FAILED", "required field is missing", field="documentType")
        doc_type = parse_doc_type(doc_type_field)
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise ApiError(422, "VALIDATION_FAILED", "at least one file is required", field="files")
        services.intake.check_count(len(files), "files")
        terms = _form_terms(form)
        raw = []
        for i, f in enumerate(files):
            raw.append(dataclasses.replace(await _read_part(services, f, i), terms=terms))
    finally:
        await form.close()
    ids = await _accept(services, principal, doc_type, raw)
    return await _finish(services, ids, wait, response)


def _form_terms(form: Any) -> Terms:
    values = {name: form.get(name) for name in _TERM_FIELDS}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(422, "VALIDATION_FAILED", "must be a form field, not a file", field=name)
    quantity = values["quantity"]
    if quantity is not None and not (quantity.isascii() and quantity.isdigit()):
        raise ApiError(
            422, "INVALID_TERMS", f"quantity {quantity!r} is not a whole positive number", field="quantity"
        )
    try:
        submission = TermsSubmission(
            destination=values["destination"] or None,
            validFrom=values["validFrom"] or None,
            validUntil=values["validUntil"] or None,
            quantity=int(quantity) if quantity else None,
            unit=values["unit"] or None,
        )
    except ValueError as e:
        raise ApiError(422, "INVALID_TERMS", str(e).splitlines()[0], field="terms") from None
    return parse_terms(submission, "terms")


async def _read_part(services: Services, f: UploadFile, i: int) -> RawDocument:
    field = f"files[{i}]"
    name = f.filename or ""
    try:
        check_name(name)
    except ValueError as e:
        raise ApiError(422, "INVALID_NAME", str(e), field=f"{field}.filename") from None
    limit = services.settings.max_document_bytes
    data = await f.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "DOCUMENT_TOO_LARGE", f"larger than the limit of {limit} bytes", field=field)
    ctype = (f.content_type or "").split(";")[0].strip().lower()
    media_type = None if ctype in ("", "application/octet-stream") else f.content_type
    return RawDocument(name, media_type, data, field, f"{field}.contentType")


@router.get(
    "/documents",
    response_model=DocumentList,
    summary="List this party's documents",
    responses=responses(401, 403, 422),
)
def list_documents(
    principal: DocumentReaderKey,
    services: ServicesDep,
    state: DocState | None = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    bundles: bool = False,
) -> DocumentList:
    assert principal.party is not None
    rows = services.docs.page(principal.party, state=state, after=after, limit=limit)
    nxt = rows[-1].id if len(rows) == limit else None
    return DocumentList(documents=services.views().views(rows, bundles=bundles), next=nxt)


@router.post(
    "/documents/lookup",
    response_model=SubmitResponse,
    summary="States (and optionally bundles) of many documents by id",
    responses=responses(401, 403, 404, 413, 422),
)
def lookup(body: LookupRequest, principal: DocumentReaderKey, services: ServicesDep) -> SubmitResponse:
    rows = services.docs.many(body.ids)
    for i, doc_id in enumerate(body.ids):
        if doc_id not in rows:
            raise ApiError(404, "DOCUMENT_NOT_FOUND", f"no document {doc_id}", field=f"ids[{i}]")
        principal.require_party(rows[doc_id].party)
    return SubmitResponse(
        documents=services.views().views([rows[i] for i in body.ids], bundles=body.includeBundles)
    )


@router.get(
    "/documents/by-digest/{digest}",
    response_model=DocumentList,
    summary="This party's documents with a given canonical SHA-256 digest",
    responses=responses(401, 403, 422),
)
def by_digest(
    digest: Annotated[str, Path(description="0x + 64 hex digits")],
    principal: DocumentReaderKey,
    services: ServicesDep,
    documentType: Annotated[str | None, Query(max_length=64)] = None,
) -> DocumentList:
    text = digest.strip().lower().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ApiError(422, "INVALID_DIGEST", "expected 0x and 64 hex digits", field="path.digest")
    tid = parse_doc_type(documentType, "query.documentType") if documentType is not None else None
    assert principal.party is not None
    rows = services.docs.by_digest(principal.party, bytes.fromhex(text), tid)
    return DocumentList(documents=services.views().views(rows), next=None)


@router.get(
    "/documents/{doc_id}",
    response_model=DocumentView,
    summary="A document's state, and its bundle once anchored",
    responses=responses(401, 403, 404, 422),
)
async def get_document(
    doc_id: DocId, principal: DocumentReaderKey, services: ServicesDep, wait: Wait = 0
) -> DocumentView:
    doc = await run_in_threadpool(owned, services, principal, doc_id)
    return (await _wait(services, [doc.id], wait))[0]


@router.get(
    "/documents/{doc_id}/bundle",
    summary="The proof bundle of an anchored document",
    response_class=Response,
    responses={
        200: {"content": {BUNDLE_MEDIA_TYPE: {"schema": {"type": "object"}}}, "description": "The bundle"},
        **responses(401, 403, 404, 409, 422),
    },
)
def get_bundle(doc_id: DocId, principal: DocumentReaderKey, services: ServicesDep) -> Response:
    doc = owned(services, principal, doc_id)
    text = services.views().bundle_text(doc)
    if text is None:
        raise ApiError(409, "DOCUMENT_NOT_ANCHORED", f"document {doc_id} is {doc.state}, not anchored")
    return Response(
        text,
        media_type=BUNDLE_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{doc.id}.bundle.json"'},
    )


@router.post(
    "/documents/{doc_id}/revoke",
    response_model=LifecycleResponse,
    summary="Revoke an anchored document (or its whole batch) on chain",
    responses=responses(401, 403, 404, 409, 413, 422, 502, 503),
)
def revoke(
    doc_id: DocId, body: RevokeRequest, principal: IssuerKey, services: ServicesDep
) -> LifecycleResponse:
    doc = owned(services, principal, doc_id)
    try:
        code = reason_code(body.reason)
    except ConfigError as e:
        raise ApiError(422, "UNKNOWN_REASON", str(e), field="reason") from None
    receipt = services.lifecycle.revoke(doc, code, body.wholeBatch)
    return LifecycleResponse(
        id=doc.id,
        action="batch-revoked" if body.wholeBatch else "revoked",
        transaction=_transaction(receipt),
    )


def _transaction(receipt: Receipt) -> TransactionInfo:
    return TransactionInfo(
        transactionHash=receipt.tx_hash, blockNumber=receipt.block_number, gasUsed=receipt.gas_used
    )


@router.post(
    "/documents/{doc_id}/supersede",
    response_model=LifecycleResponse,
    summary="Replace an anchored document by its amended successor on chain",
    responses=responses(401, 403, 404, 409, 413, 422, 502, 503),
)
def supersede(
    doc_id: DocId, body: SupersedeRequest, principal: IssuerKey, services: ServicesDep
) -> LifecycleResponse:
    old = owned(services, principal, doc_id)
    new = services.docs.get(body.successorId)
    if new is None:
        raise ApiError(404, "DOCUMENT_NOT_FOUND", f"no document {body.successorId}", field="successorId")
    principal.require_party(new.party)
    receipt = services.lifecycle.supersede(old, new)
    return LifecycleResponse(
        id=old.id, action="superseded", successorId=new.id, transaction=_transaction(receipt)
    )


@router.get(
    "/intake",
    response_model=IntakeStats,
    summary="Intake backlog and batch counts",
    responses=responses(401, 403),
)
def intake_stats(principal: IntakeStatsKey, services: ServicesDep) -> IntakeStats:
    assert principal.party is not None
    return IntakeStats(
        party=principal.party,
        documents=services.docs.counts(principal.party),
        backlog=services.backlog.value,
        backlogLimit=services.backlog.limit,
        batches=services.batches.counts(),
    )
