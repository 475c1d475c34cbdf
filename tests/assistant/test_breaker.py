"""The circuit breaker, bounded generation and cancellation, against the loopback OpenAI server.

The real langchain-openai client streams from :mod:`tests.assistant.openai_server`; the real
model server (llama.cpp) is in tests/assistant/test_llm_server.py.
"""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("langchain_openai")

from assistant.breaker import CircuitBreaker  # noqa: E402
from assistant.llm import complete_sentences  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from tests.assistant.openai_server import Reply, serve  # noqa: E402
from tests.assistant.test_llm import GOOD, QUESTION, _case_n, llm_settings  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_failures_in_a_row_and_logs_once(caplog):
    clock = Clock()
    b = CircuitBreaker("openai:m", trip_after=2, cooldown_s=30, clock=clock)
    with caplog.at_level(logging.INFO, logger="assistant.breaker"):
        b.failure("timeout")
        assert b.state == "closed" and b.allow()
        b.failure("timeout")
        assert b.state == "open"
        assert [b.allow() for _ in range(5)] == [False] * 5
    opened = [r for r in caplog.records if "uitgeschakeld" in r.getMessage()]
    assert len(opened) == 1
    assert "openai:m" in opened[0].getMessage() and "2× achter elkaar" in opened[0].getMessage()
    assert b.status() == {
        "model": "openai:m",
        "state": "open",
        "opens": 1,
        "reason": "timeout",
        "retry_in_s": 30.0,
    }


def test_a_success_or_an_answering_endpoint_resets_the_count():
    b = CircuitBreaker("m", trip_after=2, clock=Clock())
    b.failure("timeout")
    b.success()
    b.failure("timeout")
    assert b.state == "closed"
    b.failure("http_error", counts=False)  # the endpoint answered, with an error
    b.failure("timeout")
    assert b.state == "closed"


def test_after_the_cooldown_one_probe_goes_out_and_its_result_decides():
    clock = Clock()
    b = CircuitBreaker("m", trip_after=1, cooldown_s=30, clock=clock)
    b.failure("connection_error")
    assert not b.allow()
    clock.now += 30
    assert b.allow()  # the probe
    assert b.state == "half_open"
    assert not b.allow() and not b.allow()  # everyone else waits for its verdict
    b.failure("timeout")
    assert b.state == "open" and b.opens == 2 and b.last_reason == "probe_failed:timeout"
    clock.now += 30
    assert b.allow()
    b.success()
    assert b.state == "closed" and b.allow() and b.allow()
    assert [(c.old, c.new) for c in b.changes] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_a_cancelled_probe_lets_the_next_question_probe():
    clock = Clock()
    b = CircuitBreaker("m", trip_after=1, cooldown_s=5, clock=clock)
    b.failure("timeout")
    clock.now += 5
    assert b.allow()
    b.release()
    assert b.allow() and b.state == "half_open"


def test_complete_sentences_drops_a_sentence_cut_off_at_the_token_limit():
    assert complete_sentences("Eerst dit [1]. Dan dat [2]. En toen ging de") == (
        "Eerst dit [1]. Dan dat [2]."
    )
    assert complete_sentences("Zonder einde") == "Zonder einde"


# --- against the loopback server ------------------------------------------------------------


@pytest.fixture
def server():
    with serve() as s:
        yield s


def assistant_for(fake_assistant, server, **kw) -> Assistant:
    return Assistant(
        llm_settings(fake_assistant.settings, server, **kw),
        embedder=fake_assistant.embedder,
        store=fake_assistant.store,
    )


def test_the_token_limit_and_stops_are_sent_and_a_cut_answer_keeps_whole_sentences(
    fake_assistant, server
):
    def reply(body):
        n = _case_n(body)
        text = GOOD.replace("[1]", f"[{n}]") + " En daarna kochten ze ook nog samen een"
        return Reply(text, finish="length")

    server.default = reply
    a = assistant_for(fake_assistant, server, llm_max_tokens=77).ask(QUESTION)
    body = server.requests[-1]
    # langchain-openai's field, and the one llama.cpp and older servers read
    assert body["max_completion_tokens"] == 77 and body["max_tokens"] == 77
    assert body["stop"] == ["<bron", "</bron", "<vraag", "</vraag"]
    assert body["stream"] is True
    assert a.answerer == "llm:openai:gpt-4o-mini", a.fallback_reason
    assert a.answer.rstrip().endswith("procent [1].") or "daarna kochten" not in a.answer
    assert "daarna kochten ze ook nog samen een" not in a.answer


def test_the_deadline_counts_the_whole_stream_and_closes_it(fake_assistant, server):
    # Every read is fast (0.2 s) but the whole answer would take 8 s.
    server.default = Reply(GOOD, chunk_delay=0.2)
    assistant = assistant_for(fake_assistant, server, llm_timeout=1.0)
    a = assistant.ask(QUESTION)
    assert a.fallback_reason == "timeout"
    assert server.disconnected.wait(10), "the client should close the stream at the deadline"
    record = assistant.answerer.records[-1]
    assert record.outcome == "timeout" and 0 < record.pieces < len(GOOD.split())


def test_slow_but_streaming_answers_do_not_open_the_breaker(fake_assistant, server):
    server.default = Reply(GOOD, chunk_delay=0.2)
    assistant = assistant_for(fake_assistant, server, llm_timeout=0.7)
    reasons = [assistant.ask(QUESTION).fallback_reason for _ in range(3)]
    assert reasons == ["timeout"] * 3
    assert len(server.requests) == 3  # every question still went to the model
    assert assistant.answerer.breaker.state == "closed"


def test_a_client_that_goes_away_cancels_the_model_request(fake_assistant, server):
    server.default = Reply(GOOD, chunk_delay=0.3)
    assistant = assistant_for(fake_assistant, server, llm_timeout=30)
    events = assistant.stream(QUESTION)
    kind, _ = next(events)
    assert kind == "delta"
    events.close()  # what the web layer does when the browser disconnects
    assert server.disconnected.wait(10), "the model request should be closed"
    answerer = assistant.answerer
    for _ in range(100):
        if answerer.records and answerer.records[-1].outcome == "cancelled":
            break
        server.stopping.wait(0.1)
    assert answerer.records[-1].outcome == "cancelled"
    assert answerer.breaker.state == "closed"


def test_after_the_cooldown_one_probe_reaches_the_model_and_closes_the_breaker(
    fake_assistant, server
):
    server.push(Reply(GOOD, delay=5), Reply(GOOD, delay=5))
    server.default = lambda body: Reply(GOOD.replace("[1]", f"[{_case_n(body)}]"))
    assistant = assistant_for(fake_assistant, server, llm_timeout=0.3, llm_breaker_cooldown=1.0)
    assert [assistant.ask(QUESTION).fallback_reason for _ in range(3)] == [
        "timeout",
        "timeout",
        "breaker_open",
    ]
    assert len(server.requests) == 2
    breaker = assistant.answerer.breaker
    server.stopping.wait(breaker.retry_in() + 0.1)  # the cooldown
    probe = assistant.ask(QUESTION)
    assert probe.answerer == "llm:openai:gpt-4o-mini", probe.fallback_reason
    assert len(server.requests) == 3
    assert [(c.old, c.new) for c in breaker.changes] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
