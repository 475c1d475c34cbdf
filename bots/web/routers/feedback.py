"""``POST /api/feedback``: 👍/👎 and an optional comment per answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from storage import AnswerMismatch, NotFound

from ..answering import CHANNEL
from ..deps import MetricsDep, StoresDep
from ..schemas import FeedbackCommentRequest, FeedbackRequest, FeedbackSaved, error_responses
from ..security import ApiError

router = APIRouter(prefix="/api", tags=["feedback"])

#: SQLite stores integers in 64 bits; a larger id is not an id of ours.
FeedbackId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Uit `POST /api/feedback`.")]


@router.post(
    "/feedback",
    status_code=201,
    summary="Geef feedback op een antwoord",
    response_model=FeedbackSaved,
    responses=error_responses(404),
)
def feedback(body: FeedbackRequest, stores: StoresDep, metrics: MetricsDep) -> dict:
    comment = (body.comment or "").strip() or None
    try:
        fid = stores.add_feedback(
            body.answer_id, body.rating, CHANNEL, comment=comment, doc_id=body.doc_id
        )
    except NotFound as exc:
        raise ApiError(
            404,
            "answer_not_found",
            "dit antwoord is onbekend; geef feedback op een antwoord uit dit gesprek",
        ) from exc
    metrics.feedback.labels(body.rating, CHANNEL).inc()
    return {"ok": True, "feedback_id": fid}


@router.post(
    "/feedback/{feedback_id}/comment",
    summary="Voeg een toelichting toe aan feedback",
    response_model=FeedbackSaved,
    responses=error_responses(403, 404, 409),
)
def feedback_comment(
    feedback_id: FeedbackId, body: FeedbackCommentRequest, stores: StoresDep
) -> dict:
    """Een toelichting bij eerder gegeven feedback (de widget stuurt 👎 meteen en de toelichting
    daarna). `answer_id` moet bij de feedback horen; één toelichting per feedback."""
    comment = body.comment.strip()
    if not comment:
        raise ApiError(422, "comment_empty", "de toelichting is leeg; typ wat je miste")
    try:
        added = stores.add_feedback_comment(feedback_id, body.answer_id, comment)
    except NotFound as exc:
        raise ApiError(
            404,
            "feedback_not_found",
            "deze feedback is onbekend; geef eerst 👍 of 👎 op het antwoord",
        ) from exc
    except AnswerMismatch as exc:
        raise ApiError(
            403,
            "answer_mismatch",
            "deze feedback hoort bij een ander antwoord; stuur het answer_id van het antwoord waarop je 👍 of 👎 gaf",
        ) from exc
    if not added:
        raise ApiError(409, "comment_exists", "bij deze feedback staat al een toelichting")
    return {"ok": True, "feedback_id": feedback_id}
