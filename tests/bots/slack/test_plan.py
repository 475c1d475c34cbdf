"""The scaling plan in Slack, end to end: signed slash command, modal submits and button clicks
into the real Bolt app; its Web API calls (views.open/update/publish, conversations.open,
chat.postMessage, the files upload) land on the loopback stub. The assistant runs over a copy of
the bundled corpus (hashing embedder, real Chroma), whose people have Slack ids."""

from __future__ import annotations

import json
import logging
import time
from io import BytesIO
from urllib.parse import urlencode

import pytest
import yaml

from bots.slack import planblocks as pb
from tests.conftest import build
from tests.plans.conftest import STRAATSEIN

from .conftest import (
    BOT_TOKEN,
    NO_CONSENT,
    SIGNING_SECRET,
    TEAM,
    USER,
    all_text,
    command_body,
    event_body,
    post,
)
from .test_blocks import assert_valid_blocks

FORM = "application/x-www-form-urlencoded"
OWNER = f"slack:{USER}"


@pytest.fixture
def plan_stack(plan_corpus, stub_slack, tmp_path):
    from fastapi.testclient import TestClient

    from assistant.service import Assistant
    from plans.service import PlanService
    from storage import PlanStore, Stores

    from .conftest import make_service, slack_config_for

    _, settings, embedder, store = plan_corpus
    settings = settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "public_url": "https://opschaal.example.nl",
        }
    )
    assistant = Assistant(settings, embedder=embedder, store=store)
    stores = Stores.from_settings(settings)
    with TestClient(
        make_service(assistant, stores, settings, slack_config_for(stub_slack))
    ) as client:
        yield client, PlanService(assistant, PlanStore(stores)), stores, stub_slack


# -- Slack payloads --------------------------------------------------------------------------
def _payload(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _user() -> dict:
    return {"id": USER, "username": "tessa", "name": "tessa", "team_id": TEAM}


def submission(callback_id: str, values: dict, view_id: str = "V2", metadata: str = "") -> str:
    """A view_submission as Slack sends it: every input's state under its block id."""
    state = {}
    for block, value in values.items():
        if block in ("ambition", "language"):
            el = {"type": "static_select", "selected_option": {"value": value}}
        else:
            el = {"type": "plain_text_input", "value": value}
        state[block] = {"v": el}
    return _payload(
        {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "test"},
            "user": _user(),
            "api_app_id": "A0OPSCHAAL",
            "token": "legacy-verification-token",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "view": {
                "id": view_id,
                "type": "modal",
                "callback_id": callback_id,
                "state": {"values": state},
                "hash": "156772938.1827394",
                "private_metadata": metadata,
            },
        }
    )


def home_click(button: dict) -> str:
    """A block_actions from a button on the App Home (no channel, no response_url)."""
    return _payload(
        {
            "type": "block_actions",
            "user": _user(),
            "api_app_id": "A0OPSCHAAL",
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": "V1"},
            "trigger_id": "13345224609.738474920.8088930838d88f008e1",
            "team": {"id": TEAM, "domain": "test"},
            "view": {"id": "V1", "type": "home", "blocks": []},
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b1",
                    "value": button["value"],
                    "action_ts": "1700000300.000001",
                }
            ],
        }
    )


def buttons(blocks: list[dict], action_id: str) -> list[dict]:
    found = []
    for b in blocks:
        for el in [b.get("accessory") or {}] + list(b.get("elements") or []):
            if el.get("action_id") == action_id:
                found.append(el)
    return found


def dms_to(stub, user: str) -> list[dict]:
    return [m for m in stub.of("chat.postMessage") if m["channel"] == "D" + user[1:]]


def make_plan(client, stub) -> dict:
    """/opschaal plan → modal → submit; returns the App Home published after it."""
    resp = post(client, command_body("plan", stub.url + "/response/plan"), FORM)
    assert resp.status_code == 200
    stub.wait_for("views.open")
    resp = post(client, submission(pb.INTAKE, STRAATSEIN), FORM)
    assert resp.status_code == 200 and resp.json() == {"response_action": "clear"}
    return stub.wait_for("views.publish")[-1]


