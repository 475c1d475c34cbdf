"""The scaling plan in Teams, end to end: Bot Framework activities (text and Adaptive Card
submits) posted to /api/messages of two instances of the real web app sharing one database, the
real Agents SDK, and the loopback connector that records the replies and answers the member
lookup that gives the user's UPN."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from tests.plans.conftest import STRAATSEIN

from .conftest import USER_UPN, message
from .test_bot import card_of, submits, texts

OWNER = f"teams:{USER_UPN}"
CONV = "a:plan-chat"
STEPS = ["innovation", "problem", "where", "owner", "budget", "blocker", "ambition"]


@pytest.fixture
def plan_apps(plan_corpus, tmp_path, no_sdk_env):
    """Two instances of the service on one database: a card answered on one, the next on the
    other, proves nothing of the intake lives in process memory."""
    from assistant.service import Assistant
    from bots.teams.settings import TeamsSettings
    from bots.web.app import create_app
    from plans.service import PlanService
    from storage import PlanStore, Stores

    _, settings, embedder, store = plan_corpus
    settings = settings.model_copy(update={"data_dir": tmp_path / "data", "host": "127.0.0.1"})
    clients = []
    for _ in range(2):
        assistant = Assistant(settings, embedder=embedder, store=store)
        app = create_app(
            settings,
            assistant,
            Stores.from_settings(settings),
            channels={"teams": TeamsSettings(dev=True, _env_file=None)},
        )
        clients.append(TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50123)))
    for c in clients:
        c.__enter__()
    try:
        plans = PlanService(assistant, PlanStore(Stores.from_settings(settings)))
        yield clients, plans
    finally:
        for c in clients:
            c.__exit__(None, None, None)


def send(client, connector, text=None, value=None, **kw) -> list[dict]:
    """Post one activity; the messages the bot sent for it."""
    before = len(connector.messages())
    r = client.post(
        "/api/messages",
        json=message(
            connector.url, text, conversation=kw.pop("conversation", CONV), value=value, **kw
        ),
    )
    assert r.status_code == 202, r.text
    return connector.messages()[before:]


def intake(clients, connector, answers: dict) -> dict:
    """'plan', then each question card answered, alternating between the two instances; the
    last card sent (the summary)."""
    card = card_of(send(clients[0], connector, "plan")[-1])
    for i, key in enumerate(STEPS):
        data = submits(card, "plan_intake")[0]
        assert data["step"] == i
        out = send(clients[(i + 1) % 2], connector, value={**data, "answer": answers.get(key, "")})
        card = card_of(out[-1])
    return card


def test_the_card_sequence_from_plan_to_invitation(plan_apps, connector):
    clients, plans = plan_apps
    first = card_of(send(clients[0], connector, "plan")[-1])
    inputs = [b for b in first["body"] if b["type"].startswith("Input.")]
    assert [(b["type"], b["id"]) for b in inputs] == [("Input.Text", "answer")]
    assert inputs[0]["label"].startswith("Hoe heet de innovatie")
    assert "persoonsgegevens van anderen" in texts(first)
    connector.clear()

    summary = intake(clients, connector, STRAATSEIN)
    mine = plans.plans_of(OWNER)
    assert [p["innovation"] for p in mine] == [STRAATSEIN["innovation"]]
    pid = mine[0]["id"]
    view = plans.view(pid, OWNER)
    assert view["intake"]["blocker"] == STRAATSEIN["blocker"]
    # every question card carried the answers so far, so the plan got all of them
    assert view["intake"] == {**STRAATSEIN}
    facts = {
        f["title"]: f["value"]
        for b in summary["body"]
        if b["type"] == "FactSet"
        for f in b["facts"]
    }
    assert facts["Fase"].startswith(view["phase_name"])
    assert all(o["label"] in facts["Obstakels"] for o in view["obstacles"])
    phase_set = next(b for b in summary["body"] if b.get("id") == "phase")
    assert phase_set["value"] == view["phase"]

    # correct the phase
    other = next(c["value"] for c in phase_set["choices"] if c["value"] != view["phase"])
    fix = submits(summary, "plan_correct")[0]
    obstacles = next(b for b in summary["body"] if b.get("id") == "obstacles")["value"]
    card = card_of(
        send(clients[1], connector, value={**fix, "phase": other, "obstacles": obstacles})[-1]
    )
    view = plans.view(pid, OWNER)
    assert view["phase"] == other and view["phase_reasons"] == ["corrected"]
    assert [o["key"] for o in view["obstacles"]] == obstacles.split(",")

    # the plan card: next tasks with tick buttons
    ticks = submits(card, "plan_tick")
    assert [d["task_id"] for d in ticks] == [t["id"] for t in view["next_steps"]]
    card = card_of(send(clients[0], connector, value=ticks[0])[-1])
    status = {t["id"]: t["status"] for t in plans.view(pid, OWNER)["tasks"]}
    assert status[ticks[0]["task_id"]] == "klaar"
    assert ticks[0]["task_id"] not in [d["task_id"] for d in submits(card, "plan_tick")]

    # wat nu?
    steps = send(clients[1], connector, value=submits(card, "plan_next")[0])[-1]["text"]
    assert plans.chat(pid, OWNER, "wat nu?")["next_steps"][0]["title"] in steps

    # invite someone with a Teams id: a chat link with the text ready; the user sends it
    invite = next(
        d
        for d in submits(card, "plan_invite")
        if (plans.assistant.person_contact(d["person_id"]) or {}).get("teams")
    )
    upn = plans.assistant.person_contact(invite["person_id"])["teams"]
    question = "Hoe kregen jullie de leverancier zover dat vier gemeenten samen konden inkopen?"
    reply = card_of(send(clients[0], connector, value={**invite, "question": question})[-1])
    body = texts(reply)
    assert "Straatsein" in body and "leverancier" in body
    link = reply["actions"][0]
    assert link["type"] == "Action.OpenUrl"
    assert link["url"].startswith("https://teams.microsoft.com/l/chat/0/0?users=" + upn)
    assert [i["person_id"] for i in plans.view(pid, OWNER)["invitations"]] == [invite["person_id"]]
    # the user's UPN came from the connector's member lookup, each time from the activity's sender
    assert set(connector.lookups) == {"29:user-aad-1"}


def test_chat_lines_and_the_plan_list(plan_apps, connector):
    clients, plans = plan_apps
    assert "nog geen opschaalplan" in texts(
        card_of(send(clients[0], connector, "mijn plannen")[-1])
    )
    intake(clients, connector, STRAATSEIN)
    pid = plans.plans_of(OWNER)[0]["id"]
    said = send(clients[1], connector, "plan: we hebben nu een eigenaar in de lijn")[-1]["text"]
    assert said.startswith("Afgevinkt")
    ticked = [t["source"] for t in plans.view(pid, OWNER)["tasks"] if t["status"] == "klaar"]
    assert ticked == ["rol:line-owner"]
    listed = card_of(send(clients[0], connector, "mijn plannen")[-1])
    assert STRAATSEIN["innovation"] in texts(listed)


def test_ticking_a_task_updates_the_plan_card_in_place(plan_apps, connector):
    """Teams names the card a submit came from (replyToId): the tick replaces that card (PUT)
    instead of adding a new plan card per tick."""
    clients, plans = plan_apps
    intake(clients, connector, STRAATSEIN)
    pid = plans.plans_of(OWNER)[0]["id"]
    send(clients[0], connector, "mijn plannen")
    shown = [c for c in connector.calls if c["activity"].get("type") == "message"][-1]
    card = card_of(shown["activity"])
    for n in (1, 2):
        tick = submits(card, "plan_tick")[0]
        title = next(
            t["title"] for t in plans.view(pid, OWNER)["tasks"] if t["id"] == tick["task_id"]
        )
        before = len(connector.calls)
        send(clients[n % 2], connector, value=tick, reply_to=shown["id"])
        calls = [c for c in connector.calls[before:] if c["activity"].get("type") == "message"]
        assert [(c["method"], c["reply_to"]) for c in calls] == [("PUT", shown["id"])], calls
        card = card_of(calls[0]["activity"])
        assert f"Afgevinkt: {title}" in texts(card)
        assert tick["task_id"] not in [d["task_id"] for d in submits(card, "plan_tick")]
        status = {t["id"]: t["status"] for t in plans.view(pid, OWNER)["tasks"]}
        assert status[tick["task_id"]] == "klaar"


def test_the_last_card_submitted_twice_makes_one_plan(plan_apps, connector):
    clients, plans = plan_apps
    card = card_of(send(clients[0], connector, "plan")[-1])
    for i, key in enumerate(STEPS[:-1]):
        data = submits(card, "plan_intake")[0]
        card = card_of(
            send(clients[i % 2], connector, value={**data, "answer": STRAATSEIN[key]})[-1]
        )
    last = {**submits(card, "plan_intake")[0], "answer": "out"}
    send(clients[0], connector, value=last)
    again = card_of(send(clients[1], connector, value=last)[-1])
    assert len(plans.plans_of(OWNER)) == 1
    assert "al gemaakt" in texts(again)


# -- bad input ------------------------------------------------------------------------------------
def test_an_empty_innovation_asks_again(plan_apps, connector):
    clients, plans = plan_apps
    card = card_of(send(clients[0], connector, "plan")[-1])
    again = card_of(
        send(clients[1], connector, value={**submits(card, "plan_intake")[0], "answer": " "})[-1]
    )
    assert submits(again, "plan_intake")[0]["step"] == 0
    assert any(b.get("color") == "Attention" and "innovation" in b["text"] for b in again["body"])
    assert plans.plans_of(OWNER) == []


@pytest.mark.parametrize(
    "value",
    [
        {"opschaal": "plan_intake", "step": "one", "answers": {}, "nonce": "n", "answer": "x"},
        {"opschaal": "plan_intake", "step": 0, "answers": [1], "nonce": "n", "answer": "x"},
        {"opschaal": "plan_intake", "step": 9, "answers": {}, "nonce": "n", "answer": "x"},
        {"opschaal": "plan_intake", "step": 1, "answers": {"colour": "red"}, "nonce": "n"},
        {"opschaal": "plan_intake", "step": 1, "answers": {}, "nonce": "n", "answer": {"a": 1}},
        {"opschaal": "plan_tick", "plan_id": 12, "task_id": "t"},
        {"opschaal": "plan_tick", "plan_id": "0" * 16, "task_id": "t"},
        {"opschaal": "plan_invite", "plan_id": "0" * 16, "person_id": "x", "question": "q"},
    ],
)
def test_bad_submits_get_one_clear_line_never_a_500(plan_apps, connector, value):
    clients, plans = plan_apps
    out = send(clients[0], connector, value=value)
    assert len(out) == 1 and "\n" not in out[0]["text"]
    assert "bij een plan van jou" in out[0]["text"] or "niet met je gedeeld" in out[0]["text"]
    assert plans.plans_of(OWNER) == []


def test_someone_elses_plan_is_not_reachable(plan_apps, connector):
    clients, plans = plan_apps
    other = plans.create("teams:iemand-anders@example.org", STRAATSEIN)
    task = plans.view(other, "teams:iemand-anders@example.org")["tasks"][0]["id"]
    for value in (
        {"opschaal": "plan_tick", "plan_id": other, "task_id": task},
        {"opschaal": "plan_show", "plan_id": other},
    ):
        out = send(clients[0], connector, value=value)
        assert "niet met je gedeeld" in out[-1]["text"]
    assert plans.view(other, "teams:iemand-anders@example.org")["tasks"][0]["status"] == "open"


def test_plans_stay_out_of_channels_and_need_the_users_account(plan_apps, connector):
    clients, plans = plan_apps
    out = send(
        clients[0],
        connector,
        "plan",
        conversation="19:team@thread.tacv2",
        personal=False,
        mention=True,
    )
    assert "persoonlijke chat" in out[-1]["text"]
    connector.members.clear()  # the connector no longer knows the sender
    card = card_of(send(clients[0], connector, "plan")[-1])
    for i, key in enumerate(STEPS):
        data = submits(card, "plan_intake")[0]
        out = send(clients[0], connector, value={**data, "answer": STRAATSEIN[key]})
        if i < len(STEPS) - 1:
            card = card_of(out[-1])
    assert "Teams-account" in out[-1]["text"]
    assert plans.plans_of(OWNER) == []


# -- privacy --------------------------------------------------------------------------------------
def test_no_consent_people_never_appear_and_plans_stay_out_of_logs(
    plan_apps, connector, plan_corpus, caplog
):
    import yaml

    clients, plans = plan_apps
    corpus = plan_corpus[0]
    hidden = [p for p in yaml.safe_load((corpus / "people.yaml").read_text()) if not p["consent"]]
    assert hidden
    with caplog.at_level(logging.DEBUG):
        summary = intake(clients, connector, STRAATSEIN)
        card = card_of(send(clients[0], connector, value=submits(summary, "plan_show")[0])[-1])
    assert submits(card, "plan_invite"), "consenting people who faced the obstacles are offered"
    everything = json.dumps(connector.activities(), ensure_ascii=False)
    for p in hidden:
        assert p["name"] not in everything and p["id"] not in everything
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in (STRAATSEIN["innovation"], STRAATSEIN["blocker"], STRAATSEIN["problem"]):
        assert text not in logged
    stores = clients[0].app.state.stores
    assert stores.answers_per_day() == [], "a plan is not an answer"
