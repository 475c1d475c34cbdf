"""The plan domain on real parts: detection, cited suggestions, tasks, sharing and consent."""

from __future__ import annotations

import json

import pytest
import yaml

from assistant.service import UserError
from plans.service import PlanNotFound
from tests.conftest import build
from tests.plans.conftest import STRAATSEIN


def test_intake_becomes_a_plan_with_detected_obstacles_tasks_and_cited_roles(plan_world):
    svc = plan_world["service"]
    pid = svc.create("web:alice", STRAATSEIN)
    v = svc.view(pid, "web:alice")
    keys = [o["key"] for o in v["obstacles"]]
    assert "leverancier" in keys and "eigenaarschap" in keys
    assert v["phase"] and v["phase_name"]
    roles = {s["key"]: s for s in v["suggested_stakeholders"]}
    assert {"privacy-officer", "procurement", "line-owner", "peers"} <= set(roles)
    numbers = {s["n"] for s in v["sources"]}
    for s in roles.values():
        assert s["sources"] and set(s["sources"]) <= numbers, s
    assert {s["type"] for s in v["sources"]} & {"guide", "lesson"}
    sources = {t["source"] for t in v["tasks"]}
    assert f"fase:{v['phase']}:0" in sources and "rol:privacy-officer" in sources
    assert v["next_steps"] == v["tasks"][:3]
    assert [e["action"] for e in v["history"]][0] == "created"


def test_only_the_owner_or_a_live_share_link_sees_a_plan(plan_world):
    svc = plan_world["service"]
    pid = svc.create("web:alice", STRAATSEIN)
    with pytest.raises(PlanNotFound) as other:
        svc.view(pid, "web:bob")
    with pytest.raises(PlanNotFound) as missing:
        svc.view("0" * 16, "web:bob")
    assert str(other.value).replace(pid, "X") == str(missing.value).replace("0" * 16, "X")
    token = svc.share(pid, "web:alice")
    assert svc.view(pid, token=token)["id"] == pid
    with pytest.raises(PlanNotFound):
        svc.edit(pid, "web:bob", {"budget": "x"})
    assert svc.revoke(pid, "web:alice", token)
    with pytest.raises(PlanNotFound):
        svc.view(pid, token=token)


def test_chat_ticks_off_the_matching_task_and_what_next_lists_open_steps(plan_world):
    svc = plan_world["service"]
    pid = svc.create("web:alice", STRAATSEIN)
    before = svc.chat(pid, "web:alice", "wat nu?")
    assert before["updated"] is None and len(before["next_steps"]) == 3
    said = svc.chat(pid, "web:alice", "we hebben nu een eigenaar in de lijn")
    assert said["updated"]["source"] == "rol:line-owner"
    assert said["updated"]["status"] == "klaar"
    assert "rol:line-owner" not in {t["source"] for t in said["next_steps"]}
    assert svc.chat(pid, "web:alice", "we hebben nog geen eigenaar")["updated"] is None
    tid = svc.add_task(
        pid, "web:alice", "Demo voor de directie", owner="teamleider", due="2027-03-01"
    )
    svc.set_task(pid, "web:alice", tid, status="bezig")
    mine = next(t for t in svc.view(pid, "web:alice")["tasks"] if t["id"] == tid)
    assert (mine["status"], mine["owner"], mine["source"]) == ("bezig", "teamleider", "eigen")
    with pytest.raises(UserError, match="status moet"):
        svc.set_task(pid, "web:alice", tid, status="half")


