"""Abuse of the public API: made-up keys, unlimited routes, a forged X-Forwarded-For, missing
response headers, refused origins nobody hears about, and an OpenAPI schema a generated client
can trust."""

from __future__ import annotations

import logging
import os
import uuid

import httpx
import pytest
from pydantic import SecretStr

from bench.load import ServeProcess

Q = {"question": "Wanneer begin ik met de DPIA?"}
ORIGIN = "https://intranet.voorbeeldstad.nl"


def fresh_key() -> dict:
    return {"X-API-Key": uuid.uuid4().hex}


# -- keys and buckets ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/ask", Q),
        ("POST", "/api/feedback", {"answer_id": "abc", "rating": "up"}),
        ("POST", "/api/feedback/1/comment", {"answer_id": "abc", "comment": "mist iets"}),
        ("POST", "/api/intro", {"person_id": "kees-kort", "question": "Wil je meedenken?"}),
        ("POST", "/api/contributions", {"title": "x"}),
        ("GET", "/api/obstacles", None),
        ("GET", "/api/documents/cases/gedeelde-aanbesteding", None),
        ("POST", "/api/conversations", {}),
        ("GET", "/bronnen/cases/gedeelde-aanbesteding", None),
    ],
)
def test_unknown_key_is_401_on_every_route(make_web, method, path, body):
    web = make_web(api_keys=[SecretStr("echte-sleutel")])
    r = web.client.request(method, path, json=body, headers=fresh_key())
    assert r.status_code == 401, (r.status_code, r.text[:200])
    assert r.json()["error"] == "invalid_key"
    ok = web.client.request(method, path, json=body, headers={"X-API-Key": "echte-sleutel"})
    assert ok.status_code != 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/feedback", {"answer_id": "abc", "rating": "up"}),
        ("/api/feedback/1/comment", {"answer_id": "abc", "comment": "mist iets"}),
        ("/api/intro", {"person_id": "kees-kort", "question": "Wil je meedenken?"}),
        ("/api/ask", Q),
    ],
)
def test_a_fresh_random_key_per_request_does_not_escape_the_limit(make_web, path, body):
    web = make_web(rate_limit_per_minute=3)
    codes = [web.client.post(path, json=body, headers=fresh_key()).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429], codes


def test_a_verified_key_has_its_own_bucket(make_web):
    web = make_web(rate_limit_per_minute=2, api_keys=[SecretStr("echte-sleutel")])
    assert [web.client.post("/api/ask", json=Q).status_code for _ in range(3)] == [200, 200, 429]
    keyed = web.client.post("/api/ask", json=Q, headers={"Authorization": "Bearer echte-sleutel"})
    assert keyed.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/contributions", {"title": "x"}),
        ("GET", "/api/obstacles", None),
        ("GET", "/bronnen/cases/gedeelde-aanbesteding", None),
        ("GET", "/bronnen/bestaat-niet", None),
        ("GET", "/curator", None),
        ("GET", "/api/conversations/onbekend", None),
    ],
)
def test_every_public_route_that_works_per_request_is_limited(make_web, method, path, body):
    web = make_web(rate_limit_per_minute=2)
    codes = [web.client.request(method, path, json=body).status_code for _ in range(3)]
    assert codes[2] == 429 and 429 not in codes[:2], codes
    # Health checks and the widget script stay reachable for the same client.
    for free in ("/healthz", "/readyz", "/widget.js", "/static/widget.js", "/"):
        assert web.client.get(free).status_code != 429, free


# -- X-Forwarded-For ----------------------------------------------------------------------------
def _serve(settings, tmp_path, **env) -> ServeProcess:
    return ServeProcess(
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("OPSCHAAL_")},
            "OPSCHAAL_INDEX_DIR": str(settings.index_dir),
            "OPSCHAAL_DATA_DIR": str(tmp_path / "data"),
            "OPSCHAAL_EMBEDDER": "fake",
            "HF_HUB_OFFLINE": "1",
            "OPSCHAAL_RATE_LIMIT_PER_MINUTE": "2",
            **env,
        },
        workers=1,
    )


