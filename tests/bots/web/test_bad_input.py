"""Bad input from any anonymous client, sent over a real socket to uvicorn: every case gets a
clean 4xx with the one JSON error shape, never a 500, a traceback or a stream that fails late.

The matrix covers what an outside fuzz run and a hand-made attack list found: lone UTF-16
surrogates in every text field, integers past 64 bits, oversized and deeply nested bodies,
wrong content types and bytes that are not UTF-8."""

# Bodies are written as the raw JSON text a client sends; %-formatting keeps the braces readable.
# ruff: noqa: UP031
from __future__ import annotations

import json

import httpx
import pytest

from .conftest import ServerThread

SUR = "opschalen \\ud800 pilot"  # a lone high surrogate, as JSON spells it
LOW = "\\udc80 einde"
Q = "Hoe kopen gemeenten samen een meldingensysteem in?"
JSON = {"content-type": "application/json"}
POSTS = [
    "/api/ask",
    "/api/ask/stream",
    "/api/conversations",
    "/api/conversations/{cid}/messages",
    "/api/conversations/{cid}/messages/stream",
    "/api/feedback",
    "/api/feedback/1/comment",
    "/api/intro",
    "/api/contributions",
]
CONTRIBUTION = (
    '{"title": "%s", "tried": "We probeerden samen in te kopen met drie gemeenten.", '
    '"obstacles": ["inkoop"], "learned": "Begin vroeg met een marktconsultatie, echt waar.", '
    '"organisation": "Testgemeente", "contact_ok": false}'
)


def _case(id_, method, path, body=None, headers=None, statuses=(422,)):
    return pytest.param(method, path, body, headers or JSON, statuses, id=id_)


def _nested(depth: int) -> str:
    return '{"question": "%s", "filters": %s%s}' % (Q, "[" * depth, "]" * depth)


