"""The question file (contract §4): JSON Lines or a YAML list, validated into ``Question``s.

Every validation problem becomes one line naming the file, the item and the field, because a
question file is edited by hand and a pydantic traceback helps nobody.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

#: The bundled question set, shipped inside the package (pyproject package-data).
BUNDLED_QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"


class QuestionFileError(ValueError):
    """A question file that cannot be used; ``str()`` is one line saying where and what to fix."""


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str


class Nugget(BaseModel):
    """A key fact a good answer states (contract §4): it holds when every prefix of one
    alternative begins a word of the answer (``evals.answer_quality``)."""

    model_config = ConfigDict(extra="forbid")
    fact: str = Field(min_length=1)
    any: list[list[str]] = Field(min_length=1)

    @field_validator("any")
    @classmethod
    def _alternatives_not_empty(cls, v: list[list[str]]) -> list[list[str]]:
        for alt in v:
            if not alt or any(not str(p).strip() for p in alt):
                raise ValueError(
                    "elk alternatief is een niet-lege lijst van niet-lege voorvoegsels"
                )
        return v


class Question(BaseModel):
    """One item of a question file. ``None`` means "not labelled": the metric skips it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    language: Literal["nl", "en"] | None = None
    expected_docs: list[str] | None = None
    expected_people: list[str] | None = None
    expected_obstacles: list[str] | None = None
    should_abstain: bool = False
    history: list[HistoryTurn] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    nuggets: list[Nugget] | None = None
    # Extensions (contract §4 allows added optional fields).
    expected_phase: str | None = None
    audience: Literal["public", "internal"] = "public"

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, v: object) -> object:
        # YAML turns `id: 12` into an int; an id is a label, so accept it as text.
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @property
    def lang(self) -> str:
        return self.language or "nl"


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "vraag"
    if err["type"] == "extra_forbidden":
        known = ", ".join(Question.model_fields)
        return f"onbekend veld '{where}' (bekende velden: {known})"
    if err["type"] == "missing":
        return f"verplicht veld '{where}' ontbreekt"
    return f"veld '{where}': {err['msg']}"


def _raw_items(path: Path) -> list[tuple[int, object]]:
    """(line or position, item) pairs; the number is what a person looks for in the file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        items = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise QuestionFileError(
                    f"{path}:{lineno}: geen geldige JSON ({exc.msg}); zet één vraag-object per regel"
                ) from None
        return items
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "ongeldige YAML"
        raise QuestionFileError(
            f"{path}{line}: {problem}; controleer inspringing en aanhalingstekens"
        ) from None
    if data is None:
        data = []
    if not isinstance(data, list):
        raise QuestionFileError(
            f"{path}: verwacht een YAML-lijst van vragen (elk item begint met '- id:')"
        )
    return list(enumerate(data, 1))


def load_questions(path: Path | str | None = None) -> list[Question]:
    """Read and validate a question file (``.jsonl``/``.ndjson``/``.json`` lines, else YAML)."""
    path = Path(path) if path is not None else BUNDLED_QUESTIONS
    if not path.is_file():
        raise QuestionFileError(
            f"vragenbestand {path} bestaat niet; geef een bestaand bestand met --questions"
        )
    unit = "regel" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "item"
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for pos, raw in _raw_items(path):
        label = f"{path}: {unit} {pos}"
        if not isinstance(raw, dict):
            raise QuestionFileError(f"{label}: verwacht een object met minstens 'id' en 'question'")
        if "id" in raw:
            label += f" (id '{raw['id']}')"
        try:
            q = Question.model_validate(raw)
        except ValidationError as exc:
            raise QuestionFileError(f"{label}: {_one_line(exc)}") from None
        if q.id in seen:
            raise QuestionFileError(
                f"{label}: id '{q.id}' komt al voor bij {unit} {seen[q.id]}; maak ids uniek"
            )
        seen[q.id] = pos
        questions.append(q)
    if not questions:
        raise QuestionFileError(f"{path}: bevat geen vragen")
    return questions


def check_labels(
    questions: list[Question],
    docs: dict[str, str],
    people: dict[str, bool],
    obstacles: set[str],
    phases: set[str],
) -> list[str]:
    """Labels that point at nothing in this index: one line each. A typo in ``expected_docs``
    would otherwise quietly count as a retrieval failure. ``docs`` maps doc id to visibility,
    ``people`` person id to consent."""
    problems = []
    for q in questions:
        for d in q.expected_docs or []:
            if d not in docs:
                problems.append(f"vraag '{q.id}': expected_docs noemt onbekend document '{d}'")
            elif q.audience == "public" and docs[d] != "public":
                problems.append(
                    f"vraag '{q.id}': expected_docs noemt intern document '{d}' bij een publieke vraag; "
                    "haal het weg of zet 'audience: internal'"
                )
        for p in q.expected_people or []:
            if p not in people:
                problems.append(f"vraag '{q.id}': expected_people noemt onbekende persoon '{p}'")
            elif not people[p]:
                problems.append(
                    f"vraag '{q.id}': expected_people noemt '{p}', die geen toestemming gaf; "
                    "zo iemand mag nooit worden aanbevolen"
                )
        for o in q.expected_obstacles or []:
            if o not in obstacles:
                problems.append(f"vraag '{q.id}': expected_obstacles noemt onbekend obstakel '{o}'")
        if q.expected_phase and q.expected_phase not in phases:
            problems.append(
                f"vraag '{q.id}': expected_phase noemt onbekende fase '{q.expected_phase}'"
            )
    return problems
