"""The REST API over the fake assistant: contract, conversations, streaming, feedback, intro,
documents, health and metrics."""

from __future__ import annotations

import json

from .conftest import sse_events

CONTRACT_KEYS = {
    "question",
    "language",
    "answer",
    "abstained",
    "citations",
    "retrieved",
    "people",
    "obstacles",
    "phase",
    "next_steps",
    "timings_ms",
}


def test_ask_returns_contract_object_with_answer_id(web):
    r = web.client.post(
        "/api/ask", json={"question": "Hoe kopen gemeenten samen een meldingensysteem in?"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= CONTRACT_KEYS
    assert body["abstained"] is False
    assert body["citations"] and body["citations"][0]["doc_id"] == "cases/gedeelde-aanbesteding"
    for c in body["citations"]:
        assert f"[{c['n']}]" in body["answer"]
    # The answer is stored under its id, so feedback can refer to it.
    assert web.stores.answer(body["answer_id"])["question"] == body["question"]


def test_ask_accepts_history_and_filters(web):
    question = "Hoeveel goedkoper werd het?"
    alone = web.client.post("/api/ask", json={"question": question}).json()
    history = [
        {"role": "user", "content": "Hoe kopen gemeenten samen een meldingensysteem in?"},
        {"role": "assistant", "content": "Vier gemeenten deden één aanbesteding [1]."},
    ]
    with_history = web.client.post(
        "/api/ask", json={"question": question, "history": history}
    ).json()
    assert alone["abstained"] is True
    assert with_history["abstained"] is False
    only_lessons = web.client.post(
        "/api/ask",
        json={"question": "Hoe kopen gemeenten samen in?", "filters": {"type": ["lesson"]}},
    ).json()
    assert "cases/gedeelde-aanbesteding" not in only_lessons["retrieved"]


def test_conversation_follow_up_uses_stored_history(web):
    r = web.client.post("/api/conversations", json={})
    assert r.status_code == 201
    cid = r.json()["conversation_id"]
    first = web.client.post(
        f"/api/conversations/{cid}/messages",
        json={"question": "Hoe kopen gemeenten samen een meldingensysteem in?"},
    ).json()
    follow = web.client.post(
        f"/api/conversations/{cid}/messages", json={"question": "Hoeveel goedkoper werd het?"}
    )
    assert follow.status_code == 200, follow.text
    body = follow.json()
    assert body["conversation_id"] == cid
    assert body["abstained"] is False, "the follow-up should be understood through the history"
    turns = web.client.get(f"/api/conversations/{cid}").json()["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert (
        turns[1]["answer_id"] == first["answer_id"] and turns[3]["answer_id"] == body["answer_id"]
    )


def test_unknown_conversation_is_404_json(web):
    r = web.client.post(
        "/api/conversations/nope/messages", json={"question": "Hoe kopen we samen in?"}
    )
    assert r.status_code == 404
    assert r.json()["error"] == "conversation_not_found"


def test_sse_deltas_then_one_final_answer_event(web):
    r = web.client.post(
        "/api/ask/stream", json={"question": "Hoe kopen gemeenten samen een meldingensysteem in?"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    kinds = [e for e, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert kinds[:-1] and set(kinds[:-1]) == {"delta"}, kinds
    final = json.loads(events[-1][1])
    streamed = "".join(json.loads(d)["text"] for e, d in events if e == "delta")
    assert streamed == final["answer"]
    assert final["citations"] and final["next_steps"] and final["answer_id"]
    assert "people" in final
    assert web.stores.answer(final["answer_id"])["answer"] == final["answer"]


def test_sse_in_a_conversation_stores_the_turns(web):
    cid = web.client.post("/api/conversations").json()["conversation_id"]
    r = web.client.post(
        f"/api/conversations/{cid}/messages/stream",
        json={"question": "Wanneer begin ik met de DPIA?"},
    )
    final = json.loads(sse_events(r.text)[-1][1])
    assert final["conversation_id"] == cid
    assert [t.role for t in web.stores.history(cid)] == ["user", "assistant"]


def test_feedback_is_stored_and_counted(web):
    answer = web.client.post("/api/ask", json={"question": "Wanneer begin ik met de DPIA?"}).json()
    r = web.client.post(
        "/api/feedback",
        json={"answer_id": answer["answer_id"], "rating": "down", "comment": "te kort"},
    )
    assert r.status_code == 201, r.text
    stored = web.stores.feedback_for(answer["answer_id"])
    assert [(f["rating"], f["comment"], f["channel"]) for f in stored] == [
        ("down", "te kort", "web")
    ]
    metrics = web.client.get("/metrics").text
    assert 'opschaal_feedback_total{channel="web",rating="down"} 1.0' in metrics


def test_feedback_on_unknown_answer_or_bad_rating(web):
    r = web.client.post("/api/feedback", json={"answer_id": "bestaat-niet", "rating": "up"})
    assert r.status_code == 404 and r.json()["error"] == "answer_not_found"
    r = web.client.post("/api/feedback", json={"answer_id": "x", "rating": "meh"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "rating"


def test_intro_for_consenting_person_only(web):
    r = web.client.post(
        "/api/intro", json={"person_id": "kees-kort", "question": "Hoe kopen we samen in?"}
    )
    assert r.status_code == 200, r.text
    assert "Kees" in r.json()["text"]
    r = web.client.post(
        "/api/intro", json={"person_id": "geheim-persoon", "question": "Wie regelde het budget?"}
    )
    assert r.status_code == 404 and r.json()["error"] == "person_unavailable"
    assert "Gerda" not in r.text


def test_people_never_include_non_consenting(web):
    body = web.client.post(
        "/api/ask", json={"question": "Wie regelde het budget voor de uitrol?"}
    ).json()
    assert all(p["id"] != "geheim-persoon" for p in body["people"])
    assert "Gerda" not in json.dumps(body)


def test_health_ready_and_metrics(web):
    assert web.client.get("/healthz").json() == {"status": "ok"}
    with web.client:  # runs the lifespan, which warms the assistant in the background
        import time

        for _ in range(200):
            r = web.client.get("/readyz")
            if r.status_code == 200:
                break
            time.sleep(0.05)
        assert r.status_code == 200 and r.json() == {"ready": True}
        web.client.post("/api/ask", json={"question": "Wie heeft een paspoort voor mijn kat?"})
        web.client.post("/api/ask", json={"question": "Wanneer begin ik met de DPIA?"})
        text = web.client.get("/metrics").text
    assert 'opschaal_http_requests_total{method="POST",route="/api/ask",status="200"} 2.0' in text
    assert 'opschaal_answers_total{abstained="true",channel="web"} 1.0' in text
    assert 'opschaal_abstentions_total{channel="web"} 1.0' in text
    assert "opschaal_http_request_duration_seconds_bucket" in text
    assert "opschaal_ready 1.0" in text


def test_readyz_is_503_until_warm(make_web, fake_settings):
    from assistant.service import Assistant

    cold = Assistant(fake_settings)  # nothing loaded yet, and no lifespan runs here
    web = make_web(assistant=cold)
    r = web.client.get("/readyz")
    assert r.status_code == 503 and r.json()["ready"] is False


def test_openapi_and_docs(web):
    spec = web.client.get("/openapi.json").json()
    for path in (
        "/api/ask",
        "/api/ask/stream",
        "/api/conversations",
        "/api/conversations/{conversation_id}/messages",
        "/api/feedback",
        "/api/intro",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in spec["paths"], path
    assert web.client.get("/docs").status_code == 200


def test_demo_page_and_widget_script(web):
    page = web.client.get("/")
    assert page.status_code == 200
    assert (
        '<script src="/widget.js" data-title="Opschaalwijzer" data-lang="nl" defer></script>'
        in page.text
    )
    assert '&lt;script src="http://testserver/widget.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = web.client.get("/widget.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in js.text and "innerHTML" not in js.text


def test_demo_page_escapes_a_hostile_host_header(web):
    page = web.client.get("/", headers={"host": 'evil"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert '&lt;script src="http://' in page.text  # the snippet is escaped, whatever the host
    assert "<script>alert(1)</script>" not in page.text


def test_identical_standalone_questions_reuse_a_cached_answer(make_web):
    web = make_web(answer_cache_seconds=60)
    q = {"question": "Wanneer begin ik met de DPIA?"}
    a, b = (web.client.post("/api/ask", json=q).json() for _ in range(2))
    assert a["answer"] == b["answer"] and a["answer_id"] != b["answer_id"]
    assert web.stores.answer(b["answer_id"])["answer"] == b["answer"]
    assert "opschaal_answer_cache_hits_total 1.0" in web.client.get("/metrics").text
    off = make_web(answer_cache_seconds=0)
    for _ in range(2):
        off.client.post("/api/ask", json=q)
    assert "opschaal_answer_cache_hits_total 0.0" in off.client.get("/metrics").text


def test_a_restart_loses_nothing(make_web):
    before = make_web()
    cid = before.client.post("/api/conversations").json()["conversation_id"]
    answer = before.client.post(
        f"/api/conversations/{cid}/messages", json={"question": "Wanneer begin ik met de DPIA?"}
    ).json()
    before.client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": "up"})
    after = make_web()  # a new app and a new SQLite connection on the same data folder
    assert len(after.client.get(f"/api/conversations/{cid}").json()["messages"]) == 2
    assert [f["rating"] for f in after.stores.feedback_for(answer["answer_id"])] == ["up"]
