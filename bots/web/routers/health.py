"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ..deps import MetricsDep
from ..schemas import Health, Readiness

router = APIRouter(tags=["beheer"])


@router.get("/healthz", summary="Leeft het proces?", response_model=Health)
async def healthz() -> dict:
    return {"status": "ok"}


def is_ready(request: Request) -> bool:
    state = request.app.state
    if state.warm_status == "ready":
        return True
    # Without a lifespan (or before it started), fall back to whether the index is loaded.
    return state.warm_status == "not_started" and state.assistant.ready


@router.get(
    "/readyz",
    summary="Is de index geladen en het model warm?",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Nog niet gereed; `Retry-After`."}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    if is_ready(request):
        return JSONResponse({"ready": True})
    detail = {
        "warming": "de kennisbank wordt geladen",
        "failed": "de kennisbank kon niet laden; zie het serverlog",
    }.get(state.warm_status, "de kennisbank is nog niet geladen")
    return JSONResponse(
        {"ready": False, "detail": detail}, status_code=503, headers={"Retry-After": "5"}
    )


@router.get(
    "/metrics",
    summary="Prometheus-metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request, m: MetricsDep) -> Response:
    m.ready.set(1 if is_ready(request) else 0)
    return Response(m.exposition(), media_type=CONTENT_TYPE_LATEST)
