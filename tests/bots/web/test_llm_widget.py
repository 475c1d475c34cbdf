"""The web channel with a real model server (llama.cpp + Gemma 3 270M) behind it: the widget
streams the model's own tokens in a real browser, and a client that disconnects mid-answer
cancels the model request."""

from __future__ import annotations

import json
import shutil
import time

import httpx
import pytest

from assistant.llm import visible
from evals.local_llm import ALIAS
from tests.conftest import MINI_CORPUS, build, make_settings

from .conftest import ServerThread, sse_events
from .test_widget_browser import OUT, WAIT, browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.llm

QUESTION = "Hoe kopen gemeenten samen een meldingensysteem in?"


@pytest.fixture(scope="module")
def llm_web(tmp_path_factory, local_llm):
    """The mini corpus served by uvicorn, answering with the local model."""
    from assistant.service import Assistant
    from bots.web import create_app
    from storage import Stores

    tmp = tmp_path_factory.mktemp("web-llm")
    shutil.copytree(MINI_CORPUS, tmp / "corpus")
    settings = make_settings(
        tmp / "index",
        embedder="fake",
        rate_limit_per_minute=0,
        answer_cache_seconds=0,
        llm=f"openai:{ALIAS}",
        llm_base_url=local_llm.base_url,
        llm_timeout=180.0,
        llm_max_retries=0,
        llm_max_tokens=120,
    )
    report, embedder, store = build(tmp / "corpus", settings)
    assert report.exit_code == 0, report.invalid
    assistant = Assistant(settings, embedder=embedder, store=store)
    app = create_app(settings, assistant, Stores.from_settings(settings))
    with ServerThread(app) as srv:
        srv.assistant = assistant
        yield srv


@pytest.mark.browser
def test_the_widget_streams_the_models_own_tokens(browser, llm_web):  # noqa: F811
    context = browser.new_context(viewport={"width": 1200, "height": 860}, locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(WAIT * 8)  # a CPU-only model on a shared machine
    # Keep a copy of the SSE body as the widget reads it (a streamed fetch body is not
    # available to Playwright afterwards); the widget itself reads the original.
    page.add_init_script(
        """(() => {
          const fetch0 = window.fetch.bind(window);
          window.__sse = [];
          window.fetch = async (input, init) => {
            const res = await fetch0(input, init);
            if (String(input.url || input).endsWith("/stream")) {
              res.clone().text().then((t) => window.__sse.push(t));
            }
            return res;
          };
        })();"""
    )
    try:
        page.goto(llm_web.url + "/")
        page.get_by_role("button", name="Vraag het Opschaalwijzer").click()
        page.get_by_label("Je vraag").fill(QUESTION)
        page.get_by_label("Je vraag").press("Enter")
        bot = page.locator("article.msg.bot").first
        bot.locator(".feedback").wait_for()
        page.wait_for_function("window.__sse.length === 1")
        events = sse_events(page.evaluate("window.__sse[0]"))
        deltas = [json.loads(d)["text"] for e, d in events if e == "delta"]
        final = [json.loads(d) for e, d in events if e == "answer"]
        record = llm_web.assistant.answerer.records[-1]
        assert record.outcome == "ok" and record.pieces > 1, record.as_dict()
        # The deltas are the model's tokens as llama.cpp streamed them, one event per token.
        assert "".join(deltas) == visible(record.text)
        assert len(deltas) == record.pieces
        assert int(bot.get_attribute("data-deltas")) == len(deltas)
        # The final answer replaces the streamed text: checked, with sources, whoever wrote it.
        assert len(final) == 1 and final[0]["answerer"].startswith(("llm:", "extractive"))
        assert bot.locator("a.cite").count() >= 1
        OUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUT / "web-widget-llm.png"))
        assert errors == []
    finally:
        context.close()


def test_a_client_that_disconnects_mid_answer_cancels_the_model_request(llm_web, local_llm):
    answerer = llm_web.assistant.answerer
    log_start = len(local_llm.log())
    calls = answerer.record_count
    with (
        httpx.Client(timeout=180) as client,
        client.stream("POST", llm_web.url + "/api/ask/stream", json={"question": QUESTION}) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("event: delta"):
                break  # the first token arrived: hang up, like a closed browser tab
    for _ in range(600):
        if answerer.record_count > calls and answerer.records[-1].outcome != "ok":
            break
        httpx.get(llm_web.url + "/healthz", timeout=30)  # wait for the server side to notice
        time.sleep(0.1)
    record = answerer.records[-1]
    assert record.outcome in ("cancelled", "closed"), record.as_dict()
    assert record.pieces < 120  # stopped before the token limit
    # llama.cpp notices the closed connection when it sends its next token.
    for _ in range(600):
        if "Disconnected from client" in local_llm.log()[log_start:]:
            break
        time.sleep(0.1)
    assert "Disconnected from client" in local_llm.log()[log_start:]
    # The model is free and in use for the next question.
    a = httpx.post(
        llm_web.url + "/api/ask", json={"question": QUESTION + " En wat kostte het?"}, timeout=180
    )
    body = a.json()
    assert a.status_code == 200, body
    assert answerer.records[-1].outcome == "ok"
    assert body["fallback_reason"] not in ("timeout", "breaker_open", "cancelled")
