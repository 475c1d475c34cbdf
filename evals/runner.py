"""Run a question file through the Assistant and the baselines, and score every answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from assistant.conversation import condense
from assistant.models import Turn
from assistant.service import Assistant, UserError

from .answer_quality import defects, nugget_report
from .baselines import make_baselines, naive_answer
from .dataset import Question, QuestionFileError, check_labels, load_questions
from .llm_run import mark, run_figures
from .metrics import (
    GATE,
    LeakFinder,
    aggregate,
    citation_precision,
    citation_problems,
    gate_failures,
    ranking_checks,
    ratios,
    retrieval_summary,
)

Progress = Callable[[int, int], None]
RETRIEVAL_BASELINES = ["bm25", "dense", "langchain"]


def score(
    q: Question, answer: dict, *, known_docs: dict[str, str], leaks: LeakFinder, latency_ms: float
) -> dict:
    """The per-question checks that ``metrics.aggregate`` sums up."""
    expected = q.expected_docs or []
    checks: dict = {
        "ranking": ranking_checks(answer["retrieved"], expected) if expected else None,
        "citation_precision": None if answer["abstained"] else citation_precision(answer, expected),
        "citation_problems": citation_problems(answer, known_docs),
        "abstained": bool(answer["abstained"]),
        "should_abstain": q.should_abstain,
        "people_hit@3": None,
        "leaks": leaks.find(answer),
        "visibility_leaks": [],
        "obstacles": None,
        "phase_ok": None,
        "language_ok": None if q.language is None else answer["language"] == q.language,
        "latency_ms": round(latency_ms, 1),
        "in_scope": bool(expected) and not q.should_abstain,
        "nuggets": None,
        # Defects are counted on answers a reader gets; an abstention is one fixed text.
        "defects": {} if answer["abstained"] else defects(answer.get("answer", "")),
        "baseline_nuggets": None,
    }
    if q.nuggets:
        nuggets = [n.model_dump() for n in q.nuggets]
        # An abstention tells the reader there is no answer, whatever nearby titles it lists.
        checks["nuggets"] = nugget_report(nuggets, "" if answer["abstained"] else answer["answer"])
    if q.expected_people:
        top = [p["id"] for p in answer["people"][:3]]
        checks["people_hit@3"] = 1.0 if set(top) & set(q.expected_people) else 0.0
    if q.audience == "public":
        shown = [c["doc_id"] for c in answer["citations"]] + list(answer["retrieved"])
        checks["visibility_leaks"] = sorted(
            {d for d in shown if known_docs.get(d, "public") != "public"}
        )
    if q.expected_obstacles is not None:
        got, exp = set(answer["obstacles"]), set(q.expected_obstacles)
        checks["obstacles"] = {"tp": len(got & exp), "fp": len(got - exp), "fn": len(exp - got)}
    if q.expected_phase:
        checks["phase_ok"] = answer["phase"] == q.expected_phase
    checks["failures"] = failures(q, answer, checks)
    return checks


def failures(q: Question, answer: dict, c: dict) -> list[str]:
    """Short Dutch reasons, worst first; the report sorts questions by them."""
    out = []
    if c["leaks"]:
        out.append("toestemming geschonden: " + ", ".join(c["leaks"]))
    if c["visibility_leaks"]:
        out.append("intern document zichtbaar: " + ", ".join(c["visibility_leaks"]))
    if c["citation_problems"]:
        out.append("ongeldige bronvermelding: " + "; ".join(c["citation_problems"]))
    if c["should_abstain"] and not c["abstained"]:
        out.append("antwoordde terwijl het moest weigeren")
    if c["abstained"] and not c["should_abstain"]:
        out.append("weigerde terwijl er een antwoord is")
    r = c["ranking"]
    if r is not None and not r["hit@10"]:
        out.append("verwacht document niet in top 10")
    elif r is not None and not r["hit@5"]:
        out.append("verwacht document niet in top 5")
    if c["people_hit@3"] == 0.0:
        out.append("verwachte persoon niet in top 3")
    if c["phase_ok"] is False:
        out.append(f"fase {answer['phase']!r}, verwacht {q.expected_phase!r}")
    if c["nuggets"] and c["nuggets"]["missing"]:
        out.append("ontbrekende kernfeiten: " + "; ".join(c["nuggets"]["missing"]))
    if c["defects"]:
        out.append("leesbaarheid: " + ", ".join(sorted(c["defects"])))
    return out


def severity(c: dict) -> float:
    """Higher is worse; used to pick the worst questions for the report."""
    s = (
        10.0 * len(c["leaks"])
        + 10.0 * len(c["visibility_leaks"])
        + 5.0 * bool(c["citation_problems"])
    )
    s += 3.0 * (c["abstained"] != c["should_abstain"])
    r = c["ranking"]
    if r is not None:
        s += 2.0 * (1.0 - r["hit@5"]) + (1.0 - r["rr@10"]) + (1.0 - r["hit@10"])
    if c["people_hit@3"] == 0.0:
        s += 1.5
    if c["phase_ok"] is False:
        s += 0.5
    if c["nuggets"]:
        s += 1.0 - c["nuggets"]["recall"]
    s += 0.25 * len(c["defects"])
    return s


def _index_labels(
    assistant: Assistant,
) -> tuple[dict[str, str], dict[str, bool], set[str], set[str]]:
    rt = assistant.runtime
    docs = {d: m.visibility for d, m in rt.index.docs.items()}
    know = rt.index.knowledge
    people = {p.id: p.consent for p in know.people}
    obstacles = {o.key for o in know.obstacles}
    phases = {p.key for p in know.phases}
    return docs, people, obstacles, phases


def run_eval(
    assistant: Assistant,
    questions: list[Question] | Path | str | None = None,
    *,
    baselines: bool = True,
    progress: Progress | None = None,
    gate: dict[str, tuple[str, float]] | None = None,
) -> dict:
    """``{"metrics": {...}, "results": [...]}``; each result holds the full §3 answer."""
    if not isinstance(questions, list):
        questions = load_questions(questions)
    # warm() loads everything a first answer touches, so start-up stays out of the percentiles.
    assistant.warm()
    rt = assistant.runtime
    known_docs, people, obstacles, phases = _index_labels(assistant)
    problems = check_labels(questions, known_docs, people, obstacles, phases)
    if problems:
        more = f" (en nog {len(problems) - 1})" if len(problems) > 1 else ""
        raise QuestionFileError(
            f"{problems[0]}{more}; past het vragenbestand wel bij deze index ({assistant.settings.index_dir})?"
        )
    leak_finder = LeakFinder(rt.index.knowledge.people)
    systems = make_baselines(assistant) if baselines else {}
    model_mark = mark(assistant)

    results = []
    for i, q in enumerate(questions):
        history = [Turn(role=t.role, content=t.content) for t in q.history]
        t0 = time.perf_counter()
        error = None
        try:
            ans = assistant.ask(q.question, history=history, audience=q.audience).contract_dict()
        except UserError as exc:
            error = str(exc)
            ans = {
                "question": q.question,
                "language": q.lang,
                "answer": "",
                "abstained": True,
                "citations": [],
                "retrieved": [],
                "people": [],
                "obstacles": [],
                "phase": None,
                "next_steps": [],
                "timings_ms": {},
            }
        latency = (time.perf_counter() - t0) * 1000
        checks = score(q, ans, known_docs=known_docs, leaks=leak_finder, latency_ms=latency)
        baseline_runs = {}
        query = condense(q.question, history)
        qvec = assistant.embedder.embed([query], kind="query")[0] if systems or q.nuggets else None
        if q.nuggets:
            # The answer baseline always runs: it is one search, and the gate reads its ratio.
            naive = naive_answer(assistant, query, q.audience, qvec, q.lang)
            naive_nuggets = nugget_report([n.model_dump() for n in q.nuggets], naive["answer"])
            checks["baseline_nuggets"] = naive_nuggets["recall"]
            baseline_runs["extractive"] = {
                **naive,
                "nuggets": naive_nuggets,
                "defects": defects(naive["answer"]),
            }
        for name, fn in systems.items():
            retrieved = fn(query, q.question, q.audience, qvec)
            baseline_runs[name] = {
                "retrieved": retrieved,
                "ranking": ranking_checks(retrieved, q.expected_docs) if q.expected_docs else None,
                "visibility_leaks": sorted(
                    {d for d in retrieved if known_docs.get(d, "public") != "public"}
                )
                if q.audience == "public"
                else [],
            }
        result = {
            "id": q.id,
            "question": q.question,
            "answer": ans,
            "tags": q.tags,
            "language": q.lang,
            "audience": q.audience,
            "expected": {
                "nuggets": [n.fact for n in q.nuggets or []],
                "docs": q.expected_docs,
                "people": q.expected_people,
                "obstacles": q.expected_obstacles,
                "should_abstain": q.should_abstain,
                "phase": q.expected_phase,
            },
            "checks": checks,
            "severity": round(severity(checks), 3),
            "baselines": baseline_runs,
        }
        if error:
            result["error"] = error
        results.append(result)
        if progress:
            progress(i + 1, len(questions))
    metrics = summarise(results, assistant, gate)
    model = run_figures(assistant, model_mark, results)
    if model:
        metrics["llm"].update(model)
        if not model["measures_model"]:
            # An extractive run must not pass as a measurement of the model.
            metrics["gate"]["failures"].append("llm: " + model["not_a_measurement"])
            metrics["gate"]["passed"] = False
    return {"metrics": metrics, "results": results}


def summarise(
    results: list[dict],
    assistant: Assistant | None = None,
    gate: dict[str, tuple[str, float]] | None = None,
) -> dict:
    checks = [r["checks"] for r in results]
    metrics = aggregate(checks)
    project = retrieval_summary([c["ranking"] for c in checks if c["ranking"]])
    metrics["systems"] = {"project": project}
    names = sorted(
        {n for r in results for n in r["baselines"] if n in RETRIEVAL_BASELINES},
        key=RETRIEVAL_BASELINES.index,
    )
    for name in names:
        rows = [
            r["baselines"][name]["ranking"]
            for r in results
            if r["baselines"].get(name, {}).get("ranking")
        ]
        metrics["systems"][name] = retrieval_summary(rows)
        metrics["systems"][name]["visibility_leaks"] = sum(
            len(r["baselines"][name]["visibility_leaks"]) for r in results
        )
    metrics["systems"]["project"]["visibility_leaks"] = metrics["visibility_leaks"]
    metrics["ratios"] = {name: ratios(project, metrics["systems"][name]) for name in names}
    tags = sorted({t for r in results for t in r["tags"]})
    metrics["by_tag"] = {
        t: aggregate([r["checks"] for r in results if t in r["tags"]]) for t in tags
    }
    langs = sorted({r["language"] for r in results})
    metrics["by_language"] = {
        lang: aggregate([r["checks"] for r in results if r["language"] == lang]) for lang in langs
    }
    oos = metrics["by_tag"].get("out-of-scope")
    metrics["out_of_scope_abstention_recall"] = oos["abstention_recall"] if oos else None
    lang_checks = [c["language_ok"] for c in checks if c["language_ok"] is not None]
    metrics["language_accuracy"] = sum(lang_checks) / len(lang_checks) if lang_checks else None
    gate = GATE if gate is None else gate
    fails = gate_failures(metrics, gate)
    metrics["gate"] = {
        "thresholds": {k: {"kind": kind, "value": v} for k, (kind, v) in gate.items()},
        "passed": not fails,
        "failures": fails,
    }
    from assistant.validation import llm_metrics

    metrics["llm"] = llm_metrics(
        [r["answer"] for r in results], assistant.settings.llm if assistant is not None else None
    )
    if assistant is not None:
        rt = assistant.runtime
        metrics["run"] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "index_dir": str(assistant.settings.index_dir),
            "embedder": rt.index.embedder_name,
            "generation": rt.generation,
            "documents": len(rt.index.docs),
            "answerer": results[0]["answer"].get("answerer") if results else None,
        }
    return metrics
