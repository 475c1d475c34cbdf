"""The eval report of a run with a language model: its speed, and whether the breaker opened."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_openai")

from evals.dataset import Question  # noqa: E402
from evals.report import render_html  # noqa: E402
from evals.runner import run_eval  # noqa: E402
from tests.assistant.openai_server import Reply, serve  # noqa: E402
from tests.assistant.test_breaker import assistant_for  # noqa: E402
from tests.assistant.test_llm import CASE, GOOD, QUESTION, _case_n  # noqa: E402

QUESTIONS = [
    Question(id=f"q{i}", question=f"{QUESTION} ({i})", expected_docs=[CASE]) for i in range(4)
]


@pytest.fixture
def server():
    with serve() as s:
        yield s


def test_a_run_where_the_model_answered_reports_its_speed(fake_assistant, server):
    server.default = lambda body: Reply(GOOD.replace("[1]", f"[{_case_n(body)}]"), chunk_delay=0.01)
    run = run_eval(assistant_for(fake_assistant, server), QUESTIONS, baselines=False)
    llm = run["metrics"]["llm"]
    assert llm["measures_model"] is True and "not_a_measurement" not in llm
    assert llm["breaker"] == {
        "opens": 0,
        "changes": [],
        "state_at_end": "closed",
        "skipped_answers": 0,
    }
    gen = llm["generation"]
    assert gen["answer_calls"] == 4 and gen["outcomes"] == {"ok": 4}
    assert gen["finish_reasons"] == {"stop": 4}
    # The loopback server reports one completion token per streamed word.
    assert gen["completion_tokens"]["p50"] == len(GOOD.split(" "))
    assert gen["tokens_per_s"]["n"] == 4 and gen["tokens_per_s"]["p50"] > 0
    assert llm["answer_latency_ms"]["n"] == 4
    assert not any(f.startswith("llm:") for f in run["metrics"]["gate"]["failures"])
    html = render_html(run, {})
    assert "Tokens per seconde" in html and "Breaker open gegaan" in html


def test_a_run_where_the_breaker_opened_cannot_pass_as_a_measurement(fake_assistant, server):
    server.default = Reply(GOOD, delay=5)
    assistant = assistant_for(fake_assistant, server, llm_timeout=0.3)
    run = run_eval(assistant, QUESTIONS, baselines=False)
    m = run["metrics"]
    llm = m["llm"]
    assert llm["fallback_reasons"].get("breaker_open", 0) >= 1
    assert llm["breaker"]["opens"] >= 1
    assert llm["breaker"]["skipped_answers"] == llm["fallback_reasons"]["breaker_open"]
    assert [c["new"] for c in llm["breaker"]["changes"]][0] == "open"
    assert llm["measures_model"] is False
    assert "meten het model niet" in llm["not_a_measurement"]
    assert m["gate"]["passed"] is False
    assert any(f.startswith("llm: de breaker ging") for f in m["gate"]["failures"])
    html = render_html(run, {})
    assert "Breaker: wisselingen tijdens de run" in html
    assert "meten het model niet" in html