def test_split_incentive_is_flagged_with_cited_lessons(plan_world):
    svc = plan_world["service"]
    pid = svc.create("web:alice", STRAATSEIN)
    assert svc.view(pid, "web:alice")["business_case"]["split_incentive"] is False
    rows = [
        {
            "item": "Implementatie",
            "kind": "eenmalig",
            "years": [50000, 0, 0, 0, 0],
            "payer": "Gemeente",
        },
        {
            "item": "Licenties",
            "kind": "jaarlijks",
            "years": [0, 12000, 12000, 12000, 12000],
            "payer": "Gemeente",
        },
        {
            "item": "Minder schade",
            "kind": "baten",
            "years": [0, 20000, 30000, 30000, 30000],
            "beneficiary": "Waterschap",
        },
    ]
    svc.edit(
        pid,
        "web:alice",
        {
            "business_case": rows,
            "stakeholders": [
                {"role": "Inkoopadviseur", "interest": 3, "influence": 4, "stance": "voor"}
            ],
        },
    )
    v = svc.view(pid, "web:alice")
    case = v["business_case"]
    assert case["split_incentive"] and case["split_text"] and case["split_sources"]
    assert case["net"] == [-50000, 8000, 18000, 18000, 18000]
    assert case["reference_cases"]
    # A role the user listed is no longer suggested.
    assert "procurement" not in {s["key"] for s in v["suggested_stakeholders"]}
    assert [e["action"] for e in v["history"]][-1] == "edited"


def test_bad_intake_and_edits_get_one_clear_line(plan_world):
    svc = plan_world["service"]
    with pytest.raises(UserError, match="ambition") as e:
        svc.create("web:alice", {**STRAATSEIN, "ambition": "sideways"})
    assert "\n" not in str(e.value)
    with pytest.raises(UserError, match="veld 'colour'"):
        svc.create("web:alice", {**STRAATSEIN, "colour": "red"})
    pid = svc.create("web:alice", STRAATSEIN)
    with pytest.raises(UserError, match="fase 'later'"):
        svc.edit(pid, "web:alice", {"phase": "later"})
    svc.edit(pid, "web:alice", {"phase": "opschalen", "obstacles": ["financiering"]})
    v = svc.view(pid, "web:alice")
    assert v["phase"] == "opschalen" and v["phase_reasons"] == ["corrected"]
    assert [o["key"] for o in v["obstacles"]] == ["financiering"]


def _hidden_people(corpus) -> list[dict]:
    return [p for p in yaml.safe_load((corpus / "people.yaml").read_text()) if not p["consent"]]


def test_consent_withdrawn_removes_a_person_from_every_plan_view(plan_world, tmp_path):
    svc, corpus = plan_world["service"], plan_world["corpus"]
    hidden = _hidden_people(corpus)
    assert hidden, "the bundled corpus has people without consent"
    pid = svc.create("web:alice", STRAATSEIN)
    v = svc.view(pid, "web:alice")
    text = json.dumps(v, ensure_ascii=False)
    for p in hidden:
        assert p["name"] not in text and p["id"] not in text
    shown = [c for o in v["obstacles"] for c in o["people"]]
    assert shown, "consenting people who faced the obstacles are offered"
    person = shown[0]
    draft = svc.invite(pid, "web:alice", person["id"], "Hoe regelden jullie de inkoop?")
    assert "Straatsein" in draft["text"] and "inkoop" in draft["text"]
    assert draft["channel"] in {"slack", "teams", "mailto"}
    assert [i["person_id"] for i in svc.view(pid, "web:alice")["invitations"]] == [person["id"]]
    with pytest.raises(UserError):
        svc.invite(pid, "web:alice", hidden[0]["id"], "Mag ik je iets vragen?")

    # The person withdraws consent: the next ingest drops them from the directory.
    people = yaml.safe_load((corpus / "people.yaml").read_text())
    for p in people:
        if p["id"] == person["id"]:
            p["consent"] = False
    (corpus / "people.yaml").write_text(yaml.safe_dump(people, allow_unicode=True))
    try:
        report, _, _ = build(corpus, plan_world["settings"])
        assert report.exit_code == 0
        after = json.dumps(svc.view(pid, "web:alice"), ensure_ascii=False)
        assert person["name"] not in after and person["id"] not in after
        assert svc.export_owner("web:alice"), "the plan itself stays"
    finally:
        for p in people:
            if p["id"] == person["id"]:
                p["consent"] = True
        (corpus / "people.yaml").write_text(yaml.safe_dump(people, allow_unicode=True))
        build(corpus, plan_world["settings"])
