"""``POST /api/intro``: draft an introduction to a recommended person."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.service import PersonUnavailable, UserError

from ..answering import check_question
from ..deps import AssistantDep, SettingsDep
from ..schemas import IntroRequest, IntroResponse, error_responses
from ..security import ApiError

router = APIRouter(prefix="/api", tags=["mensen"])


@router.post(
    "/intro",
    summary="Schrijf een introductie aan een aanbevolen persoon",
    response_model=IntroResponse,
    responses=error_responses(404),
)
def intro(body: IntroRequest, assistant: AssistantDep, settings: SettingsDep) -> dict:
    """Alleen voor mensen die toestemming gaven; voor anderen (en onbekende ids) een 404
    met dezelfde tekst, zodat niets uitlekt."""
    question = check_question(body.question, settings)
    try:
        text = assistant.intro(
            body.person_id, question, body.name, body.organisation, body.language
        )
    except PersonUnavailable as exc:
        raise ApiError(404, "person_unavailable", str(exc)) from exc
    except UserError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    return {"person_id": body.person_id, "text": text}
