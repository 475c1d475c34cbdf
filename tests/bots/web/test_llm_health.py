"""The language model's circuit breaker as an operator sees it: /readyz and /metrics."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_openai")

from tests.assistant.openai_server import Reply, serve  # noqa: E402
from tests.assistant.test_breaker import assistant_for  # noqa: E402
from tests.assistant.test_llm import GOOD, QUESTION  # noqa: E402


@pytest.fixture
def server():
    with serve() as s:
        yield s


def test_breaker_shows_in_readyz_and_metrics(fake_assistant, server, make_web):
    server.default = Reply(GOOD, delay=5)
    assistant = assistant_for(fake_assistant, server, llm_timeout=0.3)
    assistant.warm()  # the index, not the model: the lifespan's warm question would ask it
    web = make_web(assistant)
    ready = web.client.get("/readyz").json()
    assert ready["ready"] and not ready.get("degraded")
    assert ready["llm"]["state"] == "closed" and ready["llm"]["model"] == "openai:gpt-4o-mini"
    reasons = [
        web.client.post("/api/ask", json={"question": QUESTION + f" ({i})"}).json()[
            "fallback_reason"
        ]
        for i in range(3)
    ]
    assert reasons == ["timeout", "timeout", "breaker_open"]
    r = web.client.get("/readyz")
    body = r.json()
    assert r.status_code == 200 and body["ready"] and body["degraded"]
    assert body["llm"]["state"] == "open" and body["llm"]["opens"] == 1
    assert "openai:gpt-4o-mini" in body["detail"] and "extractieve" in body["detail"]
    text = web.client.get("/metrics").text
    assert 'opschaal_llm_breaker_state{model="openai:gpt-4o-mini"} 2.0' in text
    assert 'opschaal_llm_breaker_opens_total{model="openai:gpt-4o-mini"} 1.0' in text
    assert 'opschaal_llm_fallbacks_total{channel="web",reason="timeout"} 2.0' in text
    assert 'opschaal_llm_fallbacks_total{channel="web",reason="breaker_open"} 1.0' in text


def test_without_a_model_readyz_has_no_llm_part(web):
    web.app.state.assistant.warm()
    body = web.client.get("/readyz").json()
    assert body == {"ready": True}
