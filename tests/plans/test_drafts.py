"""Drafted plan paragraphs against a loopback server that speaks the OpenAI chat-completions API.

The real langchain-openai client (through the answer path's ``LLMAnswerer``) talks HTTP to
:mod:`tests.assistant.openai_server`; only the server's replies are scripted, and they are built
from the prompt the server received (the section's facts and its source numbers).
"""

from __future__ import annotations

import re
import time

import pytest
from pydantic import SecretStr

pytest.importorskip("langchain_openai")

from assistant.service import Assistant  # noqa: E402
from plans.export import export, to_markdown  # noqa: E402
from plans.service import PlanService  # noqa: E402
from storage import PlanStore, Stores  # noqa: E402
from tests.assistant.openai_server import Reply, serve  # noqa: E402
from tests.plans.conftest import STRAATSEIN  # noqa: E402

ENGLISH = {
    "innovation": "Street reports app",
    "problem": "Residents report broken pavements with a photo and location; reports hold "
    "personal data.",
    "where": "A pilot in one municipality",
    "owner": "Nobody yet after the pilot",
    "budget": "Pilot money only",
    "blocker": "Every municipality procures on its own and the small supplier cannot keep up",
    "ambition": "out",
    "language": "en",
}


def _prompt(body: dict) -> tuple[str, list[int], str]:
    """The plan facts, the source numbers and the system text of one request."""
    user = body["messages"][-1]["content"]
    facts = re.search(r"<plan>\n(.*?)\n</plan>", user, re.S).group(1)
    numbers = [int(n) for n in re.findall(r'<(?:bron|source) n="(\d+)"', user)]
    return facts, numbers, body["messages"][0]["content"]


def _gist(facts: str) -> str:
    """The facts' first two sentences, without markers and the last full stop."""
    sentences = re.split(r"(?<=[.!?])\s+", re.sub(r"\s*\[\d+\]", "", facts))
    return " ".join(sentences[:2]).rstrip(".")


def faithful(body: dict) -> Reply:
    """A model that retells the section's facts in its own frame, citing a real source."""
    facts, numbers, system = _prompt(body)
    lead = "In short:" if "You write one paragraph" in system else "Kort gezegd:"
    return Reply(f"{lead} {_gist(facts)} [{numbers[0]}].")


@pytest.fixture
def llm_server():
    with serve() as server:
        yield server


def drafting_service(plan_world, server, tmp_path, **kw) -> PlanService:
    settings = plan_world["settings"].model_copy(
        update={
            "llm": "openai:gpt-4o-mini",
            "llm_base_url": server.base_url,
            "llm_api_key": SecretStr("sk-test-0123456789"),
            "llm_timeout": 5.0,
            "llm_max_retries": 0,
            **kw,
        }
    )
    assistant = Assistant(settings, embedder=plan_world["embedder"], store=plan_world["store"])
    return PlanService(assistant, PlanStore(Stores(tmp_path / "plans.sqlite3")))


def by_section(view: dict) -> dict[str, dict]:
    return {p["section"]: p for p in view["paragraphs"]}


def test_without_a_model_every_section_has_its_cited_template(plan_world):
    svc = plan_world["service"]
    pid = svc.create("web:alice", STRAATSEIN)
    view = svc.view(pid, "web:alice")
    numbers = {s["n"] for s in view["sources"]}
    paras = by_section(view)
    assert list(paras) == [
        "innovation",
        "obstacles",
        "stakeholders",
        "business_case",
        "implementation",
    ]
    for p in paras.values():
        assert p["text"] and not p["drafted"] and p["answerer"] == "template", p
        assert set(p["sources"]) <= numbers
        assert {int(n) for n in re.findall(r"\[(\d+)\]", p["text"])} <= set(p["sources"]), p
    assert STRAATSEIN["innovation"] in paras["innovation"]["text"]
    assert svc.draft(pid, "web:alice") == view["paragraphs"]  # nothing to draft with
    assert "drafts" not in svc.store.get(pid)["payload"]
    assert "taalmodel" not in to_markdown(view)


