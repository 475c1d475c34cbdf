"""The question-file loader (YAML and JSON Lines) and the bundled question set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from evals.dataset import BUNDLED_QUESTIONS, QuestionFileError, check_labels, load_questions

ITEMS = [
    {
        "id": "q1",
        "question": "Hoe regel ik draagvlak?",
        "language": "nl",
        "expected_docs": ["a"],
        "tags": ["in-scope"],
    },
    {"id": "q2", "question": "Paspoort?", "should_abstain": True, "expected_obstacles": []},
    {
        "id": "q3",
        "question": "En daarna?",
        "history": [
            {"role": "user", "content": "Eerst"},
            {"role": "assistant", "content": "Ja [1]."},
        ],
        "expected_phase": "borgen",
        "audience": "internal",
    },
]


def _yaml(tmp_path: Path, items: object, name: str = "q.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    return p


def _jsonl(tmp_path: Path, items: list, name: str = "q.jsonl") -> Path:
    p = tmp_path / name
    p.write_text(
        "\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n\n", encoding="utf-8"
    )
    return p


def test_yaml_and_jsonl_load_the_same(tmp_path: Path) -> None:
    a = load_questions(_yaml(tmp_path, ITEMS))
    b = load_questions(_jsonl(tmp_path, ITEMS))
    assert [q.model_dump() for q in a] == [q.model_dump() for q in b]
    assert a[1].should_abstain and a[1].expected_obstacles == [] and a[1].expected_docs is None
    assert a[0].should_abstain is False and a[0].audience == "public"
    assert a[2].history[1].role == "assistant" and a[2].audience == "internal"


def test_numeric_id_is_text(tmp_path: Path) -> None:
    assert load_questions(_yaml(tmp_path, [{"id": 7, "question": "x"}]))[0].id == "7"


@pytest.mark.parametrize(
    ("items", "needle"),
    [
        ([{"id": "a"}], "item 1 (id 'a'): verplicht veld 'question' ontbreekt"),
        ([{"id": "a", "question": "x", "expected_doc": ["d"]}], "onbekend veld 'expected_doc'"),
        (
            [{"id": "a", "question": "x", "history": [{"role": "bot", "content": "y"}]}],
            "veld 'history.0.role'",
        ),
        ([{"id": "a", "question": "x", "language": "de"}], "veld 'language'"),
        (
            [{"id": "a", "question": "x"}, {"id": "a", "question": "y"}],
            "item 2 (id 'a'): id 'a' komt al voor bij item 1",
        ),
        (
            [{"id": "a", "question": "x", "nuggets": [{"fact": "f", "any": [[]]}]}],
            "veld 'nuggets.0.any'",
        ),
        (
            [{"id": "a", "question": "x", "nuggets": [{"fact": "f", "any": [["ok", " "]]}]}],
            "niet-lege voorvoegsels",
        ),
        ([{"id": "a", "question": "x", "nuggets": [{"any": [["x"]]}]}], "'nuggets.0.fact'"),
        (["just text"], "item 1: verwacht een object"),
        ({"id": "a"}, "verwacht een YAML-lijst"),
        ([], "bevat geen vragen"),
    ],
)
def test_yaml_errors_are_one_line(tmp_path: Path, items: object, needle: str) -> None:
    with pytest.raises(QuestionFileError) as exc:
        load_questions(_yaml(tmp_path, items))
    msg = str(exc.value)
    assert needle in msg
    assert "\n" not in msg and str(tmp_path) in msg


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    p = tmp_path / "q.jsonl"
    p.write_text('{"id": "a", "question": "x"}\n{"id": "b", "question": \n', encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:2: geen geldige JSON"):
        load_questions(p)
    p.write_text('{"id": "a", "question": "x"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(
        QuestionFileError, match=r"regel 2 \(id 'b'\): verplicht veld 'question' ontbreekt"
    ):
        load_questions(p)


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "q.yaml"
    p.write_text("- id: a\n  question: [unclosed\n", encoding="utf-8")
    with pytest.raises(QuestionFileError) as exc:
        load_questions(p)
    assert "\n" not in str(exc.value) and "q.yaml:" in str(exc.value)
    with pytest.raises(QuestionFileError, match="bestaat niet"):
        load_questions(tmp_path / "nope.yaml")


def test_check_labels_flags_unknown_internal_and_non_consenting(tmp_path: Path) -> None:
    qs = load_questions(
        _yaml(
            tmp_path,
            [
                {
                    "id": "x",
                    "question": "?",
                    "expected_docs": ["ghost", "intern"],
                    "expected_people": ["geheim", "wie"],
                    "expected_obstacles": ["nope"],
                    "expected_phase": "later",
                },
                {"id": "y", "question": "?", "expected_docs": ["intern"], "audience": "internal"},
            ],
        )
    )
    problems = check_labels(qs, {"intern": "internal"}, {"geheim": False}, {"budget"}, {"borgen"})
    assert [p.split(": ", 1)[1].split(" '")[0] for p in problems] == [
        "expected_docs noemt onbekend document",
        "expected_docs noemt intern document",
        "expected_people noemt",
        "expected_people noemt onbekende persoon",
        "expected_obstacles noemt onbekend obstakel",
        "expected_phase noemt onbekende fase",
    ]


# -- the bundled set --------------------------------------------------------------------------
CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _corpus_labels() -> tuple[dict[str, str], dict[str, bool], set[str], set[str]]:
    docs: dict[str, str] = {}
    for f in CORPUS.rglob("*"):
        rel = f.relative_to(CORPUS).as_posix()
        if f.suffix == ".md":
            meta = yaml.safe_load(f.read_text(encoding="utf-8").split("---")[1])
            docs[meta.get("id") or rel[: -len(".md")]] = meta.get("visibility", "public")
        elif rel.endswith(".meta.yaml"):
            meta = yaml.safe_load(f.read_text(encoding="utf-8"))
            src = rel[: -len(".meta.yaml")]
            docs[meta.get("id") or src.rsplit(".", 1)[0]] = meta.get("visibility", "public")
    load = lambda name: yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))  # noqa: E731
    people = {p["id"]: p["consent"] is True for p in load("people.yaml")}
    return (
        docs,
        people,
        {o["key"] for o in load("obstacles.yaml")},
        {p["key"] for p in load("phases.yaml")},
    )


def test_bundled_set_shape_and_labels() -> None:
    qs = load_questions(BUNDLED_QUESTIONS)
    assert check_labels(qs, *_corpus_labels()) == []

    def count(pred) -> int:
        return sum(1 for q in qs if pred(q))

    def tagged(*tags: str):
        return lambda q: bool(set(tags) & set(q.tags))

    assert len(qs) >= 170
    assert count(lambda q: q.lang == "nl" and "in-scope" in q.tags and q.expected_docs) >= 100
    assert count(lambda q: "people" in q.tags and q.expected_people) >= 20
    assert count(lambda q: "out-of-scope" in q.tags and q.should_abstain) >= 15
    assert count(lambda q: q.lang == "en") >= 10
    assert count(lambda q: "follow-up" in q.tags and q.history) >= 15
    assert count(tagged("injection", "consent", "visibility")) >= 10
    for q in qs:
        assert q.language in ("nl", "en") and q.language in q.tags, q.id
        if "out-of-scope" in q.tags:
            assert q.should_abstain and not q.expected_docs, q.id
    # Issue 14: at least 120 questions carry 2–4 nuggets, English ones included.
    with_nuggets = [q for q in qs if q.nuggets]
    assert len(with_nuggets) >= 120
    assert all(2 <= len(q.nuggets) <= 4 for q in with_nuggets)
    assert sum(1 for q in with_nuggets if q.lang == "en") >= 10
    assert not any(q.should_abstain for q in with_nuggets)
    # Public questions that ask for internal documents must be in the set.
    assert count(lambda q: "visibility" in q.tags and q.audience == "public") >= 3
