"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from assistant.service import Assistant

from ..deps import MetricsDep
from ..schemas import Health, Readiness

if TYPE_CHECKING:
    from ..app import WarmStatus

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


def llm_status(assistant: Assistant) -> dict | None:
    """The language model's state (``LLMAnswerer.status()``), or ``None`` without one. Only
    once the index is loaded: building the answerer before that would load it here."""
    if not assistant.ready:
        return None
    status = getattr(assistant.answerer, "status", None)
    return status() if callable(status) else None


def degraded_detail(status: dict) -> str:
    model = status["model"]
    if status["state"] == "unavailable":
        why = "kan niet worden gestart (zie het serverlog)"
    elif status["state"] == "half_open":
        why = "krijgt na een storing één proefvraag"
    else:
        retry = status.get("retry_in_s")
        why = f"is tijdelijk uitgeschakeld ({status.get('reason')}" + (
            f", nieuwe poging over {retry:g} s)" if retry is not None else ")"
        )
    return (
        f"het taalmodel {model} {why}; antwoorden komen van de extractieve beantwoorder, "
        "met bronnen"
    )


@router.get(
    "/readyz",
    summary="Is de index geladen en het model warm?",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Nog niet gereed; `Retry-After`."}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    if is_ready(request):
        body: dict = {"ready": True}
        status = state.metrics.sync_llm()
        if status:
            # Still ready (200): every question is answered, without the model. Degraded tells
            # an operator the model is switched off, and which one.
            body["llm"] = status
            if status["degraded"]:
                body["degraded"] = True
                body["detail"] = degraded_detail(status)
        return JSONResponse(body)
    waiting: dict[WarmStatus, str] = {
        "warming": "de kennisbank wordt geladen",
        "failed": "de kennisbank kon niet laden; zie het serverlog",
    }
    detail = waiting.get(state.warm_status, "de kennisbank is nog niet geladen")
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
