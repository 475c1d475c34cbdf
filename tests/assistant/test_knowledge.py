"""The read side of the knowledge model: the documents every worker holds (issue 18)."""

import dataclasses
import datetime as dt

import pytest
from pydantic import ValidationError

from assistant.knowledge import IndexedDoc, _DocFields, indexed_docs


def test_indexed_doc_has_every_document_field_and_only_those():
    served = [f.name for f in dataclasses.fields(IndexedDoc)]
    assert served == [*_DocFields.model_fields, "path", "kind"]


def test_indexed_docs_validate_the_manifest_and_hold_no_per_instance_dict():
    manifest = {
        "docs": {
            "cases/x": {
                "meta": {
                    "title": "Samen inkopen",
                    "type": "case",
                    "date": "2024-03-01",
                    "phases": "verkennen",
                    "obstacles": ["inkoop", "privacy"],
                    "written_by_a_newer_ingest": True,
                    "path": "cases/x.md",
                }
            },
            "blogs/y": {"meta": {"title": "Een blog"}},
        }
    }
    docs = indexed_docs(manifest)
    assert list(docs) == ["cases/x", "blogs/y"]
    x = docs["cases/x"]
    assert (x.id, x.type, x.date, x.phases, x.obstacles) == (
        "cases/x",
        "case",
        dt.date(2024, 3, 1),
        ("verkennen",),
        ("inkoop", "privacy"),
    )
    assert docs["blogs/y"].people == () and docs["blogs/y"].visibility == "public"
    # Slotted: what a worker holds per document is the fields, nothing else.
    assert not hasattr(x, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.title = "anders"
    assert x.as_json(["date", "phases", "type"]) == {
        "date": "2024-03-01",
        "phases": ["verkennen"],
        "type": "case",
    }


def test_a_manifest_with_a_bad_document_type_is_refused():
    with pytest.raises(ValidationError):
        indexed_docs({"docs": {"d": {"meta": {"title": "T", "type": "memo"}}}})
