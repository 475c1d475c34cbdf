"""The plan routes over HTTP: intake to plan, owner secret and share links, corrections, tasks,
chat, invitations and exports read back with python-docx and pypdf."""

from __future__ import annotations

import io

import pytest

INTAKE = {
    "innovation": "Meldingen-app openbare ruimte",
    "problem": "Inwoners melden losliggende stoeptegels met foto en locatie.",
    "where": "Draait in drie gemeenten",
    "owner": "Nog geen eigenaar na de pilot",
    "budget": "Alleen pilotgeld",
    "blocker": "Elke gemeente besteedt apart aan en de leverancier kan het niet aan",
    "ambition": "out",
    "language": "nl",
}


@pytest.fixture
def plan(web):
    r = web.client.post("/api/plans", json=INTAKE)
    assert r.status_code == 201, r.text
    body = r.json()
    return web, body["plan_id"], {"X-Plan-Owner": body["owner_secret"]}, body


def test_create_returns_detected_phase_and_obstacles_and_a_secret_only_hashed(plan):
    web, pid, owner, body = plan
    assert body["page"] == f"/plan/{pid}"
    assert body["obstacles"] and all(o["label"] for o in body["obstacles"])
    assert body["phase"] and body["phase_name"]
    assert len(body["owner_secret"]) >= 40
    # The database holds the hash, never the secret itself.
    stored = web.app.state.plans.store.get(pid)
    assert stored["owner"].startswith("web:") and body["owner_secret"] not in str(stored)
    view = web.client.get(f"/api/plans/{pid}", headers=owner)
    assert view.status_code == 200 and view.json()["access"] == "owner"
    assert view.json()["intake"]["innovation"] == INTAKE["innovation"]
    assert view.headers["cache-control"] == "no-store"


def test_someone_elses_plan_and_an_unknown_plan_get_the_same_404(plan):
    web, pid, owner, _ = plan
    other = web.client.post("/api/plans", json={**INTAKE, "innovation": "Iets anders"}).json()
    stranger = {"X-Plan-Owner": other["owner_secret"]}
    answers = [
        web.client.get(f"/api/plans/{pid}", headers=stranger),
        web.client.get(f"/api/plans/{pid}"),
        web.client.get("/api/plans/0000000000000000", headers=owner),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404]
    bodies = [r.json() for r in answers]
    assert {b["error"] for b in bodies} == {"plan_not_found"}
    assert bodies[0]["detail"].replace(pid, "X") == bodies[2]["detail"].replace("0" * 16, "X")
    for path, payload in (
        (f"/api/plans/{pid}/tasks", {"title": "Overnemen"}),
        (f"/api/plans/{pid}/chat", {"text": "wat nu?"}),
        (f"/api/plans/{pid}/shares", None),
    ):
        r = web.client.post(path, json=payload, headers=stranger)
        assert r.status_code == 404 and r.json()["error"] == "plan_not_found", (path, r.text)


def test_a_share_token_reads_but_never_changes_and_can_be_revoked(plan):
    web, pid, owner, _ = plan
    link = web.client.post(f"/api/plans/{pid}/shares", headers=owner).json()
    assert link["page"] == f"/plan/{pid}#deel={link['token']}"
    viewer = {"X-Plan-Token": link["token"]}
    r = web.client.get(f"/api/plans/{pid}", headers=viewer)
    assert r.status_code == 200 and r.json()["access"] == "shared"
    assert (
        web.client.patch(f"/api/plans/{pid}", json={"budget": "x"}, headers=viewer).status_code
        == 404
    )
    assert (
        web.client.post(f"/api/plans/{pid}/tasks", json={"title": "x"}, headers=viewer).status_code
        == 404
    )
    r = web.client.post(
        f"/api/plans/{pid}/shares/revoke", json={"token": link["token"]}, headers=owner
    )
    assert r.json() == {"revoked": True}
    assert web.client.get(f"/api/plans/{pid}", headers=viewer).status_code == 404
    history = [
        e["action"] for e in web.client.get(f"/api/plans/{pid}", headers=owner).json()["history"]
    ]
    assert "shared" in history and "share_revoked" in history