def test_a_good_draft_is_stored_shown_without_the_model_and_exported_marked(
    plan_world, llm_server, tmp_path
):
    from docx import Document

    llm_server.default = faithful
    svc = drafting_service(plan_world, llm_server, tmp_path)
    pid = svc.create("web:alice", STRAATSEIN)
    asked = len(llm_server.requests)
    assert asked >= 4  # every section with sources went to the model
    view = svc.view(pid, "web:alice")
    assert len(llm_server.requests) == asked  # a view never calls the model
    paras = by_section(view)
    drafted = [p for p in paras.values() if p["drafted"]]
    assert len(drafted) == asked
    for p in drafted:
        assert p["answerer"] == "llm:openai:gpt-4o-mini" and p["fallback_reason"] is None
        assert p["text"].startswith("Kort gezegd:")
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", p["text"])}
        assert cited and cited == set(p["sources"])
    sent = "\n".join(m["content"] for r in llm_server.requests for m in r["messages"])
    assert "<plan>" in sent and "Bart Hendriks" not in sent

    md = to_markdown(view)
    assert drafted[0]["text"] in md
    assert md.count("Opgesteld door een taalmodel (openai:gpt-4o-mini)") == len(drafted)
    export(view, "docx", tmp_path / "plan.docx")
    doc = "\n".join(p.text for p in Document(str(tmp_path / "plan.docx")).paragraphs)
    assert drafted[0]["text"] in doc and "Opgesteld door een taalmodel" in doc

    # A changed section is drafted again, and only that one.
    svc.edit(pid, "web:alice", {"stakeholders": [{"role": "Wethouder", "stance": "voor"}]})
    assert len(llm_server.requests) == asked + 1
    again = by_section(svc.view(pid, "web:alice"))
    assert again["stakeholders"]["drafted"] and "Wethouder" in again["stakeholders"]["text"]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Kort gezegd: {gist} [99].", "invalid_citations"),
        ("Kort gezegd: {gist} [{n}][99].", "invalid_citations"),
        ("Kort gezegd: {gist}, voor € 12.345 per jaar [{n}].", "invented_number"),
        ("Kort gezegd: {gist}; vraag het Sanne van Dijk [{n}].", "person_named"),
        ("Kort gezegd: {gist}; mail naar info@example.org [{n}].", "contact_details"),
        ("In short, this part of the plan says the plan is ready [{n}].", "wrong_language"),
    ],
)
def test_a_draft_that_fails_a_check_falls_back_to_the_template(
    plan_world, llm_server, tmp_path, reply, reason
):
    def bad(body: dict) -> Reply:
        facts, numbers, _ = _prompt(body)
        return Reply(reply.format(gist=_gist(facts), n=numbers[0]))

    llm_server.default = bad
    svc = drafting_service(plan_world, llm_server, tmp_path)
    pid = svc.create("web:alice", STRAATSEIN)
    view = svc.view(pid, "web:alice")
    tried = [p for p in view["paragraphs"] if p["fallback_reason"] != "no_sources"]
    assert len(tried) == len(llm_server.requests) >= 4
    for p in tried:
        assert not p["drafted"] and p["fallback_reason"] == reason, p
        assert p["answerer"] == f"template (fallback: {reason})"
        assert "[99]" not in p["text"] and "12.345" not in p["text"]
    plain = plan_world["service"]
    template = by_section(plain.view(plain.create("web:alice", STRAATSEIN), "web:alice"))
    assert by_section(view)["innovation"]["text"] == template["innovation"]["text"]
    assert "taalmodel" not in to_markdown(view)


def test_a_timeout_falls_back_and_a_dead_model_is_not_waited_for(plan_world, llm_server, tmp_path):
    llm_server.default = Reply("Kort gezegd [1].", delay=5)
    svc = drafting_service(
        plan_world, llm_server, tmp_path, llm_timeout=0.5, llm_breaker_cooldown=1.0
    )
    pid = svc.create("web:alice", STRAATSEIN)
    reasons = [p["fallback_reason"] for p in svc.view(pid, "web:alice")["paragraphs"]]
    tried = [r for r in reasons if r != "no_sources"]
    assert tried[:2] == ["timeout", "timeout"]
    assert set(tried[2:]) == {"breaker_open"}  # the breaker opened after two timeouts
    assert len(llm_server.requests) == 2
    for p in svc.view(pid, "web:alice")["paragraphs"]:
        assert p["text"] and not p["drafted"]

    # The model is back: drafting again retries what a dead model left, not what it wrote.
    llm_server.default = faithful
    time.sleep(1.2)  # the breaker's cooldown
    paras = svc.draft(pid, "web:alice")
    assert all(p["drafted"] for p in paras if p["fallback_reason"] != "no_sources")
    assert len(llm_server.requests) == 2 + len(tried)


def test_an_english_plan_gets_an_english_draft(plan_world, llm_server, tmp_path):
    llm_server.default = faithful
    svc = drafting_service(plan_world, llm_server, tmp_path)
    pid = svc.create("web:alice", ENGLISH)
    assert all(
        "You write one paragraph" in r["messages"][0]["content"] for r in llm_server.requests
    )
    view = svc.view(pid, "web:alice")
    drafted = [p for p in view["paragraphs"] if p["drafted"]]
    assert len(drafted) == len(llm_server.requests) >= 4, view["paragraphs"]
    assert all(p["text"].startswith("In short:") for p in drafted)
    assert by_section(view)["innovation"]["title"] == "The innovation and its phase"
    assert "Drafted by a language model (openai:gpt-4o-mini)" in to_markdown(view)
