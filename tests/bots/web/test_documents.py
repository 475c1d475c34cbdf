"""Source pages: ``Assistant.document`` and ``/bronnen/{doc_id}`` render corpus text safely."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import MINI_CORPUS, build, make_settings

XSS_DOC = """---
title: "Camerales <img src=x onerror=\\"window.__xss='title'\\">"
type: lesson
url: "javascript:window.__xss='url'"
obstacles: [privacy]
people: [geheim-persoon]
---
# Camerales

## Wat er gebeurde
Bij de camerapilot plakte iemand <script>window.__xss='script'</script> en
<img src=x onerror="window.__xss='img'"> in het verslag over camerabeelden en privacy. Gerda Geheim keurde het goed.
"""


def long_section() -> str:
    return " ".join(
        f"Zin nummer {i} gaat over het opschalen van de camerapilot in fase {i % 7}."
        for i in range(60)
    )


@pytest.fixture
def hostile(tmp_path):
    corpus = tmp_path / "hostile-corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    (corpus / "lessons" / "camerales.md").write_text(XSS_DOC, encoding="utf-8")
    (corpus / "lessons" / "lang.md").write_text(
        f"---\ntitle: Een lange les\ntype: lesson\nurl: https://example.org/les\n---\n## Lang\n{long_section()}\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "hostile" / "index", embedder="fake")
    report, embedder, store = build(corpus, settings)
    assert report.exit_code == 0, report.invalid
    from assistant.service import Assistant

    return Assistant(settings, embedder=embedder, store=store)


def test_document_text_is_whole_once_and_redacted(hostile):
    doc = hostile.document("lessons/lang")
    text = " ".join(s["text"] for s in doc["sections"])
    for i in range(60):
        assert text.count(f"Zin nummer {i} ") == 1, i  # chunk overlaps are glued, not repeated
    assert doc["url"] == "https://example.org/les"
    les = hostile.document("lessons/camerales")
    assert "Gerda" not in les["sections"][0]["text"]
    assert hostile.document("bestaat/niet") is None
    assert hostile.document("lessons/english-note") is None
    assert hostile.document("lessons/english-note", "internal")["title"]


def test_source_page_escapes_markup_and_drops_javascript_links(make_web, hostile):
    web = make_web(assistant=hostile)
    r = web.client.get("/bronnen/lessons/camerales")
    assert r.status_code == 200
    assert "<script>window" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;window.__xss=" in r.text
    assert "&lt;img src=x onerror=" in r.text
    assert "javascript:" not in r.text
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none' covers it
    assert "default-src 'none'" in r.headers["content-security-policy"]
    long = web.client.get("/bronnen/lessons/lang?lang=en")
    assert "href='https://example.org/les'" in long.text and "View the original" in long.text


def test_missing_source_page_is_404_html(web):
    r = web.client.get("/bronnen/bestaat/niet")
    assert r.status_code == 404 and "Bron niet gevonden" in r.text
