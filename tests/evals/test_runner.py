"""The eval runner, report and CLI on the mini corpus (hashing embedder, real Chroma)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals.dataset import QuestionFileError, load_questions
from evals.report import write_report
from evals.runner import run_eval

QUESTIONS = [
    {
        "id": "inkoop",
        "language": "nl",
        "tags": ["nl", "in-scope"],
        "question": "Hoe kopen vier gemeenten samen een meldingensysteem in met één aanbesteding?",
        "expected_docs": ["cases/gedeelde-aanbesteding"],
        "expected_obstacles": ["inkoop"],
        "nuggets": [
            {"fact": "één gezamenlijke aanbesteding", "any": [["gezamenlijk", "aanbested"]]},
            {"fact": "raamovereenkomst", "any": [["raamovereenkomst"]]},
            {"fact": "iets wat nergens staat", "any": [["kwantumcomput"]]},
        ],
    },
    {
        "id": "dpia",
        "language": "nl",
        "tags": ["nl", "in-scope"],
        "question": "Wanneer begin ik met de DPIA voor een camerapilot?",
        "expected_docs": ["lessons/dpia-op-tijd"],
        "expected_people": ["lotte-lang"],
    },
    {
        "id": "geheim",
        "language": "nl",
        "tags": ["nl", "consent"],
        "question": "Wat is het e-mailadres van Gerda Geheim, die het budget regelde?",
    },
    {
        "id": "intern",
        "language": "en",
        "tags": ["en", "visibility"],
        "question": "What does the internal lesson say about budget after the pilot?",
    },
    {
        "id": "weer",
        "language": "nl",
        "tags": ["nl", "out-of-scope"],
        "should_abstain": True,
        "question": "Wat voor weer wordt het morgen?",
        "expected_obstacles": [],
    },
    {
        "id": "vervolg",
        "language": "nl",
        "tags": ["nl", "follow-up"],
        "history": [
            {"role": "user", "content": "Hoe kopen gemeenten samen een meldingensysteem in?"},
            {"role": "assistant", "content": "Met één gezamenlijke aanbesteding [1]."},
        ],
        "question": "En wie deed dat?",
        "expected_docs": ["cases/gedeelde-aanbesteding"],
    },
]


@pytest.fixture
def questions_file(tmp_path: Path) -> Path:
    p = tmp_path / "vragen.yaml"
    p.write_text(yaml.safe_dump(QUESTIONS, allow_unicode=True), encoding="utf-8")
    return p


def test_run_eval_scores_every_question(fake_assistant, questions_file: Path) -> None:
    run = run_eval(fake_assistant, questions_file)
    m, results = run["metrics"], run["results"]
    assert [r["id"] for r in results] == [q["id"] for q in QUESTIONS]
    for r in results:
        assert {
            "question",
            "language",
            "answer",
            "abstained",
            "citations",
            "retrieved",
            "people",
        } <= set(r["answer"])
        assert {"bm25", "dense", "langchain"} <= set(r["baselines"])
    # The consent:false person never shows up, and public questions never see internal docs.
    assert m["consent_leaks"] == 0
    assert m["visibility_leaks"] == 0
    assert "lessons/english-note" not in results[3]["answer"]["retrieved"]
    assert m["citation_validity"] == 1.0
    assert m["n"]["retrieval"] == 3 and m["n"]["people"] == 1 and m["n"]["should_abstain"] == 1
    assert set(m["systems"]) == {"project", "bm25", "dense", "langchain"}
    assert set(m["ratios"]) == {"bm25", "dense", "langchain"}
    assert set(m["by_language"]) == {"nl", "en"}
    assert m["by_tag"]["consent"]["n"]["questions"] == 1
    assert m["gate"]["passed"] is (not m["gate"]["failures"])
    assert json.loads(json.dumps(run)) == run  # the whole run is plain JSON


def test_nuggets_against_the_naive_extractive_answer(fake_assistant, questions_file: Path) -> None:
    run = run_eval(fake_assistant, questions_file, baselines=False)
    m, first = run["metrics"], run["results"][0]
    naive = first["baselines"]["extractive"]
    # The naive answer is a real chunk of the index, of a document the retrieval ranked, with
    # people without consent redacted like in every answer.
    rt = fake_assistant.runtime
    chunk = rt.index.chunks[naive["chunk_id"]]
    assert naive["answer"] == rt.redact(chunk.text, "nl")
    assert naive["doc_id"] in first["answer"]["retrieved"]
    assert "Geheim" not in json.dumps([r["baselines"] for r in run["results"]])
    assert set(first["baselines"]) == {"extractive"}  # runs without the retrieval baselines
    nug = first["checks"]["nuggets"]
    assert "iets wat nergens staat" in nug["missing"]
    assert nug["recall"] <= 2 / 3
    assert m["n"]["nuggets"] == 1
    assert m["nugget_recall"] == nug["recall"]
    assert m["baseline_nugget_recall"] == naive["nuggets"]["recall"]
    assert set(m["defects_by_kind"]) >= {"flattened_list", "checkbox"}
    assert 0.0 <= m["false_abstention_rate"] <= 1.0
    assert m["by_language"]["nl"]["nugget_recall"] == nug["recall"]
    assert m["by_language"]["en"]["nugget_recall"] is None


def test_naive_baseline_ignores_visibility(fake_assistant, questions_file: Path) -> None:
    """The naive pipeline has no visibility filter: on a 3-document corpus its ranking holds the
    internal document, and the eval must count that instead of hiding it."""
    run = run_eval(fake_assistant, questions_file)
    naive = run["metrics"]["systems"]["langchain"]
    assert naive["visibility_leaks"] >= 1
    assert run["metrics"]["systems"]["bm25"]["visibility_leaks"] == 0


def test_labels_must_match_the_index(fake_assistant, tmp_path: Path) -> None:
    p = tmp_path / "q.yaml"
    p.write_text(
        yaml.safe_dump([{"id": "x", "question": "?", "expected_docs": ["cases/bestaat-niet"]}]),
        encoding="utf-8",
    )
    with pytest.raises(QuestionFileError, match="onbekend document 'cases/bestaat-niet'"):
        run_eval(fake_assistant, p)
    p.write_text(
        yaml.safe_dump([{"id": "x", "question": "?", "expected_people": ["geheim-persoon"]}]),
        encoding="utf-8",
    )
    with pytest.raises(QuestionFileError, match="geen toestemming"):
        run_eval(fake_assistant, p)


def test_report_files(fake_assistant, questions_file: Path, tmp_path: Path) -> None:
    run = run_eval(fake_assistant, load_questions(questions_file))
    html = write_report(run, tmp_path / "reports")
    folder = html.parent
    assert html.name == "report.html" and folder.parent == tmp_path / "reports"
    for name in ("report.json", "systems.png", "latency.png", "tags.png"):
        assert (folder / name).stat().st_size > 500, name
    text = html.read_text(encoding="utf-8")
    assert "De tien slechtste vragen" in text and "Naïeve LangChain" in text
    assert "Het antwoord zelf" in text and "minste kernfeiten" in text
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["metrics"]["n"][
        "questions"
    ] == len(QUESTIONS)
    # A second run in the same second gets its own folder.
    assert write_report(run, tmp_path / "reports").parent != folder


# -- the command line --------------------------------------------------------------------------
def _opschaal(*args: str, index: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, OPSCHAAL_EMBEDDER="fake", OPSCHAAL_INDEX_DIR=str(index), HF_HUB_OFFLINE="1"
    )
    exe = Path(sys.executable).with_name("opschaal")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def test_cli_json_is_one_object(fake_assistant, questions_file: Path, tmp_path: Path) -> None:
    index = fake_assistant.settings.index_dir
    proc = _opschaal(
        "eval",
        "--questions",
        str(questions_file),
        "--json",
        "--out",
        str(tmp_path / "out"),
        index=index,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON document on stdout
    assert set(data) == {"metrics", "results"}
    assert [r["id"] for r in data["results"]] == [q["id"] for q in QUESTIONS]
    assert data["results"][0]["answer"]["question"] == QUESTIONS[0]["question"]
    assert "Rapport:" in proc.stderr
    assert list((tmp_path / "out").glob("*/report.html"))


def test_cli_table_and_gate(fake_assistant, questions_file: Path, tmp_path: Path) -> None:
    index = fake_assistant.settings.index_dir
    proc = _opschaal(
        "eval",
        "--questions",
        str(questions_file),
        "--no-report",
        "--gate",
        index=index,
        cwd=tmp_path,
    )
    assert "Recall@5" in proc.stdout and "BM25 alleen" in proc.stdout
    # people hit@3 and the rest are measured on 6 questions; with the hashing embedder the gate
    # may pass or fail, but the exit code must agree with what was printed.
    failed = "CI-drempels niet gehaald" in proc.stdout
    assert proc.returncode == (1 if failed else 0), proc.stderr
    assert not (tmp_path / "evals").exists()


def test_cli_errors_are_one_line(fake_assistant, tmp_path: Path) -> None:
    index = fake_assistant.settings.index_dir
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n', encoding="utf-8")
    proc = _opschaal("eval", "--questions", str(bad), "--no-report", index=index, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "regel 1 (id 'a'): verplicht veld 'question' ontbreekt" in proc.stderr
    proc = _opschaal("eval", "--external", "nietbestaand", index=index, cwd=tmp_path)
    assert proc.returncode == 2 and "onbekende externe benchmark" in proc.stderr


def test_cli_external_without_csv_is_skipped(fake_assistant, tmp_path: Path) -> None:
    index = fake_assistant.settings.index_dir
    proc = _opschaal(
        "eval",
        "--external",
        "kamervragen",
        "--path",
        str(tmp_path / "geen.csv"),
        "--json",
        index=index,
        cwd=tmp_path,
    )
    if "nog niet beschikbaar" in proc.stderr:  # evals/external.py not in this checkout
        assert proc.returncode == 2
        return
    assert proc.returncode == 0, proc.stderr
    assert "overgeslagen" in proc.stderr
    assert json.loads(proc.stdout)["skipped"]
