"""Liveness (the process answers) and readiness (it can do its job)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import ServicesDep
from ..gate import GatedRoute
from ..models.admin import Liveness, Readiness

router = APIRouter(prefix="/v1/health", tags=["health"], route_class=GatedRoute)


@router.get("/live", response_model=Liveness, summary="Liveness: the process answers")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: chain reachable, deployment found and verified, signers funded, backlog, recovery",
    responses={503: {"model": Readiness, "description": "Not ready; the failing checks say why"}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    ok, checks = await run_in_threadpool(services.readiness.check)
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)