# -- the whole path ------------------------------------------------------------------------------
def test_intake_modal_has_the_questions_the_privacy_note_and_at_most_eight_fields(plan_stack):
    client, _, _, stub = plan_stack
    resp = post(client, command_body("plan", stub.url + "/response/plan"), FORM)
    assert resp.status_code == 200
    view = stub.wait_for("views.open")[0]["view"]
    assert view["type"] == "modal" and view["callback_id"] == pb.INTAKE
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) <= 8
    assert [b["block_id"] for b in inputs] == [
        "innovation",
        "problem",
        "where",
        "owner",
        "budget",
        "blocker",
        "ambition",
        "language",
    ]
    assert inputs[0]["label"]["text"].startswith("Hoe heet de innovatie")
    assert "persoonsgegevens van anderen" in all_text(view["blocks"][0])
    assert_valid_blocks(view["blocks"])
    assert stub.of("chat.postMessage") == []


def test_submit_stores_the_plan_tells_what_was_detected_and_publishes_the_home(plan_stack):
    client, plans, stores, stub = plan_stack
    home = make_plan(client, stub)

    mine = plans.plans_of(OWNER)
    assert [p["innovation"] for p in mine] == [STRAATSEIN["innovation"]]
    plan = plans.view(mine[0]["id"], OWNER)

    # The DM says what was detected, with menus to correct it.
    dm = dms_to(stub, USER)[0]
    assert_valid_blocks(dm["blocks"])
    text = all_text(dm["blocks"])
    assert plan["phase_name"] in text
    assert all(o["label"] in text for o in plan["obstacles"]) and plan["obstacles"]
    phase_menu = next(b["accessory"] for b in dm["blocks"] if b.get("block_id") == "fix_phase")
    assert json.loads(phase_menu["initial_option"]["value"]) == {
        "p": plan["id"],
        "f": plan["phase"],
    }

    # The App Home shows the plan with its next open tasks, tick and invite buttons.
    assert home["user_id"] == USER
    blocks = home["view"]["blocks"]
    assert_valid_blocks(blocks, max_blocks=100)
    assert STRAATSEIN["innovation"] in all_text(blocks)
    ticks = buttons(blocks, pb.ACTION_TICK)
    assert [json.loads(b["value"])["t"] for b in ticks] == [t["id"] for t in plan["next_steps"]]
    for task in plan["next_steps"]:
        assert task["title"] in all_text(blocks)
    assert buttons(blocks, pb.ACTION_INVITE), "people who faced the obstacles can be invited"
    assert buttons(blocks, pb.ACTION_NEXT) and buttons(blocks, pb.ACTION_EXPORT)
    # the step plan is still on the tab, under the plans
    assert "Het stappenplan" in all_text(blocks)
    for name in NO_CONSENT:
        assert name not in all_text([c["params"] for c in stub.calls])


