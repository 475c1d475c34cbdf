"""Limits, keys, CORS and error hygiene of the web API."""

from __future__ import annotations

import json

from pydantic import SecretStr

from assistant.service import Assistant

from .conftest import sse_events

ORIGIN = "https://intranet.voorbeeldstad.nl"


def test_question_too_long_is_422_with_clear_json(web):
    limit = web.settings.max_question_chars
    r = web.client.post("/api/ask", json={"question": "a" * (limit + 1)})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "question_too_long"
    assert str(limit) in body["detail"]


def test_empty_missing_and_malformed_questions_are_422(web):
    r = web.client.post("/api/ask", json={"question": "   "})
    assert r.status_code == 422 and r.json()["error"] == "question_empty"
    r = web.client.post("/api/ask", json={})
    assert r.status_code == 422 and r.json()["fields"] == [
        {"field": "question", "message": "ontbreekt"}
    ]
    r = web.client.post(
        "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    r = web.client.post("/api/ask", json={"question": "hoi", "stray": 1})
    assert r.status_code == 422 and r.json()["fields"][0] == {
        "field": "stray",
        "message": "is onbekend",
    }
    # the stream endpoint refuses before it starts streaming, so it can still say 422
    r = web.client.post("/api/ask/stream", json={"question": ""})
    assert r.status_code == 422 and r.json()["error"] == "question_empty"


def test_body_over_limit_is_413_by_length_header(make_web):
    web = make_web(max_body_bytes=1000)
    r = web.client.post("/api/ask", json={"question": "x" * 2000})
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large" and "1000" in r.json()["detail"]


def test_channel_webhooks_get_a_larger_body_cap(make_web):
    # Slack's block_actions carry the whole message; a normal API limit would reject big answers.
    web = make_web(max_body_bytes=1000)
    big = "payload=" + "x" * 50_000
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert web.client.post("/slack/events", content=big, headers=headers).status_code != 413
    assert web.client.post("/api/ask", content=big, headers=headers).status_code == 413
    huge = "payload=" + "x" * 1_100_000
    assert web.client.post("/slack/events", content=huge, headers=headers).status_code == 413


def test_chunked_body_over_limit_is_413(make_web):
    web = make_web(max_body_bytes=1000)

    def chunks():
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    r = web.client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "body_too_large"


def test_rate_limit_is_429_with_retry_after(make_web):
    web = make_web(rate_limit_per_minute=3, api_keys=[SecretStr("sleutel-1")])
    codes = [
        web.client.post("/api/ask", json={"question": "Wanneer begin ik met de DPIA?"}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    r = web.client.post("/api/feedback", json={"answer_id": "x", "rating": "up"})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["error"] == "rate_limited"
    # Health checks are never limited, and a keyed client has its own bucket.
    assert web.client.get("/healthz").status_code == 200
    keyed = web.client.post(
        "/api/ask",
        json={"question": "Wanneer begin ik met de DPIA?"},
        headers={"X-API-Key": "sleutel-1"},
    )
    assert keyed.status_code == 200
    assert "opschaal_rate_limited_total 2.0" in web.client.get("/metrics").text


def test_internal_documents_need_a_key(make_web):
    web = make_web(api_keys=[SecretStr("geheim-123")])
    q = {"question": "How do we agree on structural funding for maintenance after the pilot?"}
    anonymous = web.client.post("/api/ask", json=q).json()
    assert "lessons/english-note" not in anonymous["retrieved"]
    assert all(c["doc_id"] != "lessons/english-note" for c in anonymous["citations"])
    for headers in ({"Authorization": "Bearer geheim-123"}, {"X-API-Key": "geheim-123"}):
        keyed = web.client.post("/api/ask", json=q, headers=headers).json()
        assert "lessons/english-note" in keyed["retrieved"]
    assert web.client.get("/api/documents/lessons/english-note").status_code == 404
    assert web.client.get("/bronnen/lessons/english-note").status_code == 404
    doc = web.client.get("/api/documents/lessons/english-note", headers={"X-API-Key": "geheim-123"})
    assert doc.status_code == 200 and doc.json()["visibility"] == "internal"
    wrong = web.client.post("/api/ask", json=q, headers={"Authorization": "Bearer fout"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_key"


def test_internal_conversation_is_hidden_from_anonymous_callers(make_web):
    web = make_web(api_keys=[SecretStr("geheim-123")])
    cid = web.client.post("/api/conversations", headers={"X-API-Key": "geheim-123"}).json()[
        "conversation_id"
    ]
    assert web.client.get(f"/api/conversations/{cid}").status_code == 404
    assert (
        web.client.get(f"/api/conversations/{cid}", headers={"X-API-Key": "geheim-123"}).status_code
        == 200
    )


def test_cors_allowlist(make_web):
    web = make_web(allowed_origins=[ORIGIN])
    pre = web.client.options(
        "/api/ask",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    r = web.client.post(
        "/api/ask", json={"question": "Wanneer begin ik met de DPIA?"}, headers={"Origin": ORIGIN}
    )
    assert r.headers["access-control-allow-origin"] == ORIGIN
    other = web.client.options(
        "/api/ask",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers
    r = web.client.post(
        "/api/ask",
        json={"question": "Wanneer begin ik met de DPIA?"},
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in r.headers


def test_cors_headers_on_errors_too(make_web):
    web = make_web(allowed_origins=[ORIGIN], max_body_bytes=100)
    r = web.client.post("/api/ask", json={"question": "x" * 500}, headers={"Origin": ORIGIN})
    assert r.status_code == 413 and r.headers["access-control-allow-origin"] == ORIGIN


class BrokenAssistant(Assistant):
    """A real Assistant whose answering crashes with a message that must never reach a client."""

    def ask(self, *args, **kwargs):
        raise RuntimeError("geheim pad /srv/opschaal/secret.key")

    # ask() and stream() are two ways into the same stages; stream no longer goes through ask.
    def stream(self, *args, **kwargs):
        raise RuntimeError("geheim pad /srv/opschaal/secret.key")
        yield  # a generator, like the real one


def test_unexpected_error_is_generic_json_500_without_traceback(make_web, fake_settings, caplog):
    web = make_web(assistant=BrokenAssistant(fake_settings))
    r = web.client.post("/api/ask", json={"question": "Wanneer begin ik met de DPIA?"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error"] == "internal_error"
    for leak in ("Traceback", "RuntimeError", "secret.key", 'File "'):
        assert leak not in r.text
    assert "secret.key" in caplog.text  # it is in the server log instead
    stream = web.client.post("/api/ask/stream", json={"question": "Wanneer begin ik met de DPIA?"})
    events = sse_events(stream.text)
    assert events[-1][0] == "error" and json.loads(events[-1][1])["error"] == "internal_error"
    assert "secret.key" not in stream.text and "Traceback" not in stream.text
    text = web.client.get("/metrics").text
    assert 'opschaal_http_requests_total{method="POST",route="/api/ask",status="500"} 1.0' in text


def test_unknown_route_is_json_404(web):
    r = web.client.get("/api/bestaat-niet")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
