"""Liveness (the process answers) and readiness (it can do its job)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from ..middleware import GatedRoute
from ..models import Liveness, Readiness
from ..services import ServicesDep

router = APIRouter(prefix="/v1/health", tags=["health"], route_class=GatedRoute)


@router.get("/live", response_model=Liveness, summary="Liveness: the process answers")
async def live() -> Liveness:
    return Liveness(status="alive")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: chain reachable, deployment found and verified, signers funded, backlog, recovery",
    responses={503: {"model": Readiness, "description": "Not ready; the failing checks say why"}},
)
async def ready(services: ServicesDep, response: Response) -> Readiness:
    if services.settings.offline:  # no node: ready when the trust pack is accepted and fresh enough
        ok, checks = await run_in_threadpool(services.verification.offline_readiness)
    else:
        ok, checks = await run_in_threadpool(services.readiness.check)
    response.status_code = 200 if ok else 503
    return Readiness(ready=ok, checks=checks)
