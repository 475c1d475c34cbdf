"""The contract's JSON, typed (contract §3). Fields may be added, never renamed or removed."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

Language = Literal["nl", "en"]
Audience = Literal["public", "internal"]
#: Feedback on an answer (contract §3, POST /api/feedback).
Rating = Literal["up", "down"]


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    url: str | None = None
    type: str
    snippet: str
    score: float
    #: Optional extras (contract allows additions).
    heading: str | None = None
    page: int | None = None

    def source_url(self, public_url: str | None) -> str | None:
        """The link this citation points to in every channel: the document's own url, else the
        service's source page (``<public_url>/bronnen/<doc_id>``), else nothing."""
        if self.url:
            return self.url
        if public_url:
            return f"{str(public_url).rstrip('/')}/bronnen/{quote(self.doc_id, safe='/')}"
        return None


class PersonCard(BaseModel):
    id: str
    name: str
    role: str | None = None
    organisation: str | None = None
    reason: str
    obstacles: list[str] = Field(default_factory=list)
    contact: dict[str, str] = Field(default_factory=dict)


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Filters(BaseModel):
    """Metadata filters on retrieval; every field narrows, empty means no filter."""

    type: list[str] = Field(default_factory=list)
    phases: list[str] = Field(default_factory=list)
    obstacles: list[str] = Field(default_factory=list)
    organisation: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not any((self.type, self.phases, self.obstacles, self.organisation, self.language))


class Answer(BaseModel):
    question: str
    language: Language
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[str] = Field(default_factory=list)
    people: list[PersonCard] = Field(default_factory=list)
    obstacles: list[str] = Field(default_factory=list)
    phase: str | None = None
    #: The phase's name in the answer's language (``name_en`` of phases.yaml for English).
    phase_name: str | None = None
    next_steps: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    #: Which answerer produced ``answer`` (``extractive``, ``llm:<model>``…).
    answerer: str = "extractive"
    #: Why a configured language model's answer was replaced by the extractive one (``timeout``,
    #: ``http_error``, ``bad_response``, ``no_citations``, ``unsupported``…); ``None`` otherwise.
    fallback_reason: str | None = None
    #: Checks on the language model's own text (also when it fell back): share of its ``[n]``
    #: markers that named an existing source, and share of its sentences supported by the
    #: passages they cite. ``None`` when no model text was produced.
    citation_validity: float | None = None
    supported_ratio: float | None = None
    #: Set by channels that store answers (web, Slack, Teams) so feedback can refer to it.
    answer_id: str | None = None

    def contract_dict(self) -> dict:
        return self.model_dump(mode="json")
