"""The plan's typed parts: intake, stakeholders, business-case rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Ambition = Literal["in", "out", "up", "deep", "beyond"]
AMBITIONS: tuple[str, ...] = ("in", "out", "up", "deep", "beyond")
Stance = Literal["voor", "neutraal", "tegen", "onbekend"]
TaskStatus = Literal["open", "bezig", "klaar"]

_SHORT = 2000


class Intake(BaseModel):
    """The answers to the intake questions (also the keys of ``opschaal plan new --from``)."""

    model_config = ConfigDict(extra="forbid")

    innovation: str = Field(min_length=2, max_length=300)
    problem: str = Field(default="", max_length=_SHORT)
    where: str = Field(default="", max_length=_SHORT)
    owner: str = Field(default="", max_length=_SHORT)
    budget: str = Field(default="", max_length=_SHORT)
    blocker: str = Field(default="", max_length=_SHORT)
    ambition: Ambition = "out"
    language: Literal["nl", "en"] = "nl"

    @field_validator("innovation", "problem", "where", "owner", "budget", "blocker", mode="before")
    @classmethod
    def _strip(cls, v):
        return v.strip() if isinstance(v, str) else v

    def text(self) -> str:
        """The free text the detection runs over."""
        return " ".join(
            x for x in (self.problem, self.where, self.blocker, self.owner, self.budget) if x
        )


class Stakeholder(BaseModel):
    """A role or organisation, never a private person."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=2, max_length=200)
    interest: int = Field(default=3, ge=1, le=5)
    influence: int = Field(default=3, ge=1, le=5)
    stance: Stance = "onbekend"
    note: str = Field(default="", max_length=500)


class CaseRow(BaseModel):
    """One line of the five-year business case: an amount per year (euro), and the parties."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=200)
    kind: Literal["eenmalig", "jaarlijks", "baten"]
    years: list[float] = Field(default_factory=lambda: [0.0] * 5, min_length=5, max_length=5)
    payer: str = Field(default="", max_length=200)
    beneficiary: str = Field(default="", max_length=200)
