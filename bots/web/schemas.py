"""Request and response bodies of the web API, and the error responses the OpenAPI schema
documents. Responses are the contract §3 answer object plus ids."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from assistant.models import Answer, Filters, Rating, Turn

#: Text must contain something besides whitespace, as Python's ``str.strip`` (which the server
#: applies first) sees it; spelled for JSON Schema validators (Rust and Python regexes), whose
#: ``\s`` leaves out the separators U+001C–U+001F that ``strip`` removes.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


def unencodable_path(value: Any, path: str = "") -> str | None:
    """Where ``value`` holds text that cannot be written as UTF-8 (a lone UTF-16 surrogate,
    which JSON's ``\\ud800`` escape can carry), as ``a.0.b``; None when all text is fine."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        sub = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and unencodable_path(key) is not None:
            return sub
        found = unencodable_path(item, sub)
        if found is not None:
            return found
    return None


class ApiModel(BaseModel):
    """A request body: unknown fields are refused, and text that is not valid Unicode stops at
    the edge (a 422), so it never reaches the embedder, the index or SQLite."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        path = unencodable_path(value)
        if path is not None:
            raise PydanticCustomError(
                "invalid_text",
                "bevat een losse UTF-16-surrogaat en is dus geen geldige UTF-8-tekst",
                {"path": path},
            )
        return value


class AskRequest(ApiModel):
    question: str = Field(
        min_length=1,
        pattern=NOT_BLANK,
        description="De vraag; lengte begrensd door OPSCHAAL_MAX_QUESTION_CHARS.",
    )
    history: list[Turn] = Field(default_factory=list, max_length=50, description="Eerdere beurten.")
    filters: Filters | None = None
    language: Literal["nl", "en"] | None = Field(
        default=None, description="Taal van het antwoord; standaard herkend uit de vraag."
    )
    k: int | None = Field(
        default=None, ge=1, le=20, description="Aantal bronnen voor het antwoord."
    )


class MessageRequest(ApiModel):
    question: str = Field(min_length=1, pattern=NOT_BLANK)
    filters: Filters | None = None
    language: Literal["nl", "en"] | None = None
    k: int | None = Field(default=None, ge=1, le=20)


class ConversationRequest(ApiModel):
    pass


class FeedbackRequest(ApiModel):
    answer_id: str = Field(min_length=1, max_length=64)
    rating: Rating
    comment: str | None = Field(default=None, max_length=2000)
    doc_id: str | None = Field(
        default=None, max_length=300, description="Optioneel: de bron waar de feedback over gaat."
    )


class FeedbackCommentRequest(ApiModel):
    answer_id: str = Field(min_length=1, max_length=64)
    comment: str = Field(
        min_length=1, max_length=2000, pattern=NOT_BLANK, description="Wat miste er?"
    )


class IntroRequest(ApiModel):
    person_id: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, pattern=NOT_BLANK)
    name: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    language: Literal["nl", "en"] | None = None


# -- responses ------------------------------------------------------------------------------
class OpenModel(BaseModel):
    """A response that may gain fields (the contract allows additions): extra keys pass."""

    model_config = ConfigDict(extra="allow")


class AnswerResponse(Answer):
    """The contract §3 answer object; ``answer_id`` refers to it in feedback."""

    model_config = ConfigDict(extra="allow")


class ConversationAnswer(AnswerResponse):
    conversation_id: str


class ConversationCreated(BaseModel):
    conversation_id: str
    audience: Literal["public", "internal"]


class Message(OpenModel):
    role: Literal["user", "assistant"]
    content: str
    answer_id: str | None = None
    created: str


class Conversation(BaseModel):
    conversation_id: str
    created: str
    messages: list[Message]


class FeedbackSaved(BaseModel):
    ok: bool
    feedback_id: int


class IntroResponse(BaseModel):
    person_id: str
    text: str


class Section(OpenModel):
    heading: str | None = None
    page: int | None = None
    text: str


class Document(OpenModel):
    id: str
    title: str
    type: str | None = None
    url: str | None = None
    language: str | None = None
    date: str | None = None
    organisation: str | None = None
    visibility: str | None = None
    phases: list[str] | None = None
    obstacles: list[str] | None = None
    summary: str | None = None
    sections: list[Section]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    detail: str | None = None
    degraded: bool | None = Field(
        default=None, description="true when the configured language model is switched off"
    )
    llm: dict[str, Any] | None = Field(
        default=None, description="the language model's breaker state, when one is configured"
    )


class ErrorBody(BaseModel):
    """Every error: a stable code to branch on and one Dutch line to show."""

    error: str = Field(examples=["rate_limited"])
    detail: str = Field(examples=["te veel vragen achter elkaar; probeer het over 5 seconden"])


class FieldError(BaseModel):
    field: str = Field(examples=["question"])
    message: str = Field(examples=["ontbreekt"])


class ValidationErrorBody(ErrorBody):
    """A 422: the error and line of every error, plus what was wrong per field."""

    fields: list[FieldError] = Field(default_factory=list)


ERROR_TEXT = {
    400: "De body kon niet worden gelezen (geen JSON, geen UTF-8).",
    401: "De API-sleutel in `Authorization: Bearer` of `X-API-Key` is onbekend.",
    403: "Geweigerd: een ander antwoord dan waar de feedback bij hoort, of een formulier van een andere site.",
    404: "Niet gevonden (of niet zichtbaar zonder sleutel).",
    409: "Conflict met wat er al is opgeslagen.",
    413: "De body is groter dan OPSCHAAL_MAX_BODY_BYTES.",
    422: "Ongeldige invoer; `fields` zegt welk veld.",
    429: "Te veel verzoeken; `Retry-After` zegt hoeveel seconden te wachten.",
    503: "De kennisbank is nog niet geladen.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, in the shape the server really sends."""
    return {
        code: {
            "model": ValidationErrorBody if code == 422 else ErrorBody,
            "description": ERROR_TEXT[code],
        }
        for code in codes
    }


def _event(name: str, content: dict) -> dict:
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": content,
            },
        },
    }


#: What an SSE route answers with 200: each event, as the schema of one event (OpenAPI 3.1).
SSE_RESPONSE = {
    200: {
        "description": "Server-Sent Events: `delta`-events met tekst, dan één `answer` (of `error`).",
        "content": {
            "text/event-stream": {
                "schema": {
                    "oneOf": [
                        _event(
                            "delta",
                            {
                                "type": "object",
                                "required": ["text"],
                                "properties": {"text": {"type": "string"}},
                            },
                        ),
                        _event("answer", {"$ref": "#/components/schemas/AnswerResponse"}),
                        _event("error", {"$ref": "#/components/schemas/ErrorBody"}),
                    ]
                }
            }
        },
    }
}
