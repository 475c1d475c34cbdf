"""Against a real model server: llama.cpp's OpenAI-compatible server with Gemma 3 270M.

The real langchain-openai client talks to the real server (evals/local_llm.py, started once per
session by the ``local_llm`` fixture). Where a test needs to see the prompt that was sent or
the tokens that came back, a recording proxy sits in between and forwards everything
unchanged. Error cases a real server cannot produce on demand (500, malformed JSON) stay with
the loopback stub in test_llm.py.

Gemma 3 270M is a small base model: given our prompt it mostly copies the rules back (until the
stop sequence ``<bron``), so most of its answers fall back. That is what these tests need: the
product must stay correct with a model that is not.
"""

from __future__ import annotations

import json
import re
import time

import pytest

pytest.importorskip("langchain_openai")

from assistant.answering import Evidence  # noqa: E402
from assistant.llm import DeadlineExceeded, generate, make_chat_model  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.validation import invented_urls  # noqa: E402
from evals.local_llm import ALIAS  # noqa: E402
from tests.assistant.recording_proxy import recording_proxy, streamed_text  # noqa: E402
from tests.assistant.test_llm import QUESTION  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

pytestmark = pytest.mark.llm

FIGURES = ROOT / "test-output" / "llm-figures.json"
#: Keeps a base model generating: it continues the pattern until the token limit.
COUNTING = [("user", "Tel door tot duizend: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,")]
#: Outcomes that mean the model did not answer at all.
NOT_ANSWERED = {"timeout", "breaker_open", "connection_error", "unavailable", "cancelled"}


def record_figure(key: str, value) -> None:
    """Measured figures for docs/llm.md and the closing note (not asserted: speed is measured)."""
    FIGURES.parent.mkdir(exist_ok=True)
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[key] = value
    FIGURES.write_text(json.dumps(figures, indent=1, ensure_ascii=False))


def real_assistant(fake_assistant, base_url: str, **kw) -> Assistant:
    update = {
        "llm": f"openai:{ALIAS}",
        "llm_base_url": base_url,
        "llm_timeout": 180.0,
        "llm_max_retries": 0,
        **kw,
    }
    return Assistant(
        fake_assistant.settings.model_copy(update=update),
        embedder=fake_assistant.embedder,
        store=fake_assistant.store,
    )


def eval_runs(log: str) -> list[int]:
    """Tokens llama.cpp generated per finished request, from its own timing lines."""
    return [int(n) for n in re.findall(r"\beval time = .*?/\s*(\d+) runs", log)]


@pytest.fixture
def proxy(local_llm):
    with recording_proxy(local_llm.base_url) as rec:
        yield rec


def test_generation_stops_at_the_token_limit(fake_assistant, local_llm, proxy):
    assistant = real_assistant(fake_assistant, proxy.base_url, llm_max_tokens=24)
    before = len(eval_runs(local_llm.log()))
    answer = assistant.ask(QUESTION)
    sent = proxy.requests[-1]
    assert sent["max_tokens"] == 24 and sent["stream"] is True
    assert sent["stop"] == ["<bron", "</bron", "<vraag", "</vraag"]
    record = assistant.answerer.records[-1]
    assert record.finish_reason == "length", record.as_dict()
    assert 0 < record.pieces <= 24
    # The server's own count of generated tokens for that request.
    runs = eval_runs(local_llm.log())[before:]
    assert runs and runs[-1] <= 24, runs
    # Whatever the model wrote, the user gets a checked answer with sources.
    assert answer.answer and answer.citations
    assert answer.answerer.startswith(("llm:", "extractive (fallback: "))
    record_figure("token_limit_run", record.as_dict())


