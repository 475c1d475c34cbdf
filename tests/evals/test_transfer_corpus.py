"""The held-out transfer corpus is a valid corpus with a question file that fits it.

Shape only (hashing embedder): what it measures is in ``test_gate.py``. Nothing here may be
used to choose a parameter (see ``tests/fixtures/transfer-corpus/README``).
"""

from __future__ import annotations

import re
from collections import Counter

import yaml

from evals.dataset import check_labels, load_questions
from tests.conftest import BUNDLED_CORPUS, TRANSFER_CORPUS, TRANSFER_QUESTIONS, build, make_settings


def test_transfer_corpus_ingests_cleanly_and_differs_in_form(tmp_path) -> None:
    report, _, _ = build(TRANSFER_CORPUS, make_settings(tmp_path / "index", embedder="fake"))
    assert report.exit_code == 0, [str(p) for p in report.invalid]
    assert len(report.added) >= 10
    assert report.ignored == ["README"]  # the note for people is not a document
    suffixes = Counter(
        p.suffix for p in TRANSFER_CORPUS.rglob("*") if p.suffix in {".md", ".html", ".txt"}
    )
    assert suffixes[".md"] and suffixes[".html"] and suffixes[".txt"], suffixes
    english = [
        p
        for p in TRANSFER_CORPUS.rglob("*")
        if p.is_file() and re.search(r"^language: en$", p.read_text(encoding="utf-8"), re.M)
    ]
    assert len(english) >= 3
    # Its own taxonomy and step plan, so detection is tested on keys it was not written for.
    ours = {o["key"] for o in yaml.safe_load((TRANSFER_CORPUS / "obstacles.yaml").read_text())}
    bundled = {o["key"] for o in yaml.safe_load((BUNDLED_CORPUS / "obstacles.yaml").read_text())}
    assert not ours & bundled
    phases = yaml.safe_load((TRANSFER_CORPUS / "phases.yaml").read_text())
    bundled_phases = yaml.safe_load((BUNDLED_CORPUS / "phases.yaml").read_text())
    assert not {p["key"] for p in phases} & {p["key"] for p in bundled_phases}
    assert all(p.get("name_en") and p.get("steps_en") for p in phases)


def test_transfer_people_are_fictional_and_some_withheld_consent() -> None:
    people = yaml.safe_load((TRANSFER_CORPUS / "people.yaml").read_text(encoding="utf-8"))
    assert any(p["consent"] is False for p in people)
    assert any(p["consent"] is True for p in people)
    for p in people:
        for key, value in (p.get("contact") or {}).items():
            if key in ("email", "teams"):
                assert value.endswith("@example.org"), (p["id"], value)


def test_transfer_questions_fit_the_corpus(tmp_path) -> None:
    build(TRANSFER_CORPUS, make_settings(tmp_path / "index", embedder="fake"))
    from assistant.retrieval import LoadedIndex

    reader = LoadedIndex(tmp_path / "index")
    know = reader.knowledge
    qs = load_questions(TRANSFER_QUESTIONS)
    problems = check_labels(
        qs,
        {d: m.visibility for d, m in reader.docs.items()},
        {p.id: p.consent for p in know.people},
        {o.key for o in know.obstacles},
        {p.key for p in know.phases},
    )
    assert problems == []
    assert len(qs) >= 30
    in_scope = [q for q in qs if "in-scope" in q.tags]
    out_of_scope = [q for q in qs if "out-of-scope" in q.tags]
    assert all(q.expected_docs and q.nuggets and not q.should_abstain for q in in_scope)
    assert all(2 <= len(q.nuggets) <= 4 for q in in_scope)
    assert sum(1 for q in in_scope if q.lang == "en") >= 6
    assert len(out_of_scope) >= 6
    assert all(q.should_abstain and not q.expected_docs for q in out_of_scope)
    assert {d for q in qs for d in q.expected_docs or []} == set(reader.docs)  # every doc asked
