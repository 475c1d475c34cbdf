"""Drafted plan paragraphs from a real model: llama.cpp's OpenAI-compatible server with Gemma 3
270M (the ``local_llm`` fixture), behind a recording proxy that forwards everything unchanged.

A model this small mostly writes text that fails the checks; the test holds the product to what
it promises either way: every section shows a paragraph, a shown draft passed every check, a
rejected one left the template with its reason, and nobody's name reaches the plan.
"""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("langchain_openai")

from assistant.service import Assistant  # noqa: E402
from evals.local_llm import ALIAS  # noqa: E402
from plans.export import to_markdown  # noqa: E402
from plans.service import PlanService  # noqa: E402
from storage import PlanStore, Stores  # noqa: E402
from tests.assistant.recording_proxy import recording_proxy, streamed_text  # noqa: E402
from tests.plans.conftest import STRAATSEIN  # noqa: E402

pytestmark = pytest.mark.llm

REASONS = {
    "wrong_language",
    "invalid_citations",
    "no_answer",
    "no_citations",
    "unsupported",
    "invented_url",
    "contact_details",
    "person_named",
    "invented_number",
    "too_long",
    "empty",
    "no_sources",
    "timeout",
    "breaker_open",
}


def test_a_real_model_drafts_or_falls_back_per_section(plan_world, local_llm, tmp_path):
    import yaml

    with recording_proxy(local_llm.base_url) as proxy:
        settings = plan_world["settings"].model_copy(
            update={
                "llm": f"openai:{ALIAS}",
                "llm_base_url": proxy.base_url,
                "llm_timeout": 180.0,
                "llm_max_retries": 0,
                "llm_max_tokens": 160,
            }
        )
        assistant = Assistant(settings, embedder=plan_world["embedder"], store=plan_world["store"])
        svc = PlanService(assistant, PlanStore(Stores(tmp_path / "plans.sqlite3")))
        pid = svc.create("web:alice", STRAATSEIN)
        asked = len(proxy.requests)
        view = svc.view(pid, "web:alice")
        assert len(proxy.requests) == asked >= 1  # drafted at creation, never per view
        returned = [streamed_text(r) for r in proxy.responses]
    assert any(t.strip() for t in returned), "the model should have written something"
    hidden = [
        p
        for p in yaml.safe_load((plan_world["corpus"] / "people.yaml").read_text())
        if not p.get("consent")
    ]
    text = json.dumps(view, ensure_ascii=False)
    for p in hidden:
        assert p["name"] not in text and p["id"] not in text
    for p in view["paragraphs"]:
        assert p["text"].strip()
        if p["drafted"]:
            assert p["answerer"] == f"llm:openai:{ALIAS}"
            cited = {int(n) for n in re.findall(r"\[(\d+)\]", p["text"])}
            assert cited and cited <= {s["n"] for s in view["sources"]}
            assert not assistant.names_in(p["text"])
        else:
            assert p["fallback_reason"] in REASONS, p
            assert p["answerer"] == f"template (fallback: {p['fallback_reason']})"
    drafted = sum(p["drafted"] for p in view["paragraphs"])
    assert to_markdown(view).count("Opgesteld door een taalmodel") == drafted
