"""Heading-aware chunking: title and heading path kept, ids stable and content-addressed."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import chunk_document
from ingest.loaders import load_document
from tests.helpers import make_pdf

DOC = """---
title: Samen inkopen werkt
type: case
---
# Samen inkopen werkt

Inleiding zonder kop.

## Aanpak
Eén aanbesteding met een raamovereenkomst.

### Juridisch
De jurist keek mee vanaf de eerste week.

## Resultaat
Vier gemeenten gebruiken het systeem.
"""


def load(tmp_path: Path, text: str = DOC, rel: str = "cases/samen.md"):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return load_document(path, tmp_path)


def test_heading_path_is_kept_and_title_h1_dropped(tmp_path: Path) -> None:
    chunks = chunk_document(load(tmp_path))
    by_text = {c.text: c.heading for c in chunks}
    assert by_text["Inleiding zonder kop."] == ""
    assert by_text["Eén aanbesteding met een raamovereenkomst."] == "Aanpak"
    assert by_text["De jurist keek mee vanaf de eerste week."] == "Aanpak > Juridisch"
    assert by_text["Vier gemeenten gebruiken het systeem."] == "Resultaat"
    assert all(c.doc_id == "cases/samen" for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_title_travels_with_every_embedded_text(tmp_path: Path) -> None:
    from assistant.index import ChunkRecord
    from ingest.pipeline import _embed_text

    doc = load(tmp_path)
    for c in chunk_document(doc):
        rec = ChunkRecord(c.id, c.doc_id, c.text, c.heading, c.page, c.ordinal)
        text = _embed_text(rec, doc.meta.title)
        assert text.startswith("Samen inkopen werkt")
        if c.heading:
            assert c.heading in text.splitlines()[0]


def test_ids_are_stable_and_carry_the_content_hash(tmp_path: Path) -> None:
    a = [c.id for c in chunk_document(load(tmp_path))]
    b = [c.id for c in chunk_document(load(tmp_path))]
    assert a == b
    assert len(set(a)) == len(a)
    doc = load(tmp_path)
    assert all(cid.startswith(f"cases/samen#{doc.hash[:10]}-") for cid in a)
    changed = [c.id for c in chunk_document(load(tmp_path, DOC.replace("Vier", "Vijf")))]
    assert not set(a) & set(changed)  # a changed document gets wholly new chunk ids


def test_long_sections_are_split_with_their_heading(tmp_path: Path) -> None:
    para = " ".join(f"Zin nummer {i} over de uitrol bij gemeenten." for i in range(200))
    doc = load(tmp_path, f"---\ntitle: Lang\ntype: guide\n---\n## Uitrol\n{para}\n")
    chunks = chunk_document(doc, size=400, overlap=40)
    assert len(chunks) > 5
    assert all(len(c.text) <= 400 for c in chunks)
    assert {c.heading for c in chunks} == {"Uitrol"}


def test_pdf_chunks_keep_their_page(tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(make_pdf(["Pagina een over inkoop.", "Pagina twee over budget."]))
    chunks = chunk_document(load_document(path, tmp_path))
    assert [(c.page, c.text) for c in chunks] == [
        (1, "Pagina een over inkoop."),
        (2, "Pagina twee over budget."),
    ]
