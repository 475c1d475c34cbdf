"""Drafted plan paragraphs against a real model: llama.cpp's server with Gemma 3 270M.

The loopback tests (test_drafts.py) script what a good and a bad model say. This one lets a real,
small model draft every section through the real client and checks what the product makes of
whatever comes back: each section ends either as a draft that passed its checks (its markers
name only that section's sources) or as the cited template with the reason it fell back. Either
way the export still reads as a plan.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("langchain_openai")

from assistant.service import Assistant  # noqa: E402
from assistant.validation import invented_urls  # noqa: E402
from evals.local_llm import ALIAS  # noqa: E402
from plans.drafts import SECTIONS  # noqa: E402
from plans.export import to_markdown  # noqa: E402
from plans.service import RETRY, PlanService  # noqa: E402
from storage import PlanStore, Stores  # noqa: E402
from tests.assistant.test_llm_server import eval_runs, record_figure  # noqa: E402
from tests.plans.conftest import STRAATSEIN  # noqa: E402

pytestmark = pytest.mark.llm


def test_a_real_model_drafts_or_falls_back_section_by_section(plan_world, local_llm, tmp_path):
    settings = plan_world["settings"].model_copy(
        update={
            "llm": f"openai:{ALIAS}",
            "llm_base_url": local_llm.base_url,
            "llm_timeout": 180.0,
            "llm_max_retries": 0,
        }
    )
    assistant = Assistant(settings, embedder=plan_world["embedder"], store=plan_world["store"])
    svc = PlanService(assistant, PlanStore(Stores(tmp_path / "plans.sqlite3")))
    before = len(eval_runs(local_llm.log()))

    # A new plan is drafted as it is made, so that showing it never waits for the model.
    pid = svc.create("web:alice", STRAATSEIN)

    # Every section went to the model: llama.cpp logged one finished generation per section.
    drafted_runs = len(eval_runs(local_llm.log())) - before
    assert drafted_runs >= len(SECTIONS)
    stored = svc.store.get(pid)["payload"]["drafts"]
    assert set(stored) == set(SECTIONS)
    view = svc.view(pid, "web:alice")
    paragraphs = view["paragraphs"]
    assert [p["section"] for p in paragraphs] == list(SECTIONS)
    numbers = {s["n"] for s in view["sources"]}
    for p in paragraphs:
        d = stored[p["section"]]
        assert p["text"].strip(), p
        assert not invented_urls(p["text"], []), p
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", p["text"])}
        if d["drafted"]:
            assert d["fallback_reason"] is None and d["answerer"].startswith("llm:")
            assert cited <= set(d["sources"]) <= numbers, p
        else:
            # A draft that failed its checks leaves the template, and says why.
            assert d["fallback_reason"], d
            assert p["answerer"].startswith("template") and cited <= numbers, p
    # Drafting again without a change reuses what is stored: no new generation.
    retried = [s for s in SECTIONS if stored[s]["fallback_reason"] in RETRY]
    svc.draft(pid, "web:alice")
    assert len(eval_runs(local_llm.log())) - before - drafted_runs <= len(retried)
    record_figure(
        "plan_drafts_gemma_270m",
        {s: stored[s]["fallback_reason"] or "drafted" for s in SECTIONS},
    )
    # The export reads as a plan with or without the model's words.
    md = to_markdown(view)
    assert STRAATSEIN["innovation"] in md and "[1]" in md
