"""Conversations: create one, add follow-up questions that use the stored history."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from storage import NotFound

from ..answering import CHANNEL, ask_and_store, check_question, stream_and_store
from ..deps import AssistantDep, AudienceDep, MetricsDep, SettingsDep, StoresDep
from ..schemas import (
    SSE_RESPONSE,
    Conversation,
    ConversationAnswer,
    ConversationCreated,
    ConversationRequest,
    MessageRequest,
    error_responses,
)
from ..security import ApiError

router = APIRouter(prefix="/api/conversations", tags=["gesprekken"])

NOT_FOUND = "dit gesprek bestaat niet (meer); begin een nieuw gesprek"


def _conversation(stores, conversation_id: str, audience: str) -> dict:
    try:
        conv = stores.conversation(conversation_id)
    except NotFound:
        conv = None
    # An internal conversation looks absent to anonymous callers, like an unknown id.
    if (
        conv is None
        or conv["channel"] != CHANNEL
        or (conv["audience"] == "internal" and audience != "internal")
    ):
        raise ApiError(404, "conversation_not_found", NOT_FOUND)
    return conv


@router.post("", status_code=201, summary="Begin een gesprek", response_model=ConversationCreated)
def create_conversation(
    stores: StoresDep, audience: AudienceDep, body: ConversationRequest | None = None
) -> dict:
    cid = stores.create_conversation(CHANNEL, audience=audience)
    return {"conversation_id": cid, "audience": audience}


@router.get(
    "/{conversation_id}",
    summary="Lees een gesprek terug",
    response_model=Conversation,
    responses=error_responses(404),
)
def get_conversation(conversation_id: str, stores: StoresDep, audience: AudienceDep) -> dict:
    conv = _conversation(stores, conversation_id, audience)
    return {
        "conversation_id": conv["id"],
        "created": conv["created"],
        "messages": stores.messages(conversation_id),
    }


@router.post(
    "/{conversation_id}/messages",
    summary="Stel een (vervolg)vraag in een gesprek",
    response_model=ConversationAnswer,
    responses=error_responses(404, 503),
)
def add_message(
    conversation_id: str,
    body: MessageRequest,
    assistant: AssistantDep,
    stores: StoresDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    audience: AudienceDep,
) -> dict:
    """Het antwoord gebruikt de eerdere beurten van het gesprek; vraag en antwoord worden
    aan het gesprek toegevoegd."""
    _conversation(stores, conversation_id, audience)
    question = check_question(body.question, settings)
    return ask_and_store(
        assistant,
        stores,
        metrics,
        question,
        conversation_id=conversation_id,
        filters=body.filters,
        audience=audience,
        language=body.language,
        k=body.k,
    )


@router.post(
    "/{conversation_id}/messages/stream",
    summary="Vervolgvraag, antwoord als Server-Sent Events",
    response_class=EventSourceResponse,
    responses={**SSE_RESPONSE, **error_responses(404, 503)},
)
def add_message_stream(
    conversation_id: str,
    body: MessageRequest,
    assistant: AssistantDep,
    stores: StoresDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    audience: AudienceDep,
):
    """Zelfde events als `POST /api/ask/stream`; het `answer`-event draagt ook `conversation_id`."""
    _conversation(stores, conversation_id, audience)
    question = check_question(body.question, settings)
    return stream_and_store(
        assistant,
        stores,
        metrics,
        question,
        conversation_id=conversation_id,
        filters=body.filters,
        audience=audience,
        language=body.language,
        k=body.k,
    )
