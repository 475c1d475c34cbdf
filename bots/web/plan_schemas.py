"""Request and response bodies of the plan routes (``/api/plans``). The requests reuse the plan
domain's own models, made as strict as the service is, so a body the schema allows is a body
the service accepts (schemathesis holds the API to that)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field

from plans.models import Ambition, CaseRow, Intake, Stakeholder

from .schemas import NOT_BLANK, ApiModel, OpenModel

#: Two characters that survive ``str.strip`` (the intake strips before it checks the length).
TWO_NOT_BLANK = rf"{NOT_BLANK}[\s\S]*{NOT_BLANK}"
#: Sums of five years must stay finite: JSON has no infinity.
Amount = Annotated[float, Field(ge=-1e12, le=1e12)]
Format = Literal["md", "docx", "pdf"]


class PlanIntakeRequest(ApiModel, Intake):
    """The intake: the same keys as ``opschaal plan new --from``."""

    innovation: str = Field(
        min_length=2,
        max_length=300,
        pattern=TWO_NOT_BLANK,
        description="Naam van de innovatie en wat ze doet, in één zin.",
    )


class StakeholderIn(ApiModel, Stakeholder):
    pass


class CaseRowIn(ApiModel, CaseRow):
    years: list[Amount] = Field(
        default_factory=lambda: [0.0] * 5,
        min_length=5,
        max_length=5,
        description="Bedrag per jaar in euro, jaar 1 tot en met 5.",
    )


class PlanEditRequest(ApiModel):
    """Only the fields you send change. ``phase`` and ``obstacles`` correct what was detected;
    ``stakeholders`` and ``business_case`` replace the whole list."""

    innovation: str | None = Field(
        default=None, min_length=2, max_length=300, pattern=TWO_NOT_BLANK
    )
    problem: str | None = Field(default=None, max_length=2000)
    where: str | None = Field(default=None, max_length=2000)
    owner: str | None = Field(default=None, max_length=2000)
    budget: str | None = Field(default=None, max_length=2000)
    blocker: str | None = Field(default=None, max_length=2000)
    ambition: Ambition | None = None
    language: Literal["nl", "en"] | None = None
    phase: str | None = Field(default=None, description="Een fase-sleutel uit het stappenplan.")
    obstacles: list[str] | None = Field(default=None, max_length=20)
    stakeholders: list[StakeholderIn] | None = Field(default=None, max_length=50)
    business_case: list[CaseRowIn] | None = Field(default=None, max_length=50)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)


class TaskRequest(ApiModel):
    title: str = Field(min_length=1, max_length=300, pattern=NOT_BLANK)
    owner: str | None = Field(default=None, max_length=200, description="Trekker (een rol).")
    due: date | None = None


class TaskUpdate(ApiModel):
    status: Literal["open", "bezig", "klaar"] | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300, pattern=NOT_BLANK)
    owner: str | None = Field(default=None, max_length=200)
    due: date | None = None


class ChatRequest(ApiModel):
    text: str = Field(
        min_length=1,
        max_length=2000,
        pattern=NOT_BLANK,
        examples=["wat nu?", "we hebben nu een eigenaar in de lijn"],
    )


class InviteRequest(ApiModel):
    person_id: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=500, pattern=NOT_BLANK)


class RevokeRequest(ApiModel):
    token: str = Field(min_length=1, max_length=100)


# -- responses ------------------------------------------------------------------------------
class Choice(OpenModel):
    key: str
    name: str


class Question(OpenModel):
    key: str
    text: str


class IntakeQuestions(OpenModel):
    language: Literal["nl", "en"]
    questions: list[Question]
    ambitions: list[Choice]
    phases: list[Choice]
    obstacles: list[Choice]
    warning: str


class DetectedObstacle(OpenModel):
    key: str
    label: str
    words: list[str] = Field(default_factory=list)


class PlanCreated(OpenModel):
    plan_id: str
    owner_secret: str = Field(
        description="Bewaar dit geheim (de widget zet het in localStorage) en stuur het mee in "
        "X-Plan-Owner; de server bewaart alleen een hash ervan."
    )
    page: str = Field(description="Pad van de planpagina.")
    language: Literal["nl", "en"]
    phase: str | None = None
    phase_name: str | None = None
    phase_reasons: list[str]
    phase_reason_text: str = Field(
        description="Waarom deze fase, in woorden, in de taal van het plan."
    )
    obstacles: list[DetectedObstacle]


class Task(OpenModel):
    id: str
    title: str
    owner: str | None = None
    due: str | None = None
    status: Literal["open", "bezig", "klaar"]
    source: str | None = None
    obstacle: str | None = None


class PlanView(OpenModel):
    """The whole plan, as ``opschaal plan show --json`` prints it."""

    id: str
    language: Literal["nl", "en"]
    intake: dict[str, Any]
    ambition: str
    ambition_name: str
    phase: str | None = None
    phase_name: str | None = None
    phase_reasons: list[str]
    phase_reason_text: str = Field(
        description="Waarom deze fase, in woorden, in de taal van het plan."
    )
    obstacles: list[dict[str, Any]]
    stakeholders: list[dict[str, Any]]
    suggested_stakeholders: list[dict[str, Any]]
    business_case: dict[str, Any]
    tasks: list[Task]
    next_steps: list[Task]
    invitations: list[dict[str, Any]]
    history: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    created: str
    updated: str
    access: Literal["owner", "shared"]


class TaskAdded(OpenModel):
    id: str


class ChatResult(OpenModel):
    updated: Task | None = None
    next_steps: list[Task]


class InvitationDraft(OpenModel):
    person_id: str
    text: str
    channel: Literal["slack", "teams", "mailto"]
    slack: str | None = None
    teams: str | None = None
    mailto: str | None = None


class ShareLink(OpenModel):
    token: str
    page: str = Field(description="Pad van de planpagina met het token in het fragment.")


class Revoked(OpenModel):
    revoked: bool
