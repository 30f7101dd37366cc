"""Audit for the auditor role: the registries' history replayed from the chain, the state at a block or
time, what changed between two blocks, the consistency check with its findings, and the report.

Blocks are a number or `latest`; by default the newest block the service's confirmation depth allows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from anchor.audit import DEFAULT_WINDOW

from ..auth import AuditorKey
from ..middleware import GatedRoute
from ..parsing import parse_at
from ..problems import ApiError, responses
from ..services import ServicesDep

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=GatedRoute)

_BLOCK_PATTERN = r"^(latest|[0-9]{1,19})$"
Block = Annotated[
    str | None,
    Query(pattern=_BLOCK_PATTERN, description="A block number or 'latest' (default: head minus the depth)"),
]
Sample = Annotated[
    int | None,
    Query(ge=0, le=10_000_000, description="Check only this many batches/documents, drawn at random"),
]
Seed = Annotated[int | None, Query(ge=0, le=2**63, description="Seed of the sample (default: the digest)")]
Window = Annotated[
    int,
    Query(ge=0, le=10 * 365 * 86400, description="Seconds before a suspension in which anchoring is flagged"),
]
_ERRORS = responses(401, 403, 422, 502, 503)
# The report is one self-contained page: its own inline stylesheet and SVG charts, no scripts at all.
_REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
_JSON = {"content": {"application/json": {"schema": {"type": "object"}}}}


@router.get("/replay", summary="Replay the registries' events to a block", responses=_ERRORS)
async def replay(principal: AuditorKey, services: ServicesDep, block: Block = None) -> dict[str, Any]:
    return await run_in_threadpool(services.audits.replay, block)


@router.get("/state", summary="The registries' state at a block or a time", responses=_ERRORS)
async def state(
    principal: AuditorKey,
    services: ServicesDep,
    block: Block = None,
    at: Annotated[
        str | None, Query(max_length=40, description="A time: unix seconds or ISO 8601 (instead of block)")
    ] = None,
    known_at: Annotated[
        str | None,
        Query(
            alias="knownAt",
            pattern=_BLOCK_PATTERN,
            description="Judge with the history known at this later block (shows later backdated changes)",
        ),
    ] = None,
    full: Annotated[bool, Query(description="Also list every batch and document status")] = False,
) -> dict[str, Any]:
    return await run_in_threadpool(services.audits.state, block, parse_at(at), known_at, full)


@router.get("/diff", summary="What changed between two blocks", responses=_ERRORS)
async def diff(
    principal: AuditorKey,
    services: ServicesDep,
    start: Annotated[str, Query(alias="from", pattern=_BLOCK_PATTERN, description="The earlier block")],
    end: Annotated[str, Query(alias="to", pattern=_BLOCK_PATTERN, description="The later block")],
) -> dict[str, Any]:
    return await run_in_threadpool(services.audits.diff, start, end)


class CheckQuery:
    """What a consistency check (and so a report) is asked with."""

    def __init__(
        self, block: Block = None, sample: Sample = None, seed: Seed = None, window: Window = DEFAULT_WINDOW
    ) -> None:
        self.block, self.sample, self.seed, self.window = block, sample, seed, window


Checked = Annotated[CheckQuery, Depends()]


@router.get("/check", summary="The replay against the contracts' views, and the findings", responses=_ERRORS)
async def check(principal: AuditorKey, services: ServicesDep, q: Checked) -> dict[str, Any]:
    return await run_in_threadpool(services.audits.check, q.block, q.sample, q.seed, q.window)


async def _page(services: ServicesDep, q: CheckQuery, name: str) -> bytes | None:
    pages = await run_in_threadpool(services.audits.report, q.block, q.sample, q.seed, q.window)
    return pages.get(name)


@router.get(
    "/report",
    summary="The audit report: a self-contained HTML page with charts",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def report(principal: AuditorKey, services: ServicesDep, q: Checked) -> Response:
    page = await _page(services, q, "report.html")
    return Response(
        page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": _REPORT_CSP}
    )


@router.get("/report.json", summary="The audit report's data", responses={**_ERRORS, 200: _JSON})
async def report_json(principal: AuditorKey, services: ServicesDep, q: Checked) -> Response:
    return Response(await _page(services, q, "report.json"), media_type="application/json")


@router.get(
    "/csv/{table}.csv",
    summary="One of the report's tables as CSV",
    response_class=Response,
    responses={
        **responses(401, 403, 404, 422, 502, 503),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def report_csv(
    principal: AuditorKey,
    services: ServicesDep,
    table: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$", description="The table, e.g. batches")],
    q: Checked,
) -> Response:
    page = await _page(services, q, f"csv/{table}.csv")
    if page is None:
        raise ApiError(404, "NO_SUCH_TABLE", f"the report has no table {table!r}", field="path.table")
    return Response(page, media_type="text/csv; charset=utf-8")
