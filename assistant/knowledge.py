"""The knowledge model: documents' metadata, people, obstacles and phases (contract §1).

One set of classes for both sides. Ingest validates the corpus with them and writes
``knowledge.json`` as their JSON dump; the assistant reads that file back into the same classes
(:class:`Knowledge`), and each document's entry of the manifest into :class:`IndexedDoc`, so
every reader works with typed fields instead of dictionaries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

DocType = Literal["blog", "case", "lesson", "guide"]
_ID = re.compile(r"^[a-z0-9][a-z0-9._/-]*$")


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return v


class _DocFields(BaseModel):
    """The document fields of contract §1.1, in the order the manifest has always stored them:
    :class:`DocMeta` validates them at ingest, :class:`IndexedDoc` holds them when serving (a
    test keeps the two field lists equal)."""

    title: str = Field(min_length=1)
    type: DocType = "blog"
    id: str | None = None
    language: Literal["nl", "en"] = "nl"
    date: dt.date | None = None
    organisation: str | None = None
    url: str | None = None
    phases: list[str] = Field(default_factory=list)
    obstacles: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    visibility: Literal["public", "internal"] = "public"
    summary: str | None = None

    _lists = field_validator("phases", "obstacles", "people", mode="before")(_as_list)

    @field_validator("title")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("mag niet leeg zijn")
        return v


class DocMeta(_DocFields):
    """Front matter of a document, or the fields of its ``.meta.yaml`` sidecar."""

    model_config = ConfigDict(extra="allow")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError("alleen kleine letters, cijfers, '-', '_', '.' en '/'")
        return v


def _as_tuple(v):
    return tuple(_as_list(v))


# A slotted dataclass, not a model: every worker holds one per document of the corpus, and a
# pydantic model's per-instance dict and field set cost ~1.5 kB each (22 MB against 4.5 MB for
# 14,557 documents, issue 18). Tuples, because the empty one is shared and nobody edits these.
@pydantic_dataclass(frozen=True, slots=True, config=ConfigDict(extra="ignore"))
class IndexedDoc:
    """A document as the index knows it (the manifest's ``docs.<id>.meta``): the front matter
    ingest validated (the fields of :class:`_DocFields`), with the id it got (also one derived
    from a file name, which the front matter rule for ``id`` need not fit), its path and its
    kind. Frozen: one object per document, shared by every request of a worker."""

    title: str
    type: DocType = "blog"
    id: str | None = None
    language: Literal["nl", "en"] = "nl"
    date: dt.date | None = None
    organisation: str | None = None
    url: str | None = None
    phases: tuple[str, ...] = ()
    obstacles: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    visibility: Literal["public", "internal"] = "public"
    summary: str | None = None
    path: str | None = None
    kind: str | None = None

    _tuples = field_validator("phases", "obstacles", "people", mode="before")(_as_tuple)

    def as_json(self, keys: Iterable[str]) -> dict:
        """These fields as the manifest stores them (a date as YYYY-MM-DD, lists as lists)."""
        return _INDEXED_DOC.dump_python(self, mode="json", include=set(keys))


_INDEXED_DOC: TypeAdapter[IndexedDoc] = TypeAdapter(IndexedDoc)


def indexed_docs(manifest: dict) -> dict[str, IndexedDoc]:
    """The documents of an index manifest (``read_manifest``), by id, in manifest order."""
    return {
        k: _INDEXED_DOC.validate_python({"id": k, **v["meta"]}) for k, v in manifest["docs"].items()
    }


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = None
    slack: str | None = None
    teams: str | None = None

    def given(self) -> dict[str, str]:
        """The contact ids that are filled in (channel → id)."""
        return {k: v for k, v in self.model_dump().items() if v}


class Person(BaseModel):
    """Someone in ``people.yaml``. Only ``consent: true`` people are ever ranked or shown;
    :class:`assistant.people.PeopleDirectory` drops the rest when it loads."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    consent: bool
    role: str | None = None
    organisation: str | None = None
    contact: Contact = Field(default_factory=Contact)
    obstacles: list[str] = Field(default_factory=list)
    phases: list[str] = Field(default_factory=list)
    expertise: str | None = None

    _lists = field_validator("obstacles", "phases", mode="before")(_as_list)

    @field_validator("consent", mode="before")
    @classmethod
    def _strict_consent(cls, v):
        # Consent is given explicitly or not at all: "yes", 1 or a typo never count.
        if not isinstance(v, bool):
            raise ValueError("moet true of false zijn")
        return v


class Obstacle(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    label_en: str | None = None
    description: str | None = None
    keywords: list[str] = Field(default_factory=list)
    description_en: str | None = None
    keywords_en: list[str] = Field(default_factory=list)

    def label_for(self, language: str | None) -> str:
        """The label in ``language``; Dutch when there is no English one."""
        return (self.label_en or self.label) if language == "en" else self.label


class Phase(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    steps: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    name_en: str | None = None
    description_en: str | None = None
    #: Optional cue words for recognising the phase in a question (docs/corpus.md). Left out of
    #: the dump when empty, as before they were declared: knowledge.json stays as it was.
    keywords: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    keywords_en: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    #: Translations in the same order as ``steps``/``questions``: a step is chosen once and
    #: shown in the question's language, so the two lists must line up.
    steps_en: list[str] = Field(default_factory=list)
    questions_en: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _english_lines_up(self) -> Phase:
        for field in ("steps", "questions"):
            dutch, english = getattr(self, field), getattr(self, f"{field}_en")
            if english and len(english) != len(dutch):
                raise ValueError(
                    f"{field}_en heeft {len(english)} regels en {field} {len(dutch)}; "
                    f"geef voor elke regel van {field} precies één Engelse vertaling"
                )
        return self


class Knowledge(BaseModel):
    """The corpus-root directories: people, obstacles, phases (``knowledge.json`` in an index)."""

    people: list[Person] = Field(default_factory=list)
    obstacles: list[Obstacle] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)

    def obstacle(self, key: str | None) -> Obstacle | None:
        return next((o for o in self.obstacles if o.key == key), None)