def _codes_with_forged_addresses(url: str) -> list[int]:
    return [
        httpx.get(url + "/api/obstacles", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(1, 5)
    ]


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(fake_assistant, tmp_path):
    with _serve(fake_assistant.settings, tmp_path) as server:
        assert _codes_with_forged_addresses(server.url) == [200, 200, 429, 429], (
            "a local process must not pick its own bucket by naming an address"
        )
    with _serve(fake_assistant.settings, tmp_path, OPSCHAAL_TRUSTED_PROXIES="127.0.0.1") as server:
        assert _codes_with_forged_addresses(server.url) == [200, 200, 200, 200], (
            "behind a trusted proxy every client address has its own bucket"
        )


def test_trusted_proxies_accepts_networks(make_web):
    web = make_web(rate_limit_per_minute=1, trusted_proxies=["testclient", "10.0.0.0/8"])
    for i in range(3):
        r = web.client.get("/api/obstacles", headers={"X-Forwarded-For": f"198.51.100.{i}"})
        assert r.status_code == 200, i


# -- response headers ---------------------------------------------------------------------------
def test_api_responses_are_nosniff_and_never_cached(web):
    from .conftest import sse_events

    for r in (
        web.client.post("/api/ask", json=Q),
        web.client.post("/api/ask", json={}),
        web.client.get("/api/conversations/onbekend"),
        web.client.post("/api/ask/stream", json=Q),
    ):
        assert r.headers["x-content-type-options"] == "nosniff", r.request.url
        assert r.headers["cache-control"] == "no-store", r.request.url
    assert sse_events(r.text)[-1][0] == "answer"


def test_static_widget_has_the_same_headers_as_widget_js(web):
    a, b = web.client.get("/widget.js"), web.client.get("/static/widget.js")
    assert a.content == b.content
    for header in (
        "content-type",
        "cache-control",
        "cross-origin-resource-policy",
        "x-content-type-options",
        "referrer-policy",
    ):
        assert a.headers[header] == b.headers[header], header


def test_curator_page_sends_a_strict_csp(make_web):
    from bots.sharing.settings import CuratorSettings

    curator = CuratorSettings(keys=[SecretStr("curator-sleutel")], _env_file=None)
    web = make_web(channels={"sharing": curator})
    r = web.client.get("/curator", headers={"X-Curator-Key": "curator-sleutel"})
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


# -- CORS ---------------------------------------------------------------------------------------
def test_a_refused_origin_is_logged_once(make_web, caplog):
    web = make_web(allowed_origins=[ORIGIN])
    caplog.set_level(logging.WARNING, logger="opschaal.web")
    for _ in range(3):
        web.client.post("/api/ask", json=Q, headers={"Origin": "https://andere.example.org"})
        web.client.options(
            "/api/ask",
            headers={
                "Origin": "https://andere.example.org",
                "Access-Control-Request-Method": "POST",
            },
        )
    web.client.post("/api/ask", json=Q, headers={"Origin": ORIGIN})
    web.client.post("/api/ask", json=Q, headers={"Origin": "http://testserver"})  # same origin
    refused = [r.getMessage() for r in caplog.records if "CORS" in r.getMessage()]
    assert len(refused) == 1, refused
    assert "https://andere.example.org" in refused[0]
    assert "OPSCHAAL_ALLOWED_ORIGINS" in refused[0]


# -- OpenAPI ------------------------------------------------------------------------------------
def test_openapi_documents_what_the_server_sends(web):
    schema = web.client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert components["ValidationErrorBody"]["properties"]["detail"]["type"] == "string"
    ask = schema["paths"]["/api/ask"]["post"]
    assert {"200", "400", "401", "413", "422", "429", "503"} <= set(ask["responses"])
    question = components["AskRequest"]["properties"]["question"]
    assert question["minLength"] == 1 and question["maxLength"] == web.settings.max_question_chars
    comment = schema["paths"]["/api/feedback/{feedback_id}/comment"]["post"]
    assert {"403", "404", "409"} <= set(comment["responses"])
    feedback_id = comment["parameters"][0]["schema"]
    assert feedback_id["minimum"] == 1 and feedback_id["maximum"] == 2**63 - 1
    contribution = schema["paths"]["/api/contributions"]["post"]
    body = contribution["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Contribution"}
    assert components["Contribution"]["properties"]["obstacles"]["items"]["enum"] == [
        "budget",
        "inkoop",
        "privacy",
    ]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert ok, (method, path)
            content = op["responses"][ok[0]].get("content", {})
            if "application/json" in content:
                assert content["application/json"]["schema"] not in ({}, {"type": "object"}), (
                    method,
                    path,
                )


def test_a_generated_client_works(web):
    """A client built from nothing but the schema: request bodies from its examples of required
    fields, answers checked against its response schemas."""
    import jsonschema_rs

    schema = web.client.get("/openapi.json").json()

    def resolve(s: dict) -> dict:
        while "$ref" in s:
            s = schema["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]]
        return s

    def validate(op: dict, r: httpx.Response) -> None:
        spec = op["responses"][str(r.status_code)]
        body = spec["content"]["application/json"]["schema"]
        validator = jsonschema_rs.validator_for({**body, "components": schema["components"]})
        validator.validate(r.json())

    cid_op = schema["paths"]["/api/conversations"]["post"]
    r = web.client.post("/api/conversations", json={})
    validate(cid_op, r)
    msg_op = schema["paths"]["/api/conversations/{conversation_id}/messages"]["post"]
    required = resolve(msg_op["requestBody"]["content"]["application/json"]["schema"])["required"]
    assert required == ["question"]
    r = web.client.post(f"/api/conversations/{r.json()['conversation_id']}/messages", json=Q)
    validate(msg_op, r)
    fb_op = schema["paths"]["/api/feedback"]["post"]
    fb = web.client.post(
        "/api/feedback", json={"answer_id": r.json()["answer_id"], "rating": "down"}
    )
    validate(fb_op, fb)
    link = fb_op["responses"]["201"]["links"]["AddComment"]
    assert link["parameters"] == {"feedback_id": "$response.body#/feedback_id"}
    comment_op = schema["paths"]["/api/feedback/{feedback_id}/comment"]["post"]
    r2 = web.client.post(
        f"/api/feedback/{fb.json()['feedback_id']}/comment",
        json={"answer_id": r.json()["answer_id"], "comment": "de kosten"},
    )
    validate(comment_op, r2)
    # Errors are what the schema says they are, too.
    validate(schema["paths"]["/api/ask"]["post"], web.client.post("/api/ask", json={}))
    validate(
        schema["paths"]["/api/documents/{doc_id}"]["get"], web.client.get("/api/documents/nee")
    )
