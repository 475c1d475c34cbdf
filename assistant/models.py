"""The contract's JSON, typed (contract §3). Fields may be added, never renamed or removed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Language = Literal["nl", "en"]
Audience = Literal["public", "internal"]


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
    next_steps: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    #: Which answerer produced ``answer`` (``extractive``, ``llm:<model>``…).
    answerer: str = "extractive"
    #: Set by channels that store answers (web, Slack, Teams) so feedback can refer to it.
    answer_id: str | None = None

    def contract_dict(self) -> dict:
        return self.model_dump(mode="json")
