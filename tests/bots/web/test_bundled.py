"""The API over the bundled corpus with the real embedder: behaviour that depends on real data."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import SecretStr

from tests.conftest import BUNDLED_CORPUS

from .conftest import sse_events

pytestmark = pytest.mark.slow

INTERNAL = "cases/innovatiebudget-pilotitis"
Q_INTERNAL = {
    "question": "Hoeveel pilots uit het Innovatiefonds Dienstverlening zijn structureel ingevoerd?"
}


@pytest.fixture
def bundled_web(make_web, bundled_assistant, tmp_path):
    return make_web(
        assistant=bundled_assistant, data_dir=tmp_path / "data", api_keys=[SecretStr("k-123")]
    )


def test_answer_over_the_bundled_corpus_keeps_the_contract(bundled_web):
    r = bundled_web.client.post(
        "/api/ask", json={"question": "Hoe kopen we samen met andere gemeenten in?"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["abstained"] is False and body["citations"]
    assert len(body["retrieved"]) >= 10
    for c in body["citations"]:
        assert f"[{c['n']}]" in body["answer"] and c["doc_id"] in body["retrieved"]
    consenting = {
        p["id"]
        for p in yaml.safe_load((BUNDLED_CORPUS / "people.yaml").read_text())
        if p["consent"] is True
    }
    assert {p["id"] for p in body["people"]} <= consenting


def test_internal_evaluation_only_with_a_key(bundled_web):
    anonymous = bundled_web.client.post("/api/ask", json=Q_INTERNAL).json()
    assert INTERNAL not in anonymous["retrieved"]
    keyed = bundled_web.client.post(
        "/api/ask", json=Q_INTERNAL, headers={"Authorization": "Bearer k-123"}
    ).json()
    assert INTERNAL in keyed["retrieved"][:3]
    assert bundled_web.client.get(f"/bronnen/{INTERNAL}").status_code == 404
    assert (
        bundled_web.client.get(
            f"/api/documents/{INTERNAL}", headers={"X-API-Key": "k-123"}
        ).status_code
        == 200
    )


def test_streamed_conversation_over_the_bundled_corpus(bundled_web):
    cid = bundled_web.client.post("/api/conversations").json()["conversation_id"]
    r = bundled_web.client.post(
        f"/api/conversations/{cid}/messages/stream",
        json={"question": "Wanneer moet ik met een DPIA beginnen?"},
    )
    events = sse_events(r.text)
    assert [e for e, _ in events][-1] == "answer"
    final = json.loads(events[-1][1])
    assert any("dpia" in c["doc_id"] for c in final["citations"])
    follow = bundled_web.client.post(
        f"/api/conversations/{cid}/messages", json={"question": "Wie heeft daar ervaring mee?"}
    ).json()
    assert follow["people"], "a people question in context of the DPIA should recommend someone"
    assert "privacy" in {o for p in follow["people"] for o in p["obstacles"]} | set(
        follow["obstacles"]
    )
