"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parley.api.deps import NodeDep
from parley.api.schemas.common import from_record
from parley.api.schemas.ops import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def readyz(node: NodeDep) -> JSONResponse:
    checks = await node.ready()
    ready = from_record(ReadyOut, checks)
    return JSONResponse(ready.model_dump(), status_code=200 if ready.ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(node: NodeDep) -> Response:
    """Prometheus text format: sockets, media rooms and peers, and each mixer's figures."""
    return Response(generate_latest(node.metrics), media_type=CONTENT_TYPE_LATEST)
