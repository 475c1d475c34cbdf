"""Metric definitions against hand-computed cases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.knowledge import Knowledge
from evals.metrics import (
    GATE,
    TRANSFER_GATE,
    LeakFinder,
    aggregate,
    citation_precision,
    citation_problems,
    cited_markers,
    gate_failures,
    gate_for,
    hit_at_k,
    metric_value,
    ndcg_at_k,
    percentile,
    prf,
    ranking_checks,
    ratios,
    recall_frac_at_k,
    reciprocal_rank,
)

RETRIEVED = ["a", "b", "c", "d", "e", "f"]


def test_hit_rank_and_ndcg_by_hand() -> None:
    assert hit_at_k(RETRIEVED, ["b", "d"], 1) == 0.0
    assert hit_at_k(RETRIEVED, ["b", "d"], 2) == 1.0
    assert hit_at_k(RETRIEVED, ["z"], 10) == 0.0
    assert reciprocal_rank(RETRIEVED, ["d", "b"]) == 0.5
    assert reciprocal_rank(RETRIEVED, ["f"], k=5) == 0.0  # rank 6 is outside @5
    # relevant at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RETRIEVED, ["b", "d"]) == pytest.approx(expected)
    assert ndcg_at_k(["x", "b"], ["b"]) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["b"], ["b"]) == 1.0
    assert recall_frac_at_k(RETRIEVED, ["a", "z"], 5) == 0.5


def test_ranking_checks_keys() -> None:
    r = ranking_checks(RETRIEVED, ["c"])
    assert r == {
        "hit@1": 0.0,
        "hit@5": 1.0,
        "hit@10": 1.0,
        "recall_frac@5": 1.0,
        "rr@10": pytest.approx(1 / 3),
        "ndcg@10": pytest.approx(0.5),
    }


def test_citation_markers_and_validity() -> None:
    assert cited_markers("Zo [1]. En zo [2, 3] en [4-5]; niet [x] of [].") == [1, 2, 3, 4, 5]
    answer = {
        "answer": "Eerst dit [1], dan dat [3].",
        "citations": [{"n": 1, "doc_id": "a"}, {"n": 2, "doc_id": "ghost"}],
    }
    problems = citation_problems(answer, {"a", "b"})
    assert problems == ["[3] heeft geen bron", "bron 'ghost' bestaat niet"]
    ok = {
        "answer": "Dit [1] en [2].",
        "citations": [{"n": 1, "doc_id": "a"}, {"n": 2, "doc_id": "b"}],
    }
    assert citation_problems(ok, {"a", "b"}) == []


def test_citation_precision() -> None:
    answer = {
        "citations": [{"n": 1, "doc_id": "a"}, {"n": 2, "doc_id": "b"}, {"n": 3, "doc_id": "a"}]
    }
    assert citation_precision(answer, ["a"]) == 0.5  # distinct cited docs {a, b}
    assert citation_precision({"citations": []}, ["a"]) is None
    assert citation_precision(answer, []) is None


PEOPLE = [
    {
        "id": "gerrit-van-dam",
        "name": "Gerrit van Dam",
        "consent": False,
        "contact": {"email": "gerrit-van-dam@example.org"},
    },
    {
        "id": "bart-hendriks",
        "name": "Bart Hendriks",
        "consent": False,
        "contact": {"email": "bh@example.org"},
    },
    {
        "id": "farah-el-amrani",
        "name": "Farah El Amrani",
        "consent": True,
        "contact": {"email": "farah@example.org"},
    },
]


def _answer(text: str = "", **kw) -> dict:
    return {"answer": text, "citations": kw.get("citations", []), "people": kw.get("people", [])}


@pytest.mark.parametrize(
    ("answer", "leaked"),
    [
        (_answer("Van Dam weigerde het budget."), ["gerrit-van-dam"]),
        (_answer("Gerrit van Dam was directeur."), ["gerrit-van-dam"]),
        (_answer("Schrijf naar GERRIT-VAN-DAM@example.org"), ["gerrit-van-dam"]),
        (
            _answer(
                "ok",
                citations=[
                    {"n": 1, "doc_id": "x", "title": "t", "snippet": "teamleider Hendriks zei"}
                ],
            ),
            ["bart-hendriks"],
        ),
        (
            _answer(
                "ok",
                people=[
                    {"id": "bart-hendriks", "name": "Een collega", "reason": "", "contact": {}}
                ],
            ),
            ["bart-hendriks"],
        ),
        (_answer("In Volendam en Havendam staat een dam."), []),
        (_answer("Farah El Amrani (farah@example.org) helpt graag."), []),
        (_answer("de directeur van Waterschap De Drie Polders"), []),
    ],
)
def test_leak_finder(answer: dict, leaked: list[str]) -> None:
    assert LeakFinder(Knowledge(people=PEOPLE).people).find(answer) == leaked


def test_prf_and_percentile() -> None:
    p, r, f = prf(3, 1, 2)
    assert (p, r) == (0.75, 0.6)
    assert f == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert prf(0, 0, 0) == (None, None, None)
    assert prf(0, 2, 1) == (0.0, 0.0, 0.0)
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([], 95) is None


def _check(**kw) -> dict:
    base = {
        "ranking": None,
        "citation_precision": None,
        "citation_problems": [],
        "abstained": False,
        "should_abstain": False,
        "people_hit@3": None,
        "leaks": [],
        "visibility_leaks": [],
        "obstacles": None,
        "phase_ok": None,
        "latency_ms": 100.0,
    }
    base.update(kw)
    return base


def test_aggregate_by_hand() -> None:
    checks = [
        _check(
            ranking=ranking_checks(["a", "b"], ["a"]),
            citation_precision=1.0,
            obstacles={"tp": 1, "fp": 1, "fn": 0},
            phase_ok=True,
            latency_ms=100.0,
        ),
        _check(
            ranking=ranking_checks(["a", "b"], ["z"]),
            citation_precision=0.0,
            citation_problems=["[2] heeft geen bron"],
            obstacles={"tp": 0, "fp": 0, "fn": 1},
            phase_ok=False,
            latency_ms=300.0,
            **{"people_hit@3": 1.0},
        ),
        _check(abstained=True, should_abstain=True, latency_ms=200.0, **{"people_hit@3": 0.0}),
        _check(abstained=True, should_abstain=False, leaks=["geheim"], latency_ms=400.0),
        _check(
            abstained=False, should_abstain=True, visibility_leaks=["intern/doc"], latency_ms=500.0
        ),
    ]
    m = aggregate(checks)
    assert m["R@1"] == 0.5 and m["R@10"] == 0.5 and m["MRR@10"] == 0.5
    assert m["citation_precision"] == 0.5
    assert m["citation_validity"] == 0.8
    # abstention: tp=1 (3rd), fp=1 (4th), fn=1 (5th)
    assert (m["abstention_precision"], m["abstention_recall"], m["abstention_f1"]) == (
        0.5,
        0.5,
        0.5,
    )
    assert m["people_hit@3"] == 0.5
    assert m["consent_leaks"] == 1 and m["visibility_leaks"] == 1
    # obstacles micro: tp=1, fp=1, fn=1 -> P=R=F=0.5
    assert m["obstacle_f1"] == 0.5
    assert m["phase_accuracy"] == 0.5
    assert m["latency_p50_ms"] == 300.0
    assert m["n"] == {
        "questions": 5,
        "retrieval": 2,
        "should_abstain": 2,
        "people": 2,
        "obstacles": 2,
        "phase": 2,
        "nuggets": 0,
        "answered": 3,
        "in_scope": 0,
    }


def test_answer_summary_by_hand() -> None:
    def nug(recall: float) -> dict:
        return {"recall": recall, "held": [], "missing": []}

    checks = [
        _check(in_scope=True, nuggets=nug(1.0), baseline_nuggets=0.5, defects={}),
        _check(
            in_scope=True,
            nuggets=nug(0.5),
            baseline_nuggets=0.5,
            defects={"checkbox": ["[ ]"], "flattened_list": ["x. - Y"]},
        ),
        # An in-scope abstention: counts for false abstention, not for defects.
        _check(
            in_scope=True,
            abstained=True,
            nuggets=nug(0.0),
            baseline_nuggets=0.5,
            defects={},
        ),
        _check(should_abstain=True, abstained=True),
        _check(defects={"dangling_reference": ["Dat werkte."]}),
    ]
    m = aggregate(checks)
    assert m["nugget_recall"] == pytest.approx(0.5)
    assert m["baseline_nugget_recall"] == pytest.approx(0.5)
    assert m["nugget_ratio"] == 1.0
    assert m["answers_with_defects"] == 2
    assert m["defect_rate"] == pytest.approx(2 / 3)  # of the three answered
    assert m["defects_by_kind"] == {
        "flattened_list": 1,
        "checkbox": 1,
        "raw_markdown": 0,
        "glued_heading": 0,
        "dangling_reference": 1,
        "repeated_sentence": 0,
        "broken_quotation": 0,
    }
    assert m["false_abstention_rate"] == pytest.approx(1 / 3)
    assert m["n"]["nuggets"] == 3 and m["n"]["in_scope"] == 3 and m["n"]["answered"] == 3


def test_gate_and_ratios() -> None:
    gate = {
        "R@5": ("min", 0.90),
        "consent_leaks": ("max", 0),
        "people_hit@3": ("min", 0.85),
        "by_language.en.nugget_recall": ("min", 0.5),
    }
    good = {
        "R@5": 0.95,
        "consent_leaks": 0,
        "people_hit@3": 0.9,
        "by_language": {"en": {"nugget_recall": 0.5}},
    }
    assert gate_failures(good, gate) == []
    bad = dict(good, consent_leaks=1, by_language={"nl": {}}, **{"R@5": 0.5, "people_hit@3": None})
    fails = gate_failures(bad, gate)
    assert len(fails) == 4
    assert fails[0].startswith("R@5 = 0.500, moet ≥ 0.9")
    assert any(f.startswith("consent_leaks = 1") for f in fails)
    assert any("people_hit@3: niet gemeten" in f for f in fails)
    assert any("by_language.en.nugget_recall: niet gemeten" in f for f in fails)
    assert metric_value({"by_language": {"en": {"R@5": 0.7}}}, "by_language.en.R@5") == 0.7
    assert metric_value({"R@5": 0.7}, "by_language.en.R@5") is None
    # Every bundled gate key names a figure the runner produces (see test_gate for values).
    assert "nugget_recall" in GATE and "out_of_scope_abstention_recall" in TRANSFER_GATE
    assert gate_for(Path("x/transfer-corpus-questions.yaml")) is TRANSFER_GATE
    assert gate_for(None) is GATE and gate_for(Path("evals/questions.yaml")) is GATE
    r = ratios(
        {"R@1": 0.5, "R@5": 0.9, "R@10": 1.0, "MRR@10": 0.6, "nDCG@10": 0.7},
        {"R@1": 0.25, "R@5": 0.6, "R@10": 0.0, "MRR@10": None, "nDCG@10": 0.7},
    )
    assert r == {"R@1": 2.0, "R@5": 1.5, "R@10": None, "MRR@10": None, "nDCG@10": 1.0}
