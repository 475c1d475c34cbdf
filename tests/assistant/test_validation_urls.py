"""Web addresses in a generated answer must come from the sources."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_openai")

from assistant.answering import Evidence  # noqa: E402
from assistant.validation import check_answer, invented_urls  # noqa: E402
from tests.assistant.openai_server import (
    Reply,  # noqa: E402
    serve,  # noqa: E402
)
from tests.assistant.test_breaker import assistant_for  # noqa: E402
from tests.assistant.test_llm import GOOD, QUESTION, _case_n  # noqa: E402

EV = [
    Evidence(
        1,
        "a",
        "Gezamenlijke aanbesteding",
        "case",
        "https://www.example.org/cases/aanbesteding",
        "nl",
        1.0,
        [("Vier gemeenten kochten samen in; zie https://meldingen.example.org/uitleg.", "", None)],
    )
]


def test_addresses_from_the_sources_pass_and_others_are_invented():
    assert invented_urls("Lees https://meldingen.example.org/uitleg/ [1].", EV) == []
    assert invented_urls("Zie example.org of http://example.org/cases/aanbesteding.", EV) == []
    assert invented_urls("Kijk op https://www.aanbesteden-samen.nl/gids [1].", EV) == [
        "https://www.aanbesteden-samen.nl/gids"
    ]


def test_an_answer_with_an_invented_address_is_rejected_however_well_it_reads():
    c = check_answer(
        "Vier gemeenten kochten samen in [1]. Alles staat op www.samen-inkopen.example.com [1].",
        EV,
    )
    assert c.problem == "invented_url"
    assert c.invented_urls == ["www.samen-inkopen.example.com"]


def test_the_fallback_names_the_invented_address_as_its_reason(fake_assistant):
    with serve() as llm_server:
        llm_server.default = lambda body: Reply(
            GOOD.replace("[1]", f"[{_case_n(body)}]")
            + f" De handleiding staat op https://aanbesteding.example.net/handleiding [{_case_n(body)}]."
        )
        a = assistant_for(fake_assistant, llm_server).ask(QUESTION)
    assert a.fallback_reason == "invented_url"
    assert a.answerer == "extractive (fallback: invented_url)"
    assert "example.net" not in a.answer
