"""Checks on the bundled knowledge base (issue: corpus). Fast: parsing only, no model."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from assistant.embeddings import HashingEmbedder
from assistant.store import MemoryStore
from assistant.text import EN_STOP, NL_STOP, words
from ingest.loaders import load_document
from ingest.pipeline import ingest, scan
from tests.conftest import BUNDLED_CORPUS

CORPUS = BUNDLED_CORPUS


@pytest.fixture(scope="module")
def docs():
    paths, _ = scan(CORPUS)
    return [load_document(p, CORPUS) for p in paths]


@pytest.fixture(scope="module")
def people():
    return yaml.safe_load((CORPUS / "people.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def obstacles():
    return yaml.safe_load((CORPUS / "obstacles.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def phases():
    return yaml.safe_load((CORPUS / "phases.yaml").read_text(encoding="utf-8"))


def test_ingest_reports_no_invalid_files(tmp_path: Path):
    embedder = HashingEmbedder()
    report = ingest(CORPUS, tmp_path / "index", embedder, MemoryStore(embedder))
    assert report.invalid == []
    assert report.ignored == []
    assert len(report.added) >= 46


def test_folder_sizes_and_types(docs):
    per_folder = Counter(Path(d.path).parts[0] for d in docs)
    assert per_folder["blogs"] >= 10
    assert per_folder["cases"] >= 15
    assert per_folder["lessons"] >= 15
    assert per_folder["guides"] >= 6
    expected = {"blogs": "blog", "cases": "case", "lessons": "lesson", "guides": "guide"}
    for d in docs:
        assert d.meta.type == expected[Path(d.path).parts[0]], d.path


def test_all_file_kinds_are_represented(docs):
    assert {d.kind for d in docs} >= {"md", "html", "txt"}


def _body(d) -> str:
    return d.body if not d.pages else " ".join(p.text for p in d.pages)


def test_document_length(docs):
    for d in docs:
        n = len(_body(d).split())
        assert 300 <= n <= 900, f"{d.path}: {n} words"


def test_titles_unique(docs):
    titles = Counter(d.meta.title.strip().lower() for d in docs)
    assert [t for t, c in titles.items() if c > 1] == []


def test_references_exist(docs, people, obstacles, phases):
    person_ids = {p["id"] for p in people}
    obstacle_keys = {o["key"] for o in obstacles}
    phase_keys = {p["key"] for p in phases}
    for d in docs:
        assert set(d.meta.people) <= person_ids, d.path
        assert set(d.meta.obstacles) <= obstacle_keys, d.path
        assert set(d.meta.phases) <= phase_keys, d.path
    for p in people:
        assert set(p.get("obstacles") or []) <= obstacle_keys, p["id"]
        assert set(p.get("phases") or []) <= phase_keys, p["id"]


def test_taxonomy_sizes(people, obstacles, phases):
    assert len(people) >= 25
    assert sum(1 for p in people if p["consent"] is False) >= 3
    assert len(obstacles) >= 10
    assert 4 <= len(phases) <= 5
    for o in obstacles:
        assert (
            o.get("label") and o.get("label_en") and o.get("description") and o.get("keywords")
        ), o["key"]
    for p in phases:
        assert len(p.get("steps") or []) >= 3 and p.get("questions"), p["key"]


def test_every_obstacle_covered_by_documents_and_consenting_people(docs, people, obstacles):
    for o in obstacles:
        n_docs = sum(1 for d in docs if o["key"] in d.meta.obstacles)
        n_people = sum(
            1 for p in people if p["consent"] is True and o["key"] in (p.get("obstacles") or [])
        )
        assert n_docs >= 2, f"{o['key']}: {n_docs} documents"
        assert n_people >= 2, f"{o['key']}: {n_people} consenting people"


def test_every_phase_covered_by_three_documents(docs, phases):
    for p in phases:
        n = sum(1 for d in docs if p["key"] in d.meta.phases)
        assert n >= 3, f"{p['key']}: {n} documents"


def _dutch_ratio(text: str) -> tuple[float, float]:
    toks = words(text)
    nl_only = NL_STOP - EN_STOP
    en_only = EN_STOP - NL_STOP
    return sum(t in nl_only for t in toks) / len(toks), sum(t in en_only for t in toks) / len(toks)


def test_language_field_matches_text(docs):
    for d in docs:
        nl, en = _dutch_ratio(_body(d))
        if d.meta.language == "nl":
            assert nl > 0.15 and nl > 2 * en, (
                f"{d.path} does not read as Dutch ({nl:.2f} vs {en:.2f})"
            )
        else:
            assert en > 0.15 and en > 2 * nl, (
                f"{d.path} does not read as English ({en:.2f} vs {nl:.2f})"
            )


def test_some_english_but_mostly_dutch(docs):
    share = sum(d.meta.language == "en" for d in docs) / len(docs)
    assert 0.05 <= share <= 0.2


def test_people_are_marked_fictional(people):
    header = (CORPUS / "people.yaml").read_text(encoding="utf-8").split("\n- ", 1)[0].lower()
    assert "fictie" in header or "fictional" in header
    for p in people:
        for key, value in (p.get("contact") or {}).items():
            if key in ("email", "teams"):
                assert value.endswith("@example.org"), p["id"]


def test_no_contact_details_in_document_bodies(docs):
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    phone = re.compile(r"\b0\d{1,3}[- ]?\d{6,8}\b")
    for d in docs:
        body = _body(d)
        assert not email.search(body), d.path
        assert not phone.search(body), d.path


def test_seed_blog_keeps_the_facts(docs):
    blog = next(d for d in docs if d.doc_id == "blogs/opschalingslab-onderzoek")
    text = blog.body.lower()
    for fact in ("2014", "1.500", "vijftig", "twintig", "quadruple helix", "2023"):
        assert fact in text, fact
