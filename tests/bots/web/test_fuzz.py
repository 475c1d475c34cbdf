"""Outside tools check the API: schemathesis against a real ``opschaal serve`` (its OpenAPI
schema must be true, and nothing may answer 5xx), and hypothesis throwing arbitrary Unicode,
lone surrogates included, at every text field a client can fill."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MINI_CORPUS, build, make_settings

#: Test cases per operation and phase: about 2,400 test cases (2,379 with seed 15), 2–3 minutes
#: on two busy cores. The plan routes are reached with a real plan: the stateful phase follows
#: the OpenAPI links from POST /api/plans (plan id and owner secret) to every owner operation.
MAX_EXAMPLES = 20
ST = Path(sys.executable).with_name("st")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    corpus = tmp / "corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    settings = make_settings(tmp / "index", embedder="fake", rate_limit_per_minute=0)
    report, embedder, store = build(corpus, settings)
    assert report.exit_code == 0
    return settings, embedder, store, corpus


def test_schemathesis_finds_nothing_against_opschaal_serve(index, tmp_path):
    from bench.load import ServeProcess

    settings, _, _, corpus = index
    if not ST.exists():
        pytest.fail(f"schemathesis ontbreekt naast {sys.executable}; pip install -e '.[dev]'")
    env = {
        **os.environ,
        "OPSCHAAL_INDEX_DIR": str(settings.index_dir),
        "OPSCHAAL_DATA_DIR": str(tmp_path / "data"),
        "OPSCHAAL_CORPUS_DIR": str(corpus),
        "OPSCHAAL_EMBEDDER": "fake",
        "OPSCHAAL_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
    }
    report = tmp_path / "schemathesis.json"
    with ServeProcess(env, workers=1) as server:
        run = subprocess.run(
            [
                str(ST),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "15",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # schemathesis keeps a .schemathesis/ folder where it runs
        )
    result = json.loads(report.read_text(encoding="utf-8"))
    cases = result["test_cases"]
    print(f"schemathesis: {cases['generated']} test cases, {cases['with_failures']} with failures")
    assert result["complete"] and cases["errored"] == 0, run.stdout[-3000:]
    assert cases["generated"] >= 500, cases
    failures = run.stdout.partition("= FAILURES =")[2].partition("= WARNINGS =")[0]
    assert run.returncode == 0 and not result["failures"], failures[:8000] or run.stdout[-4000:]


# -- hypothesis: arbitrary Unicode, surrogates included ---------------------------------------
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ANY_CHAR = st.one_of(st.characters(codec=None, exclude_categories=()), SURROGATES)
# Not st.text(): it drops surrogates from any alphabet; a list of characters keeps them.
TEXT = st.lists(ANY_CHAR, max_size=60).map("".join)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the checkout; every run draws fresh examples
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def has_surrogate(*texts: str) -> bool:
    """Whether the server receives a lone surrogate: a high one followed by a low one arrives as
    one valid character, since JSON writes both as escapes and the decoder pairs them."""
    received = (json.loads(json.dumps(t)) for t in texts)
    return any(0xD800 <= ord(c) <= 0xDFFF for t in received for c in t)


@pytest.fixture(scope="module")
def client(index, tmp_path_factory):
    from fastapi.testclient import TestClient

    from assistant.service import Assistant
    from bots.web import create_app
    from storage import Stores

    settings, embedder, store, _ = index
    settings = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("fuzz-data")})
    app = create_app(
        settings,
        Assistant(settings, embedder=embedder, store=store),
        Stores.from_settings(settings),
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def post(client, path: str, payload: dict):
    # ensure_ascii writes a lone surrogate as the \\ud800 escape a browser or script would send.
    return client.post(
        path, content=json.dumps(payload).encode(), headers={"content-type": "application/json"}
    )


def check(r, bad_text: bool) -> None:
    assert r.status_code < 500, r.text[:300]
    if bad_text:
        assert r.status_code == 422, r.text[:300]
        assert r.json()["error"] == "invalid_text"
    if r.status_code >= 400:
        body = r.json()
        assert isinstance(body["error"], str) and isinstance(body["detail"], str)
    elif "text/event-stream" in r.headers.get("content-type", ""):
        assert "event: error" not in r.text, r.text[-300:]


@PROPERTY
@given(question=TEXT)
def test_any_question(client, question):
    for path in ("/api/ask", "/api/ask/stream"):
        check(post(client, path, {"question": question}), has_surrogate(question))


@PROPERTY
@given(content=TEXT, role=st.sampled_from(["user", "assistant"]))
def test_any_history_turn(client, content, role):
    payload = {
        "question": "Hoe kopen we samen in?",
        "history": [{"role": role, "content": content}],
    }
    check(post(client, "/api/ask", payload), has_surrogate(content))


@PROPERTY
@given(
    field=st.sampled_from(["type", "phases", "obstacles", "organisation", "language"]),
    values=st.lists(TEXT, min_size=1, max_size=3),
)
def test_any_filter(client, field, values):
    payload = {"question": "Hoe kopen we samen in?", "filters": {field: values}}
    check(post(client, "/api/ask", payload), has_surrogate(*values))


@PROPERTY
@given(question=TEXT)
def test_any_follow_up_question(client, question):
    cid = client.post("/api/conversations", json={}).json()["conversation_id"]
    for suffix in ("", "/stream"):
        r = post(client, f"/api/conversations/{cid}/messages{suffix}", {"question": question})
        check(r, has_surrogate(question))


@PROPERTY
@given(
    field=st.sampled_from(["title", "tried", "learned", "organisation", "name", "email"]),
    text=TEXT,
)
def test_any_contribution_field(client, field, text):
    payload = {
        "title": "Samen inkopen met drie gemeenten",
        "tried": "We deden één gezamenlijke aanbesteding voor het meldingensysteem.",
        "obstacles": ["inkoop"],
        "learned": "Leg het beheer vooraf vast en begin met een marktconsultatie.",
        "organisation": "Testgemeente Zuid",
        "contact_ok": False,
        field: text,
    }
    r = post(client, "/api/contributions", payload)
    check(r, has_surrogate(text))
    assert r.status_code in (201, 422), r.text


@PROPERTY
@given(comment=TEXT, person=TEXT)
def test_any_feedback_comment_and_intro(client, comment, person):
    answer = client.post("/api/ask", json={"question": "Wanneer begin ik met de DPIA?"}).json()
    aid = answer["answer_id"]
    r = post(client, "/api/feedback", {"answer_id": aid, "rating": "down", "comment": comment})
    check(r, has_surrogate(comment))
    fb = client.post("/api/feedback", json={"answer_id": aid, "rating": "down"}).json()
    r = post(
        client, f"/api/feedback/{fb['feedback_id']}/comment", {"answer_id": aid, "comment": comment}
    )
    check(r, has_surrogate(comment))
    r = post(client, "/api/intro", {"person_id": person, "question": "Wil je meedenken?"})
    check(r, has_surrogate(person))