def test_tick_a_task_then_what_next_then_invite_by_dm(plan_stack):
    client, plans, _, stub = plan_stack
    home = make_plan(client, stub)
    pid = plans.plans_of(OWNER)[0]["id"]
    first = buttons(home["view"]["blocks"], pb.ACTION_TICK)[0]
    task_id = json.loads(first["value"])["t"]

    # tick
    assert post(client, home_click(first), FORM).status_code == 200
    republished = stub.wait_for("views.publish", 2)[-1]
    done = {t["id"]: t["status"] for t in plans.view(pid, OWNER)["tasks"]}
    assert done[task_id] == "klaar"
    ids = [
        json.loads(b["value"])["t"] for b in buttons(republished["view"]["blocks"], pb.ACTION_TICK)
    ]
    assert task_id not in ids and ids

    # wat nu?
    before = len(dms_to(stub, USER))
    post(client, home_click(buttons(republished["view"]["blocks"], pb.ACTION_NEXT)[0]), FORM)
    deadline = time.monotonic() + 20
    while len(dms_to(stub, USER)) <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    steps = dms_to(stub, USER)[-1]["text"]
    assert "Volgende stappen" in steps
    assert plans.chat(pid, OWNER, "wat nu?")["next_steps"][0]["title"] in steps

    # invite someone with a Slack id
    invite = next(
        b
        for b in buttons(republished["view"]["blocks"], pb.ACTION_INVITE)
        if (plans.assistant.person_contact(json.loads(b["value"])["u"]) or {}).get("slack")
    )
    person = json.loads(invite["value"])["u"]
    slack_id = plans.assistant.person_contact(person)["slack"]
    post(client, home_click(invite), FORM)
    modal = stub.wait_for("views.open")[-1]["view"]
    assert modal["callback_id"] == pb.INVITE
    assert json.loads(modal["private_metadata"]) == {"p": pid, "u": person}
    question = "Hoe kregen jullie de leverancier zover dat vier gemeenten samen konden inkopen?"
    resp = post(
        client,
        submission(
            pb.INVITE, {"question": question}, view_id="V7", metadata=modal["private_metadata"]
        ),
        FORM,
    )
    assert resp.json()["response_action"] == "update"  # "drafting…" at once, within the ack
    draft = stub.wait_for("views.update")[-1]
    assert draft["view_id"] == "V7" and draft["view"]["callback_id"] == pb.INVITE_SEND
    text = next(b for b in draft["view"]["blocks"] if b.get("block_id") == "text")["element"][
        "initial_value"
    ]
    assert "Straatsein" in text and "leverancier" in text
    # Drafting records the invitation on the plan.
    assert [i["person_id"] for i in plans.view(pid, OWNER)["invitations"]] == [person]
    assert not [m for m in stub.of("chat.postMessage") if m["channel"] == "D" + slack_id[1:]]

    # The user confirms (and may have edited the text): the person gets it as a DM.
    edited = text + "\n\nGroet, Tessa"
    resp = post(
        client,
        submission(
            pb.INVITE_SEND,
            {"text": edited},
            view_id="V7",
            metadata=draft["view"]["private_metadata"],
        ),
        FORM,
    )
    assert resp.json() == {"response_action": "clear"}
    deadline = time.monotonic() + 20
    while not dms_to(stub, slack_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = dms_to(stub, slack_id)
    assert len(sent) == 1 and "Groet, Tessa" in sent[0]["text"]
    assert f"<@{USER}>" in all_text(sent[0]["blocks"])
    assert slack_id in [o["users"] for o in stub.of("conversations.open")]
    for name in NO_CONSENT:
        assert name not in all_text([c["params"] for c in stub.calls])


def test_export_uploads_a_docx_through_the_files_upload_protocol(plan_stack):
    from docx import Document

    client, plans, _, stub = plan_stack
    home = make_plan(client, stub)
    post(client, home_click(buttons(home["view"]["blocks"], pb.ACTION_EXPORT)[0]), FORM)
    done = stub.wait_for("files.completeUploadExternal")[0]
    asked = stub.of("files.getUploadURLExternal")[0]
    file_id = stub.replies("files.getUploadURLExternal")[0]["file_id"]
    assert done["channel_id"] == "D" + USER[1:]
    assert [f["id"] for f in done["files"]] == [file_id]
    assert int(asked["length"]) == len(stub.uploads[file_id]) > 1000
    doc = Document(BytesIO(stub.uploads[file_id]))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert STRAATSEIN["innovation"] in text
    # The upload URL is not the Web API: the token never goes there.
    assert [c["auth"] for c in stub.calls if c["method"] == "upload"] == [None]


def test_chat_line_through_the_command_ticks_the_matching_task(plan_stack):
    client, plans, _, stub = plan_stack
    make_plan(client, stub)
    pid = plans.plans_of(OWNER)[0]["id"]
    post(
        client,
        command_body("plan we hebben nu een eigenaar in de lijn", stub.url + "/response/say"),
        FORM,
    )
    said = stub.wait_for("/response/say")[0]
    assert said["response_type"] == "ephemeral" and "Afgevinkt" in said["text"]
    ticked = [t for t in plans.view(pid, OWNER)["tasks"] if t["status"] == "klaar"]
    assert [t["source"] for t in ticked] == ["rol:line-owner"]


def test_phase_correction_from_the_dm_menu(plan_stack):
    client, plans, _, stub = plan_stack
    make_plan(client, stub)
    pid = plans.plans_of(OWNER)[0]["id"]
    dm = dms_to(stub, USER)[0]
    menu = next(b["accessory"] for b in dm["blocks"] if b.get("block_id") == "fix_phase")
    other = next(
        o for o in menu["options"] if json.loads(o["value"])["f"] != plans.view(pid, OWNER)["phase"]
    )
    payload = {
        "type": "block_actions",
        "user": _user(),
        "api_app_id": "A0OPSCHAAL",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000100.000001",
            "channel_id": dm["channel"],
        },
        "channel": {"id": dm["channel"], "name": "directmessage"},
        "message": {"type": "message", "ts": "1700000100.000001", "text": "…"},
        "response_url": stub.url + "/response/phase",
        "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "test"},
        "actions": [
            {
                "type": "static_select",
                "action_id": pb.ACTION_PHASE,
                "block_id": "fix_phase",
                "selected_option": other,
                "action_ts": "1700000300.000002",
            }
        ],
    }
    assert post(client, _payload(payload), FORM).status_code == 200
    said = stub.wait_for("/response/phase")[0]
    v = plans.view(pid, OWNER)
    assert v["phase"] == json.loads(other["value"])["f"] and v["phase_reasons"] == ["corrected"]
    assert v["phase_name"] in said["text"]


