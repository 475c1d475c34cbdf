"""A contribution: a lesson or obstacle a user shares back from the chat."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EMAIL = re.compile(EMAIL_PATTERN)


class ContributionError(ValueError):
    """Validation failed; ``str()`` is one Dutch line naming the fields."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        #: Field name → message, for forms that show errors next to each input.
        self.fields = fields or {}


MAX_CHARS = {
    "title": 160,
    "tried": 6000,
    "learned": 6000,
    "organisation": 160,
    "name": 120,
    "email": 200,
}


class Contribution(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Minimum lengths count what is left after stripping; maximum lengths count what was sent,
    # so the limit means the same to a client, a JSON Schema validator and this model.
    title: str = Field(min_length=5, json_schema_extra={"maxLength": MAX_CHARS["title"]})
    tried: str = Field(min_length=20, json_schema_extra={"maxLength": MAX_CHARS["tried"]})
    obstacles: list[str] = Field(min_length=1, max_length=5)
    learned: str = Field(min_length=20, json_schema_extra={"maxLength": MAX_CHARS["learned"]})
    organisation: str = Field(
        min_length=2, json_schema_extra={"maxLength": MAX_CHARS["organisation"]}
    )
    #: Must be given explicitly; there is no default, so silence never counts as consent.
    contact_ok: bool
    name: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_CHARS["name"]})
    email: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_CHARS["email"]})

    @field_validator(*MAX_CHARS, mode="before")
    @classmethod
    def _not_too_long(cls, v, info):
        limit = MAX_CHARS[info.field_name]
        if isinstance(v, str) and len(v) > limit:
            raise PydanticCustomError("string_too_long", "is te lang", {"max_length": limit})
        return v

    @field_validator("contact_ok", mode="before")
    @classmethod
    def _explicit(cls, v):
        if not isinstance(v, bool):
            raise ValueError("kies true of false")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not _EMAIL.match(v):
            raise ValueError("geen geldig e-mailadres")
        return v or None

    @model_validator(mode="after")
    def _contactable(self) -> Contribution:
        if self.contact_ok and not (self.name and self.email):
            raise ValueError("wie benaderd mag worden, geeft ook naam en e-mailadres op")
        return self


FIELD_LABELS = {
    "title": "titel",
    "tried": "wat je hebt geprobeerd",
    "obstacles": "obstakels",
    "learned": "wat je hebt geleerd",
    "organisation": "organisatie",
    "contact_ok": "mag je benaderd worden",
    "name": "naam",
    "email": "e-mailadres",
}


def parse_contribution(data: dict, known_obstacles: set[str]) -> Contribution:
    try:
        c = Contribution.model_validate(data)
    except ValidationError as exc:
        parts, fields = [], {}
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else ""
            label = FIELD_LABELS.get(field, field or "bijdrage")
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "missing":
                msg = "is verplicht"
            elif e["type"] == "string_too_short":
                msg = f"is te kort (minstens {e['ctx']['min_length']} tekens)"
            elif e["type"] == "string_too_long":
                msg = f"is te lang (hoogstens {e['ctx']['max_length']} tekens)"
            elif e["type"] == "too_short":
                msg = "kies er minstens één"
            elif e["type"] == "extra_forbidden":
                msg = "is geen veld van een bijdrage"
            parts.append(f"{label}: {msg}")
            fields.setdefault(field or ("name" if "naam" in msg else "contact_ok"), msg)
        raise ContributionError("; ".join(parts), fields) from exc
    unknown = [o for o in c.obstacles if o not in known_obstacles]
    if unknown:
        msg = f"onbekend {', '.join(unknown)}; kies uit {', '.join(sorted(known_obstacles))}"
        raise ContributionError(f"obstakels: {msg}", {"obstacles": msg})
    return c