def test_correcting_phase_obstacles_stakeholders_and_business_case(plan):
    web, pid, owner, _ = plan
    choices = web.client.get("/api/plan-intake").json()
    assert 1 <= len(choices["questions"]) <= 8 and choices["questions"][0]["key"] == "innovation"
    assert "persoonsgegevens" in choices["warning"]
    phase = choices["phases"][-1]["key"]
    obstacle = choices["obstacles"][0]["key"]
    r = web.client.patch(
        f"/api/plans/{pid}",
        json={
            "phase": phase,
            "obstacles": [obstacle],
            "stakeholders": [
                {"role": "Controller", "interest": 2, "influence": 5, "stance": "neutraal"}
            ],
            "business_case": [
                {
                    "item": "Licentie",
                    "kind": "jaarlijks",
                    "years": [1, 2, 3, 4, 5],
                    "payer": "Gemeente",
                },
                {
                    "item": "Minder bezwaren",
                    "kind": "baten",
                    "years": [0, 5, 5, 5, 5],
                    "beneficiary": "Provincie",
                },
            ],
        },
        headers=owner,
    )
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["phase"] == phase and v["phase_reasons"] == ["corrected"]
    assert [o["key"] for o in v["obstacles"]] == [obstacle]
    assert v["stakeholders"][0]["role"] == "Controller"
    assert v["business_case"]["split_incentive"] is True
    bad = web.client.patch(f"/api/plans/{pid}", json={"phase": "nergens"}, headers=owner)
    assert bad.status_code == 422 and "nergens" in bad.json()["detail"]
    assert "\n" not in bad.json()["detail"]
    # The schema tells clients which keys exist.
    props = web.client.get("/openapi.json").json()["components"]["schemas"]["PlanEditRequest"][
        "properties"
    ]
    assert phase in props["phase"]["anyOf"][0]["enum"]
    assert obstacle in props["obstacles"]["anyOf"][0]["items"]["enum"]


def test_tasks_tick_add_and_chat(plan):
    web, pid, owner, _ = plan
    tasks = web.client.get(f"/api/plans/{pid}", headers=owner).json()["tasks"]
    first = tasks[0]["id"]
    r = web.client.patch(f"/api/plans/{pid}/tasks/{first}", json={"status": "klaar"}, headers=owner)
    assert r.status_code == 200
    added = web.client.post(
        f"/api/plans/{pid}/tasks",
        json={"title": "Demo voor de directie", "due": "2027-03-01"},
        headers=owner,
    )
    assert added.status_code == 201
    v = web.client.get(f"/api/plans/{pid}", headers=owner).json()
    by_id = {t["id"]: t for t in v["tasks"]}
    assert by_id[first]["status"] == "klaar"
    assert by_id[added.json()["id"]]["due"] == "2027-03-01"
    assert first not in {t["id"] for t in v["next_steps"]}
    missing = web.client.patch(
        f"/api/plans/{pid}/tasks/nope", json={"status": "klaar"}, headers=owner
    )
    assert missing.status_code == 404 and missing.json()["error"] == "task_not_found"
    nxt = web.client.post(f"/api/plans/{pid}/chat", json={"text": "wat nu?"}, headers=owner).json()
    assert nxt["updated"] is None and nxt["next_steps"]
    said = web.client.post(
        f"/api/plans/{pid}/chat",
        json={"text": "we hebben nu een eigenaar in de lijn"},
        headers=owner,
    ).json()
    assert said["updated"] and said["updated"]["status"] == "klaar"


def test_invitation_draft_names_the_innovation_and_is_recorded(plan):
    web, pid, owner, _ = plan
    v = web.client.get(f"/api/plans/{pid}", headers=owner).json()
    people = [p for o in v["obstacles"] for p in o["people"]]
    assert people, "the mini corpus has consenting people for these obstacles"
    r = web.client.post(
        f"/api/plans/{pid}/invitations",
        json={"person_id": people[0]["id"], "question": "Hoe regelden jullie de aanbesteding?"},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert INTAKE["innovation"] in draft["text"]
    invited = web.client.get(f"/api/plans/{pid}", headers=owner).json()["invitations"]
    assert [i["person_id"] for i in invited] == [people[0]["id"]]
    nobody = web.client.post(
        f"/api/plans/{pid}/invitations",
        json={"person_id": "niemand", "question": "Hoi"},
        headers=owner,
    )
    assert nobody.status_code == 404 and nobody.json()["error"] == "person_unavailable"


def test_exports_download_with_type_and_name_and_open_in_their_readers(plan):
    from docx import Document
    from pypdf import PdfReader

    web, pid, owner, _ = plan
    types = {}
    for fmt in ("md", "docx", "pdf"):
        r = web.client.get(f"/api/plans/{pid}/export", params={"format": fmt}, headers=owner)
        assert r.status_code == 200, r.text
        assert f'filename="opschaalplan-{pid}.{fmt}"' in r.headers["content-disposition"]
        types[fmt] = r.headers["content-type"]
        if fmt == "md":
            assert r.text.startswith(f"# Opschaalplan: {INTAKE['innovation']}")
        elif fmt == "docx":
            text = "\n".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs)
            assert INTAKE["innovation"] in text and "Bronnen" in text
        else:
            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
            assert "Implementatieplan" in text
    assert types["docx"].startswith("application/vnd.openxmlformats-officedocument")
    assert types["pdf"] == "application/pdf" and types["md"].startswith("text/markdown")
    png = web.client.get(f"/api/plans/{pid}/grid.png", headers=owner)
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    bad = web.client.get(f"/api/plans/{pid}/export", params={"format": "exe"}, headers=owner)
    assert bad.status_code == 422
    assert web.client.get(f"/api/plans/{pid}/export").status_code == 404