# -- bad input ------------------------------------------------------------------------------------
def test_an_empty_innovation_is_a_field_error_not_a_plan(plan_stack):
    client, plans, _, _ = plan_stack
    resp = post(client, submission(pb.INTAKE, {**STRAATSEIN, "innovation": ""}), FORM)
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_action"] == "errors" and "innovation" in body["errors"]
    assert plans.plans_of(OWNER) == []


def test_forged_and_foreign_buttons_get_a_clear_message_never_a_500(plan_stack):
    client, plans, _, stub = plan_stack
    other = plans.create("slack:U0SOMEONE", STRAATSEIN)
    task = plans.view(other, "slack:U0SOMEONE")["tasks"][0]["id"]
    clicks = [
        {"action_id": pb.ACTION_TICK, "value": "not json"},
        {"action_id": pb.ACTION_TICK, "value": pb.ref(p=other, t=task)},
        {"action_id": pb.ACTION_NEXT, "value": json.dumps([1, 2])},
        {"action_id": pb.ACTION_EXPORT, "value": pb.ref(p=other)},
        {"action_id": pb.ACTION_INVITE, "value": pb.ref(p=other, u="x", o="inkoop")},
    ]
    for n, click in enumerate(clicks, start=1):
        assert post(client, home_click(click), FORM).status_code == 200
        deadline = time.monotonic() + 20
        while len(dms_to(stub, USER)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    notes = [m["text"] for m in dms_to(stub, USER)]
    assert len(notes) == len(clicks)
    assert all(n.startswith(":warning:") and "\n" not in n for n in notes)
    assert sum("niet met je gedeeld" in n for n in notes) == 3
    assert plans.view(other, "slack:U0SOMEONE")["tasks"][0]["status"] == "open"
    assert stub.of("files.getUploadURLExternal") == [] and stub.of("views.open") == []
    # A forged send for a plan that is not yours sends nothing.
    resp = post(
        client,
        submission(pb.INVITE_SEND, {"text": "hallo"}, metadata=pb.ref(p=other, u="x")),
        FORM,
    )
    assert resp.status_code == 200
    deadline = time.monotonic() + 20
    while len(dms_to(stub, USER)) <= len(clicks) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [o["users"] for o in stub.of("conversations.open")] == [USER] * (len(clicks) + 1)


# -- privacy --------------------------------------------------------------------------------------
def test_plans_stay_out_of_answers_and_logs_and_the_token_is_never_logged(plan_stack, caplog):
    client, plans, stores, stub = plan_stack
    with caplog.at_level(logging.DEBUG):
        home = make_plan(client, stub)
        post(client, home_click(buttons(home["view"]["blocks"], pb.ACTION_TICK)[0]), FORM)
        stub.wait_for("views.publish", 2)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (BOT_TOKEN, SIGNING_SECRET, STRAATSEIN["innovation"], STRAATSEIN["blocker"]):
        assert secret not in logged
    assert stores.answers_per_day() == [], "a plan is not an answer"


def test_a_withdrawn_consent_disappears_from_the_home(plan_stack, plan_corpus):
    corpus, settings, _, _ = plan_corpus
    client, plans, _, stub = plan_stack
    home = make_plan(client, stub)
    pid = plans.plans_of(OWNER)[0]["id"]
    invite = buttons(home["view"]["blocks"], pb.ACTION_INVITE)[0]
    person = json.loads(invite["value"])["u"]
    plans.invite(pid, OWNER, person, "Mag ik je iets vragen over de inkoop?")
    name = plans.view(pid, OWNER)["invitations"][0]["name"]
    opened = {"type": "app_home_opened", "user": USER, "tab": "home", "event_ts": "1.2"}
    post(client, event_body(opened))
    before = stub.wait_for("views.publish", 2)[-1]
    assert f"Uitgenodigd: {name}" in all_text(before["view"]["blocks"])
    people = yaml.safe_load((corpus / "people.yaml").read_text())
    for p in people:
        if p["id"] == person:
            p["consent"] = False
    (corpus / "people.yaml").write_text(yaml.safe_dump(people, allow_unicode=True))
    try:
        assert build(corpus, settings)[0].exit_code == 0
        post(client, event_body(opened))
        after = stub.wait_for("views.publish", 3)[-1]
        shown = all_text(after["view"]["blocks"])
        assert STRAATSEIN["innovation"] in shown
        assert name not in shown and person not in json.dumps(after["view"])
    finally:
        for p in people:
            if p["id"] == person:
                p["consent"] = True
        (corpus / "people.yaml").write_text(yaml.safe_dump(people, allow_unicode=True))
        build(corpus, settings)
