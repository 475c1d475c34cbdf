"""``POST /api/feedback``: 👍/👎 and an optional comment per answer."""

from __future__ import annotations

from fastapi import APIRouter

from bots.stores import NotFound

from ..answering import CHANNEL
from ..deps import MetricsDep, StoresDep
from ..schemas import FeedbackRequest
from ..security import ApiError

router = APIRouter(prefix="/api", tags=["feedback"])


@router.post("/feedback", status_code=201, summary="Geef feedback op een antwoord")
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