def test_bad_intake_is_one_line_and_a_422(web):
    r = web.client.post("/api/plans", json={**INTAKE, "ambition": "sideways"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "ambition"
    r = web.client.post("/api/plans", json={**INTAKE, "innovation": "  "})
    assert r.status_code == 422 and "\n" not in r.json()["detail"]
    r = web.client.post("/api/plans", json={**INTAKE, "email": "a@example.org"})
    assert r.status_code == 422 and r.json()["fields"][0]["message"] == "is onbekend"


def test_plans_never_reach_the_answer_cache_the_conversation_log_or_the_logs(web, caplog):
    import logging
    import sqlite3

    caplog.set_level(logging.DEBUG)
    body = web.client.post("/api/plans", json=INTAKE).json()
    owner = {"X-Plan-Owner": body["owner_secret"]}
    pid = body["plan_id"]
    web.client.get(f"/api/plans/{pid}", headers=owner)
    web.client.post(f"/api/plans/{pid}/chat", json={"text": "wat nu?"}, headers=owner)
    web.client.get(f"/api/plans/{pid}/export", params={"format": "md"}, headers=owner)
    logged = caplog.text
    for secret in (body["owner_secret"], INTAKE["blocker"], INTAKE["problem"]):
        assert secret not in logged
    assert len(web.app.state.answer_cache._items) == 0
    with sqlite3.connect(web.stores.path) as db:
        assert db.execute("select count(*) from messages").fetchone()[0] == 0


def test_a_wrong_method_names_every_method_of_the_path(web):
    r = web.client.options("/api/plans/abc")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert set(r.headers["allow"].split(", ")) >= {"GET", "PATCH"}


def test_a_new_plan_links_to_its_owner_operations_in_the_openapi_schema(plan):
    """The 201 of POST /api/plans carries OpenAPI links (plan id and owner secret from the
    answer): a client, and schemathesis' stateful phase, can follow them to a real plan."""
    web, pid, owner, body = plan
    schema = web.client.get("/openapi.json").json()
    ops = {
        op["operationId"]: (path, method)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    links = schema["paths"]["/api/plans"]["post"]["responses"]["201"]["links"]
    assert {"GetPlan", "EditPlan", "Export"} <= set(links)
    for name, link in links.items():
        assert link["operationId"] in ops, name
        path, method = ops[link["operationId"]]
        assert path.startswith("/api/plans/{plan_id}")
        params = link["parameters"]
        assert params["path.plan_id"] == "$response.body#/plan_id"
        assert params["header.X-Plan-Owner"] == "$response.body#/owner_secret"
    # Followed by hand, the GetPlan link opens the plan as its owner.
    got = web.client.get(
        f"/api/plans/{body['plan_id']}", headers={"X-Plan-Owner": body["owner_secret"]}
    )
    assert got.status_code == 200 and got.json()["access"] == "owner"


def test_control_characters_in_the_intake_never_break_an_export(web):
    """Found by schemathesis' stateful phase: a \\x17 in an intake answer made the DOCX export a
    500, since XML cannot hold it. Every format now downloads and reads back."""
    from docx import Document
    from pypdf import PdfReader

    r = web.client.post(
        "/api/plans", json={"innovation": "ąà\x01app", "budget": "\x17", "where": "°A%¿\x0bs"}
    )
    assert r.status_code == 201, r.text
    pid, owner = r.json()["plan_id"], {"X-Plan-Owner": r.json()["owner_secret"]}
    for fmt in ("md", "docx", "pdf"):
        got = web.client.get(f"/api/plans/{pid}/export", params={"format": fmt}, headers=owner)
        assert got.status_code == 200, (fmt, got.text[:300])
    doc = Document(
        io.BytesIO(web.client.get(f"/api/plans/{pid}/export?format=docx", headers=owner).content)
    )
    assert "ąàapp" in "\n".join(p.text for p in doc.paragraphs)
    pdf = web.client.get(f"/api/plans/{pid}/export?format=pdf", headers=owner).content
    # (The PDF's base font has no ą: it shows as a box; the control character is gone.)
    assert "àapp" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
