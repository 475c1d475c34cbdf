"""Shared between the ask and conversation routers: validate, ask, store, count, stream."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from sse_starlette import EventSourceResponse

from assistant.config import Settings
from assistant.index import IndexMissing
from assistant.models import Answer, Turn
from assistant.service import Assistant, UserError
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
    q = (question or "").strip()
    if not q:
        raise ApiError(422, "question_empty", "de vraag is leeg; typ een vraag over opschalen")
    if len(q) > settings.max_question_chars:
        raise ApiError(
            422,
            "question_too_long",
            f"de vraag is te lang ({len(q)} tekens, maximaal {settings.max_question_chars}); maak hem korter",
        )
    return q


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
    answer = stores.save_answer(answer, CHANNEL, conversation_id)
    metrics.answer(answer, CHANNEL)
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

    def events() -> Iterator[dict]:
        try:
            for kind, value in assistant.stream(question, history=history, **kwargs):
                if kind == "delta":
                    yield _event("delta", {"text": value})
                elif kind == "answer":
                    value = stores.save_answer(value, CHANNEL, conversation_id)
                    metrics.answer(value, CHANNEL)
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