CASES = [
    # -- lone surrogates: rejected with a 422 before anything reaches the model --------------
    _case("ask-question-surrogate", "POST", "/api/ask", '{"question": "%s"}' % SUR),
    _case("ask-question-low-surrogate", "POST", "/api/ask", '{"question": "%s"}' % LOW),
    _case(
        "ask-history-surrogate",
        "POST",
        "/api/ask",
        '{"question": "%s", "history": [{"role": "user", "content": "%s"}]}' % (Q, SUR),
    ),
    _case(
        "ask-filter-surrogate",
        "POST",
        "/api/ask",
        '{"question": "%s", "filters": {"type": ["%s"]}}' % (Q, SUR),
    ),
    _case("stream-question-surrogate", "POST", "/api/ask/stream", '{"question": "%s"}' % SUR),
    _case(
        "stream-history-surrogate",
        "POST",
        "/api/ask/stream",
        '{"question": "%s", "history": [{"role": "assistant", "content": "%s"}]}' % (Q, SUR),
    ),
    _case(
        "message-surrogate",
        "POST",
        "/api/conversations/{cid}/messages",
        '{"question": "%s"}' % SUR,
    ),
    _case(
        "message-filter-surrogate",
        "POST",
        "/api/conversations/{cid}/messages",
        '{"question": "%s", "filters": {"obstacles": ["%s"]}}' % (Q, SUR),
    ),
    _case(
        "message-stream-surrogate",
        "POST",
        "/api/conversations/{cid}/messages/stream",
        '{"question": "%s"}' % SUR,
    ),
    _case(
        "intro-surrogate",
        "POST",
        "/api/intro",
        '{"person_id": "kees-kort", "question": "%s"}' % SUR,
    ),
    _case(
        "feedback-comment-surrogate",
        "POST",
        "/api/feedback",
        '{"answer_id": "abc", "rating": "down", "comment": "%s"}' % SUR,
    ),
    _case(
        "comment-surrogate",
        "POST",
        "/api/feedback/1/comment",
        '{"answer_id": "abc", "comment": "%s"}' % SUR,
    ),
    _case("contribution-surrogate", "POST", "/api/contributions", CONTRIBUTION % SUR),
    # -- integers: path and body parameters are bounded ------------------------------------
    _case(
        "feedback-id-2^63",
        "POST",
        "/api/feedback/9223372036854775808/comment",
        '{"answer_id": "abc", "comment": "mist iets"}',
        statuses=(404, 422),
    ),
    _case(
        "feedback-id-2^64",
        "POST",
        "/api/feedback/18446744073709551616/comment",
        '{"answer_id": "abc", "comment": "mist iets"}',
        statuses=(404, 422),
    ),
    _case(
        "feedback-id-10^40",
        "POST",
        "/api/feedback/" + "1" + "0" * 40 + "/comment",
        '{"answer_id": "abc", "comment": "mist iets"}',
        statuses=(404, 422),
    ),
    _case(
        "feedback-id-negative",
        "POST",
        "/api/feedback/-1/comment",
        '{"answer_id": "abc", "comment": "mist iets"}',
        statuses=(404, 422),
    ),
    _case("k-2^63", "POST", "/api/ask", '{"question": "%s", "k": 9223372036854775808}' % Q),
    _case("k-10^400", "POST", "/api/ask", '{"question": "%s", "k": 1%s}' % (Q, "0" * 400)),
    _case("k-float-overflow", "POST", "/api/ask", '{"question": "%s", "k": 1e400}' % Q),
    _case("k-nan", "POST", "/api/ask", '{"question": "%s", "k": NaN}' % Q),
    # -- deep nesting and many items -------------------------------------------------------
    _case("nesting-arrays-20000", "POST", "/api/ask", _nested(20_000), statuses=(400, 422)),
    _case(
        "nesting-objects-10000",
        "POST",
        "/api/ask",
        '{"question": "x", "filters": ' + '{"a":' * 10_000 + "1" + "}" * 10_000 + "}",
        statuses=(400, 422),
    ),
    _case(
        "nesting-contribution",
        "POST",
        "/api/contributions",
        '{"title": ' + "[" * 20_000 + "]" * 20_000 + "}",
        statuses=(400, 422),
    ),
    _case(
        "history-51-turns",
        "POST",
        "/api/ask",
        json.dumps({"question": Q, "history": [{"role": "user", "content": "x"}] * 51}),
    ),
    # -- not JSON, or not the JSON we expect -----------------------------------------------
    _case(
        "text-plain",
        "POST",
        "/api/ask",
        '{"question": "%s"}' % Q,
        {"content-type": "text/plain"},
        statuses=(400, 415, 422),
    ),
    _case(
        "form-urlencoded",
        "POST",
        "/api/feedback",
        "answer_id=abc&rating=up",
        {"content-type": "application/x-www-form-urlencoded"},
        statuses=(400, 415, 422),
    ),
    _case(
        "multipart-contribution",
        "POST",
        "/api/contributions",
        '--xx\r\nContent-Disposition: form-data; name="title"\r\n\r\nhoi\r\n--xx--\r\n',
        {"content-type": "multipart/form-data; boundary=xx"},
        statuses=(400, 415, 422),
    ),
    _case(
        "no-content-type",
        "POST",
        "/api/intro",
        '{"person_id": "x", "question": "y"}',
        {"x-empty": "1"},
        statuses=(404, 415, 422),
    ),
    _case(
        "invalid-utf8",
        "POST",
        "/api/ask",
        b'{"question": "\xff\xfe opschalen"}',
        statuses=(400, 422),
    ),
    _case(
        "invalid-utf8-contribution",
        "POST",
        "/api/contributions",
        b'{"title": "\xc3\x28"}',
        statuses=(400, 422),
    ),
    _case("not-json", "POST", "/api/ask", "{question: hoi", statuses=(400, 422)),
    _case("json-null", "POST", "/api/ask", "null", statuses=(400, 422)),
    _case("json-array", "POST", "/api/feedback", "[1, 2]", statuses=(400, 422)),
    _case("json-string-contribution", "POST", "/api/contributions", '"hoi"', statuses=(400, 422)),
    _case("garbage-conversation", "POST", "/api/conversations", b"\x15\xa0n-", statuses=(400, 422)),
    _case(
        "garbage-message",
        "POST",
        "/api/conversations/{cid}/messages",
        b"\x15\xa0n-",
        statuses=(400, 422),
    ),
    # -- paths and headers -----------------------------------------------------------------
    _case("document-bad-utf8-path", "GET", "/api/documents/%ED%A0%80", statuses=(404,)),
    _case("conversation-bad-utf8-path", "GET", "/api/conversations/%ED%A0%80", statuses=(404,)),
    _case("conversation-long-id", "GET", "/api/conversations/" + "a" * 5000, statuses=(404, 422)),
    _case(
        "latin1-key",
        "POST",
        "/api/ask",
        '{"question": "%s"}' % Q,
        {**JSON, "x-api-key": "sl\xe9utel".encode("latin-1")},
        statuses=(401,),
    ),
    _case(
        "huge-bearer",
        "POST",
        "/api/feedback",
        '{"answer_id": "abc", "rating": "up"}',
        {**JSON, "authorization": "Bearer " + "k" * 8000},
        statuses=(401,),
    ),
    _case("method-not-allowed", "PUT", "/api/ask", '{"question": "hoi"}', statuses=(405,)),
]
OVERSIZED = [
    pytest.param("POST", path, id=f"oversized-{path.strip('/').replace('/', '-')}")
    for path in POSTS
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from assistant.service import Assistant
    from bots.web import create_app
    from storage import Stores
    from tests.conftest import MINI_CORPUS, build, make_settings

    tmp = tmp_path_factory.mktemp("bad-input")
    settings = make_settings(tmp / "index", embedder="fake", rate_limit_per_minute=0)
    report, embedder, store = build(MINI_CORPUS, settings)
    assert report.exit_code == 0
    app = create_app(
        settings,
        Assistant(settings, embedder=embedder, store=store),
        Stores.from_settings(settings),
    )
    with ServerThread(app) as srv:
        srv.cid = httpx.post(srv.url + "/api/conversations", json={}).json()["conversation_id"]
        yield srv


def assert_clean_error(r: httpx.Response, statuses) -> None:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert "Traceback" not in r.text and 'File "' not in r.text
    # FastAPI's own English phrases never reach a user; every detail is our Dutch line.
    assert "There was an error" not in body["detail"], body
    assert r.headers.get("x-content-type-options") == "nosniff"


@pytest.mark.parametrize(("method", "path", "body", "headers", "statuses"), CASES)
def test_bad_input_gets_a_clean_4xx(server, method, path, body, headers, statuses):
    content = body.encode() if isinstance(body, str) else body
    r = httpx.request(
        method,
        server.url + path.replace("{cid}", server.cid),
        content=content,
        headers=headers,
        timeout=30,
    )
    assert_clean_error(r, statuses)


@pytest.mark.parametrize(("method", "path"), OVERSIZED)
def test_oversized_body_is_413_on_every_post_route(server, method, path):
    big = '{"question": "' + "x" * 70_000 + '"}'
    r = httpx.request(
        method, server.url + path.replace("{cid}", server.cid), content=big, headers=JSON
    )
    assert_clean_error(r, (413,))
    assert r.json()["error"] == "body_too_large"


def test_surrogate_error_names_the_field_and_what_to_do(server):
    body = '{"question": "%s", "history": [{"role": "user", "content": "%s"}]}' % (Q, SUR)
    r = httpx.post(server.url + "/api/ask", content=body, headers=JSON)
    assert r.status_code == 422
    data = r.json()
    assert data["error"] == "invalid_text"
    assert data["fields"][0]["field"] == "history.0.content"
    assert "UTF-8" in data["detail"]
