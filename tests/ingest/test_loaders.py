"""Loaders: one per file kind (contract §1), sidecars, and the per-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError, default_id, load_document
from tests.helpers import make_pdf, make_sparse_file


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


MD = """---
title: Samen inkopen werkt
type: case
language: nl
date: 2024-05-01
organisation: Gemeente Test
url: https://example.org/samen-inkopen
phases: [uitrol]
obstacles: inkoop
people: [kees-kort]
visibility: internal
summary: Vier gemeenten kochten samen in.
---
# Samen inkopen werkt

## Aanpak
Eén aanbesteding met een raamovereenkomst.
"""


def test_markdown_front_matter_fills_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, "cases/samen-inkopen.md", MD)
    doc = load_document(path, tmp_path)
    assert doc.doc_id == "cases/samen-inkopen"
    assert doc.kind == "md"
    assert doc.path == "cases/samen-inkopen.md"
    m = doc.meta
    assert (m.title, m.type, m.language, m.organisation) == (
        "Samen inkopen werkt",
        "case",
        "nl",
        "Gemeente Test",
    )
    assert str(m.date) == "2024-05-01"
    assert m.url == "https://example.org/samen-inkopen"
    # A single string is accepted where a list is meant.
    assert (m.phases, m.obstacles, m.people) == (["uitrol"], ["inkoop"], ["kees-kort"])
    assert m.visibility == "internal"
    assert m.summary == "Vier gemeenten kochten samen in."
    assert doc.body.startswith("# Samen inkopen werkt")
    assert "---" not in doc.body
    assert len(doc.hash) == 64


def test_markdown_explicit_id_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "x/y.md", MD.replace("type: case", "type: case\nid: cases/eigen-id"))
    assert load_document(path, tmp_path).doc_id == "cases/eigen-id"


def test_default_id_is_relative_path_without_suffix(tmp_path: Path) -> None:
    assert default_id(tmp_path / "a" / "b" / "Stuk.HTML", tmp_path) == "a/b/stuk"
    assert default_id(tmp_path / "c.txt", tmp_path) == "c"


HTML = """<!doctype html><html><head><title>Pagina over draagvlak</title>
<script>var tracking = "GEHEIM_SCRIPT";</script><style>.x{color:red}</style></head>
<body><nav><a href="/">Home</a> MENU_LINK</nav>
<header>KOPTEKST_SITE</header>
<main><h1>Draagvlak bouwen</h1>
<p>Begin met de <b>bestuurder</b> en de uitvoering samen.</p>
<h2>Wat werkte</h2><ul><li>Korte demo's</li><li>Een vaste productowner</li></ul>
</main>
<footer>VOETTEKST_COPYRIGHT</footer></body></html>"""


def test_html_drops_boilerplate_and_takes_title_tag(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "web/draagvlak.html", HTML), tmp_path)
    assert doc.kind == "html"
    assert doc.meta.title == "Pagina over draagvlak"
    assert doc.meta.type == "blog"  # non-Markdown files default to blog
    for junk in ("GEHEIM_SCRIPT", "MENU_LINK", "KOPTEKST_SITE", "VOETTEKST_COPYRIGHT", "color:red"):
        assert junk not in doc.body
    assert "Begin met de bestuurder en de uitvoering samen." in doc.body
    assert "## Wat werkte" in doc.body  # headings survive as Markdown for heading-aware chunking
    assert "- Korte demo's" in doc.body


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    page = "<html><body><article><h1>Kop als titel</h1><p>Tekst van de pagina.</p></article></body></html>"
    doc = load_document(write(tmp_path, "p.htm", page), tmp_path)
    assert doc.meta.title == "Kop als titel"
    assert doc.doc_id == "p"


def test_pdf_keeps_page_numbers_and_info_title(tmp_path: Path) -> None:
    data = make_pdf(
        ["Eerste pagina over inkoop.", "", "Derde pagina over budget."], title="Rapport"
    )
    doc = load_document(write(tmp_path, "rapporten/r.pdf", data), tmp_path)
    assert doc.kind == "pdf"
    assert doc.meta.title == "Rapport"
    # The empty second page is skipped, but the others keep their real page numbers.
    assert [(s.page, s.text.strip()) for s in doc.pages] == [
        (1, "Eerste pagina over inkoop."),
        (3, "Derde pagina over budget."),
    ]


def test_sidecar_fields_override_extracted_ones(tmp_path: Path) -> None:
    write(tmp_path, "r.pdf", make_pdf(["Tekst op pagina een."], title="Titel uit PDF"))
    write(
        tmp_path,
        "r.pdf.meta.yaml",
        "title: Titel uit sidecar\ntype: guide\nid: guides/rapport\nlanguage: en\nurl: https://example.org/r\n",
    )
    doc = load_document(tmp_path / "r.pdf", tmp_path)
    assert doc.meta.title == "Titel uit sidecar"
    assert doc.meta.type == "guide"
    assert doc.meta.language == "en"
    assert doc.doc_id == "guides/rapport"


def test_sidecar_change_changes_hash(tmp_path: Path) -> None:
    write(tmp_path, "n.txt", "Titel\nTekst.")
    before = load_document(tmp_path / "n.txt", tmp_path).hash
    write(tmp_path, "n.txt.meta.yaml", "type: lesson\n")
    after = load_document(tmp_path / "n.txt", tmp_path)
    assert after.meta.type == "lesson"
    assert after.hash != before


def test_txt_title_is_first_non_empty_line(tmp_path: Path) -> None:
    doc = load_document(
        write(
            tmp_path,
            "notes/n.txt",
            "\n\n  Lessen uit de proef  \n\nEerste alinea.\nTweede regel.\n",
        ),
        tmp_path,
    )
    assert doc.kind == "txt"
    assert doc.meta.title == "Lessen uit de proef"
    assert doc.body == "Eerste alinea.\nTweede regel."


# --- bad inputs: every one is a LoadError whose message names the field or the problem -------


@pytest.mark.parametrize(
    ("rel", "content", "expect"),
    [
        ("broken.md", "---\ntitle: [kapot\ntype: case\n---\nTekst.\n", "geen geldige YAML"),
        ("notitle.md", "---\ntype: case\n---\nTekst.\n", "'title'"),
        ("notype.md", "---\ntitle: T\n---\nTekst.\n", "'type'"),
        ("badtype.md", "---\ntitle: T\ntype: roman\n---\nTekst.\n", "veld 'type'"),
        ("badlang.md", "---\ntitle: T\ntype: case\nlanguage: de\n---\nTekst.\n", "veld 'language'"),
        ("baddate.md", "---\ntitle: T\ntype: case\ndate: gisteren\n---\nTekst.\n", "veld 'date'"),
        ("nofront.md", "# Alleen tekst\n", "front matter ontbreekt"),
        ("nobody.md", "---\ntitle: T\ntype: case\n---\n\n", "geen tekst"),
        ("empty.md", "", "leeg"),
        ("blank.txt", "  \n\n", "leeg"),
        ("binary.txt", b"\x00\x01\x02\xffPNG\x00" * 20, "binair"),
        ("latin1.txt", "Café".encode("latin-1"), "UTF-8"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "PDF kan niet gelezen worden"),
        ("noimage.html", "<html><body><nav>menu</nav></body></html>", "geen leesbare hoofdtekst"),
    ],
)
def test_bad_file_gives_clear_reason(tmp_path: Path, rel: str, content, expect: str) -> None:
    path = write(tmp_path, rel, content)
    with pytest.raises(LoadError) as exc:
        load_document(path, tmp_path)
    assert expect in str(exc.value)
    assert "\n" not in str(exc.value)


def test_pdf_without_text_layer_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", make_pdf(["", ""]))
    with pytest.raises(LoadError, match="geen tekst"):
        load_document(path, tmp_path)


def test_broken_sidecar_names_the_sidecar(tmp_path: Path) -> None:
    write(tmp_path, "n.txt", "Titel\nTekst.")
    write(tmp_path, "n.txt.meta.yaml", "type: [blog\n")
    with pytest.raises(LoadError, match=r"n\.txt\.meta\.yaml"):
        load_document(tmp_path / "n.txt", tmp_path)


def test_fifty_megabyte_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "groot.txt"
    make_sparse_file(path, 50 * 1024 * 1024)
    with pytest.raises(LoadError, match="te groot"):
        load_document(path, tmp_path)


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="niet ondersteund"):
        load_document(write(tmp_path, "x.docx", "hallo"), tmp_path)