def test_a_timeout_cancels_the_request_and_the_model_answers_the_next_question(
    fake_assistant, local_llm
):
    # One timeout opens this breaker if it counts: it must not, the model was streaming.
    assistant = real_assistant(
        fake_assistant, local_llm.base_url, llm_max_tokens=4000, llm_breaker_after=1
    )
    answerer = assistant.answerer
    log_start = len(local_llm.log())
    with pytest.raises(DeadlineExceeded) as exc:
        "".join(answerer.generate_text(COUNTING, timeout=4.0))
    timed_out = time.monotonic()
    assert exc.value.tokens > 0
    assert answerer.records[-1].outcome == "timeout"
    assert answerer.breaker.state == "closed"

    # How long until the server takes new work: a one-token request, timed. Uncancelled,
    # the counting request would hold the server for up to 4,000 tokens (minutes).
    tiny = make_chat_model(assistant.settings, max_tokens=1)
    "".join(generate(tiny, [("user", "Hoi")], timeout=180.0))
    free_after_s = round(time.monotonic() - timed_out, 2)

    answer = assistant.ask(QUESTION)
    record = answerer.records[-1]
    assert record.outcome == "ok", record.as_dict()
    assert answer.fallback_reason not in NOT_ANSWERED, answer.fallback_reason
    assert answerer.breaker.state == "closed" and answerer.breaker.opens == 0
    log = local_llm.log()[log_start:]
    assert "Disconnected from client" in log  # llama.cpp saw the stream close
    counted = [r for r in eval_runs(log) if r > 1]
    assert all(r < 4000 for r in counted), counted
    record_figure(
        "timeout_cancel",
        {
            "deadline_s": 4.0,
            "tokens_before_deadline": exc.value.tokens,
            "server_free_after_s": free_after_s,
            "next_answer": record.as_dict(),
        },
    )


def test_consent_holds_in_the_prompt_sent_and_the_answer_returned(fake_assistant, proxy):
    assistant = real_assistant(fake_assistant, proxy.base_url, llm_max_tokens=200)
    answer = assistant.ask(QUESTION)  # its case names Gerda Geheim, who gave no consent
    sent = json.dumps(proxy.requests[-1], ensure_ascii=False)
    returned = streamed_text(proxy.responses[-1])
    assert returned, "the model should have streamed text"
    assert "directeur van Testgemeente Noord" in sent  # her role stands in for her name
    for part in ("Gerda", "Geheim", "gerda-geheim"):
        assert part not in sent
        assert part not in returned
        assert part not in json.dumps(answer.contract_dict(), ensure_ascii=False)
    assert "@" not in sent


def test_an_invented_address_in_real_model_output_is_rejected(fake_assistant, local_llm):
    """The 270M model continues what it is given; here a claim with an address and a source
    number that the sources below do not have. Its real output goes through the verdict step
    the answerer uses for every answer (the product prompt itself makes this model copy the
    rules until the stop sequence, so it never gets as far as writing an address)."""
    assistant = real_assistant(fake_assistant, local_llm.base_url, llm_max_tokens=80)
    answerer = assistant.answerer
    evidence = [
        Evidence(
            1,
            "cases/gedeelde-aanbesteding",
            "Vier gemeenten kopen samen een meldingensysteem in",
            "case",
            None,
            "nl",
            1.0,
            [
                (
                    "Vier gemeenten kochten samen een meldingensysteem in via één aanbesteding.",
                    "",
                    None,
                )
            ],
        )
    ]
    claim = "De handleiding staat op https://samen-aanbesteden.example.net/handleiding [7]. "
    # A repeated pattern is what a base model continues most faithfully.
    prompt = [
        ("user", "Vier gemeenten kochten samen in [1]. " + claim * 2 + "De handleiding staat op")
    ]
    raw = "".join(answerer.generate_text(prompt, timeout=180.0))
    assert invented_urls(raw, evidence), f"expected the model to repeat the address: {raw!r}"
    draft = answerer.judge(QUESTION, "nl", evidence, raw, None)
    assert draft.extra["fallback_reason"] == "invented_url"
    assert draft.answerer == "extractive (fallback: invented_url)"
    assert "example.net" not in draft.text
    assert draft.citations and draft.citations[0].doc_id == "cases/gedeelde-aanbesteding"
