"""Shared between the ask and conversation routers: validate, then the channel session
(bots/session.py: history window, ask or stream, store, count)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from sse_starlette import EventSourceResponse

from assistant.config import Settings
from assistant.index import IndexMissing
from assistant.models import Answer, Turn
from assistant.service import Assistant, UserError
from assistant.service import check_question as validate
from bots.session import ChannelSession
from storage import Stores

from .cache import AnswerCache
from .metrics import Metrics
from .security import ApiError

log = logging.getLogger("opschaal.web")
CHANNEL = "web"
NOT_READY = "de kennisbank is nog niet geladen; probeer het over een minuut opnieuw"
INTERNAL = "er ging iets mis aan onze kant; probeer het later opnieuw of meld het bij de beheerder"


def check_question(question: str, settings: Settings) -> str:
    """Clear 422s before any work (and before a stream starts, when a status can still be sent)."""
    try:
        return validate(question, settings.max_question_chars)
    except UserError as exc:
        code = "question_empty" if not (question or "").strip() else "question_too_long"
        raise ApiError(422, code, str(exc)) from exc


def answer_body(answer: Answer, conversation_id: str | None = None) -> dict:
    body = answer.contract_dict()
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    return body


def ask_and_store(
    assistant: Assistant,
    stores: Stores,
    metrics: Metrics,
    question: str,
    *,
    conversation_id: str | None = None,
    history: list[Turn] | None = None,
    cache: AnswerCache | None = None,
    **kwargs,
) -> dict:
    session = ChannelSession(assistant, stores, CHANNEL, metrics)
    if history is None:
        history = session.history(conversation_id)
    if cache is not None and cache.ttl > 0 and not history:
        key = AnswerCache.key(question, **kwargs)
        with cache.lock_for(key):
            answer = cache.get(key)
            if answer is not None:
                metrics.cache_hits.inc()
            else:
                answer = _ask(assistant, question, history, kwargs)
                cache.put(key, answer)
    else:
        answer = _ask(assistant, question, history, kwargs)
    answer = session.record(answer, conversation_id)
    return answer_body(answer, conversation_id)


def _ask(assistant: Assistant, question: str, history: list[Turn] | None, kwargs: dict) -> Answer:
    try:
        return assistant.ask(question, history=history, **kwargs)
    except UserError as exc:
        raise ApiError(422, "invalid_question", str(exc)) from exc
    except IndexMissing as exc:
        log.error("geen index: %s", exc)
        raise ApiError(503, "not_ready", NOT_READY, {"Retry-After": "30"}) from exc


def _event(name: str, data: dict) -> dict:
    return {"event": name, "data": json.dumps(data, ensure_ascii=False)}


def stream_and_store(
    assistant: Assistant,
    stores: Stores,
    metrics: Metrics,
    question: str,
    *,
    conversation_id: str | None = None,
    history: list[Turn] | None = None,
    **kwargs,
) -> EventSourceResponse:
    """SSE: ``delta`` events with ``{"text": …}``, then one ``answer`` event with the full
    contract object (citations, people, next steps, answer_id), or one ``error`` event."""

    session = ChannelSession(assistant, stores, CHANNEL, metrics)

    def events() -> Iterator[dict]:
        try:
            for kind, value in session.stream(question, conversation_id, history=history, **kwargs):
                if kind == "delta":
                    yield _event("delta", {"text": value})
                elif kind == "answer":
                    yield _event("answer", answer_body(value, conversation_id))
        except UserError as exc:
            yield _event("error", {"error": "invalid_question", "detail": str(exc)})
        except IndexMissing as exc:
            log.error("geen index: %s", exc)
            yield _event("error", {"error": "not_ready", "detail": NOT_READY})
        except Exception:
            log.exception("fout tijdens het streamen van een antwoord")
            yield _event("error", {"error": "internal_error", "detail": INTERNAL})

    # A sync generator runs in the threadpool, so the blocking assistant never stalls the loop.
    return EventSourceResponse(
        events(), ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
