"""``POST /api/ask``: one question, one answer (contract §3 plus ``answer_id``)."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from ..answering import ask_and_store, check_question, stream_and_store
from ..deps import AnswerCacheDep, AssistantDep, AudienceDep, MetricsDep, SettingsDep, StoresDep
from ..schemas import SSE_RESPONSE, AnswerResponse, AskRequest, error_responses

router = APIRouter(prefix="/api", tags=["vragen"])


@router.post(
    "/ask",
    summary="Stel één vraag",
    response_model=AnswerResponse,
    responses=error_responses(503),
)
def ask(
    body: AskRequest,
    assistant: AssistantDep,
    stores: StoresDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    audience: AudienceDep,
    cache: AnswerCacheDep,
) -> dict:
    """Geeft het antwoordobject uit het contract (§3), met `answer_id` voor feedback.
    Anoniem: alleen openbare documenten; met een API-sleutel ook interne."""
    question = check_question(body.question, settings)
    return ask_and_store(
        assistant,
        stores,
        metrics,
        question,
        history=body.history[-8:],
        filters=body.filters,
        audience=audience,
        language=body.language,
        k=body.k,
        cache=cache,
    )


@router.post(
    "/ask/stream",
    summary="Stel één vraag, antwoord als Server-Sent Events",
    response_class=EventSourceResponse,
    responses={**SSE_RESPONSE, **error_responses(503)},
)
def ask_stream(
    body: AskRequest,
    assistant: AssistantDep,
    stores: StoresDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    audience: AudienceDep,
):
    """Events: `delta` (`{"text": …}`) zolang de tekst binnenkomt, dan één `answer` met het
    volledige antwoordobject, of één `error` (`{"error", "detail"}`)."""
    question = check_question(body.question, settings)
    return stream_and_store(
        assistant,
        stores,
        metrics,
        question,
        history=body.history[-8:],
        filters=body.filters,
        audience=audience,
        language=body.language,
        k=body.k,
    )
