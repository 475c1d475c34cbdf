"""Request bodies of the web API. Responses are the contract §3 answer object plus ids."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.models import Filters, Turn


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="De vraag; lengte begrensd door OPSCHAAL_MAX_QUESTION_CHARS.")
    history: list[Turn] = Field(default_factory=list, max_length=50, description="Eerdere beurten.")
    filters: Filters | None = None
    language: Literal["nl", "en"] | None = Field(
        default=None, description="Taal van het antwoord; standaard herkend uit de vraag."
    )
    k: int | None = Field(
        default=None, ge=1, le=20, description="Aantal bronnen voor het antwoord."
    )


class MessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    filters: Filters | None = None
    language: Literal["nl", "en"] | None = None
    k: int | None = Field(default=None, ge=1, le=20)


class ConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)
    doc_id: str | None = Field(
        default=None, max_length=300, description="Optioneel: de bron waar de feedback over gaat."
    )


class FeedbackCommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=64)
    comment: str = Field(min_length=1, max_length=2000)


class IntroRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1)
    name: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    language: Literal["nl", "en"] | None = None
