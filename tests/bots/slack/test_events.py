"""The real Bolt app behind the FastAPI service, driven by signed requests in Slack's formats;
its Web API calls land on the loopback stub (tests/bots/slack/conftest.py)."""

from __future__ import annotations

import json
import time

from bots.slack import blocks as bk

from .conftest import (
    BOT_ID,
    BOT_USER,
    NO_CONSENT,
    USER,
    action_body,
    all_text,
    command_body,
    dm,
    event_body,
    mention,
    post,
)
from .test_blocks import assert_valid_blocks

QUESTION = "Hoe kopen we samen met andere gemeenten een meldingensysteem in?"


def answer_id_of(blocks: list[dict]) -> str:
    fb = next(b for b in blocks if b["type"] == "actions" and b.get("block_id") == "feedback")
    return fb["elements"][0]["value"]


def assert_no_hidden_people(stub) -> None:
    sent = all_text([c["params"] for c in stub.calls])
    for name in NO_CONSENT:
        assert name not in sent, name


# -- security ---------------------------------------------------------------------------------
def test_bad_signature_is_rejected_with_401(slack_stack):
    client, _, stub = slack_stack
    body = event_body(mention(QUESTION))
    resp = post(client, body, secret="not-the-signing-secret")
    assert resp.status_code == 401
    resp = client.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 401
    assert stub.of("chat.postMessage") == []


def test_stale_timestamp_is_rejected(slack_stack):
    client, _, stub = slack_stack
    body = event_body(mention(QUESTION))
    # Correctly signed, but six minutes old: a replay.
    resp = post(client, body, ts=int(time.time()) - 6 * 60)
    assert resp.status_code == 401
    assert stub.of("chat.postMessage") == []


def test_url_verification_challenge(slack_stack):
    client, _, _ = slack_stack
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    resp = post(client, body)
    assert resp.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in resp.text


# -- mentions and threads -----------------------------------------------------------------------
def test_mention_is_answered_in_a_thread_with_a_placeholder_that_the_answer_replaces(slack_stack):
    client, stores, stub = slack_stack
    resp = post(client, event_body(mention(QUESTION, ts="1700000000.000100")))
    assert resp.status_code == 200

    update = stub.wait_for("chat.update")[0]
    placeholder = stub.of("chat.postMessage")[0]
    assert placeholder["channel"] == "C0GENERAL"
    assert placeholder["thread_ts"] == "1700000000.000100"
    assert placeholder["text"].startswith("Even zoeken")
    assert (
        update["channel"] == "C0GENERAL"
        and update["ts"] == stub.replies("chat.postMessage")[0]["ts"]
    )

    blocks = update["blocks"]
    assert_valid_blocks(blocks)
    stored = stores.answer(answer_id_of(blocks))
    assert stored["question"] == QUESTION
    assert update["text"] == bk.fallback_text(type("A", (), {"answer": stored["answer"]}))
    text = all_text(blocks)
    assert "Bronnen" in text
    for c in stored["citations"]:
        assert f"[{c['n']}] <https://opschaal.example.nl/bronnen/{c['doc_id']}|" in text
    assert "Volgende stappen" in text
    assert_no_hidden_people(stub)
    # The Web API was called with the bot token, never with anything else.
    assert {c["auth"] for c in stub.calls} == {"Bearer xoxb-test-token-not-real"}


def test_follow_up_in_a_thread_uses_that_threads_history(slack_stack):
    client, stores, stub = slack_stack
    root = "1700000000.000300"
    post(client, event_body(mention(QUESTION, ts=root)))
    stub.wait_for("chat.update", 1)
    post(
        client,
        event_body(
            mention("En wie kan me daarbij helpen?", ts="1700000000.000400", thread_ts=root)
        ),
    )
    second = stub.wait_for("chat.update", 2)[1]

    placeholders = stub.of("chat.postMessage")
    assert [p["thread_ts"] for p in placeholders] == [root, root]
    conv = stores.conversation_for("slack", f"C0GENERAL:{root}")
    messages = stores.messages(conv)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == QUESTION
    assert messages[2]["content"] == "En wie kan me daarbij helpen?"
    assert messages[3]["answer_id"] == answer_id_of(second["blocks"])
    assert stores.conversation(conv)["audience"] == "internal"
    assert_no_hidden_people(stub)


def test_a_retried_event_is_answered_once(slack_stack):
    client, _, stub = slack_stack
    body = event_body(mention(QUESTION, ts="1700000000.000500"), event_id="Ev0RETRY01")
    assert post(client, body).status_code == 200
    retry = post(
        client, body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200
    stub.wait_for("chat.update", 1)
    # A later, different question flushes the listener pool: once it is answered, a second
    # answer to the retry would have been posted too.
    post(client, event_body(dm("Hoe regel ik de DPIA op tijd?", ts="1700000000.000600")))
    stub.wait_for("chat.update", 2)
    in_thread = [
        p for p in stub.of("chat.postMessage") if p.get("thread_ts") == "1700000000.000500"
    ]
    assert len(in_thread) == 1
    assert len(stub.of("chat.update")) == 2


def test_the_same_message_as_mention_and_dm_event_is_answered_once(slack_stack):
    client, _, stub = slack_stack
    ts = "1700000000.000650"
    post(client, event_body(mention(QUESTION, channel="D0ASKER1", ts=ts)))
    post(client, event_body(dm(f"<@{BOT_USER}> {QUESTION}", ts=ts)))
    stub.wait_for("chat.update", 1)
    post(client, event_body(dm("Hoe regel ik de DPIA op tijd?", ts="1700000000.000660")))
    stub.wait_for("chat.update", 2)
    assert len(stub.of("chat.postMessage")) == 2


# -- DMs ----------------------------------------------------------------------------------------
def test_dm_is_answered_directly_not_in_a_thread(slack_stack):
    client, stores, stub = slack_stack
    post(client, event_body(dm(QUESTION)))
    update = stub.wait_for("chat.update")[0]
    placeholder = stub.of("chat.postMessage")[0]
    assert placeholder["channel"] == "D0ASKER1"
    assert placeholder.get("thread_ts") is None
    assert update["channel"] == "D0ASKER1"
    assert_valid_blocks(update["blocks"])
    conv = stores.conversation_for("slack", "D0ASKER1:dm")
    assert len(stores.messages(conv)) == 2


def test_bot_messages_and_edits_are_ignored(slack_stack):
    client, _, stub = slack_stack
    ignored = [
        dm(
            "Ik ben een andere bot", ts="1700000000.000701", bot_id="B0OTHER", subtype="bot_message"
        ),
        dm("Ik ben ook een bot", ts="1700000000.000702", bot_id="B0OTHER2"),
        {**dm("eigen bericht", ts="1700000000.000703"), "user": BOT_USER, "bot_id": BOT_ID},
        dm("bewerkt", ts="1700000000.000704", subtype="message_changed"),
        {**mention(QUESTION, ts="1700000000.000705"), "bot_id": "B0OTHER"},
    ]
    for ev in ignored:
        assert post(client, event_body(ev)).status_code == 200
    post(client, event_body(dm(QUESTION, ts="1700000000.000799")))
    stub.wait_for("chat.update", 1)
    posted = stub.of("chat.postMessage")
    assert len(posted) == 1 and posted[0]["channel"] == "D0ASKER1"


# -- slash command -----------------------------------------------------------------------------
def test_empty_slash_command_returns_help(slack_stack):
    client, _, stub = slack_stack
    resp = post(
        client, command_body("", stub.url + "/response/help"), "application/x-www-form-urlencoded"
    )
    assert resp.status_code == 200
    data = resp.json()
    assert data["response_type"] == "ephemeral"
    assert_valid_blocks(data["blocks"])
    assert "/opschaal <vraag>" in all_text(data["blocks"])


def test_slash_command_answers_in_the_channel_and_shows_who_asked(slack_stack):
    client, stores, stub = slack_stack
    resp = post(
        client,
        command_body(QUESTION, stub.url + "/response/1"),
        "application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200
    update = stub.wait_for("chat.update")[0]
    placeholder = stub.of("chat.postMessage")[0]
    assert placeholder["channel"] == "C0GENERAL" and placeholder.get("thread_ts") is None
    blocks = update["blocks"]
    assert_valid_blocks(blocks)
    assert blocks[0]["type"] == "context" and f"<@{USER}>" in blocks[0]["elements"][0]["text"]
    # The answer's message is the thread root for @mention follow-ups.
    conv = stores.conversation_for("slack", f"C0GENERAL:{update['ts']}")
    assert len(stores.messages(conv)) == 2


def test_slash_command_private_answer_is_ephemeral(slack_stack):
    client, _, stub = slack_stack
    resp = post(
        client,
        command_body(f"privé {QUESTION}", stub.url + "/response/private"),
        "application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200
    assert resp.json()["response_type"] == "ephemeral"
    assert "Even zoeken" in resp.json()["text"]
    sent = stub.wait_for("/response/private")[0]
    assert sent["response_type"] == "ephemeral"
    assert_valid_blocks(sent["blocks"])
    assert "Alleen zichtbaar voor jou" in all_text(sent["blocks"])
    assert stub.of("chat.postMessage") == [] and stub.of("chat.update") == []


def test_slash_command_where_the_bot_is_not_a_member_answers_via_response_url(slack_stack):
    client, _, stub = slack_stack
    stub.fail["chat.postMessage"] = "not_in_channel"
    post(
        client,
        command_body(QUESTION, stub.url + "/response/2", channel="C0ELSEWHERE"),
        "application/x-www-form-urlencoded",
    )
    sent = stub.wait_for("/response/2")[0]
    assert sent["response_type"] == "in_channel"
    assert_valid_blocks(sent["blocks"])


def test_private_mention_is_answered_ephemerally(slack_stack):
    client, _, stub = slack_stack
    post(client, event_body(mention(f"alleen voor mij: {QUESTION}", ts="1700000000.000800")))
    eph = stub.wait_for("chat.postEphemeral")[0]
    assert eph["user"] == USER and eph["channel"] == "C0GENERAL"
    assert_valid_blocks(eph["blocks"])
    assert stub.of("chat.postMessage") == []


# -- audience ------------------------------------------------------------------------------------
def test_public_channel_gets_public_audience_and_no_internal_documents(slack_stack):
    client, stores, stub = slack_stack
    q = "Wie regelde het budget voor de uitrol?"
    post(client, event_body(mention(q, channel="C0PUBLIC", ts="1700000000.000900")))
    post(client, event_body(mention(q, channel="C0GENERAL", ts="1700000000.000901")))
    updates = stub.wait_for("chat.update", 2)
    by_channel = {u["channel"]: stores.answer(answer_id_of(u["blocks"])) for u in updates}
    assert (
        stores.conversation(stores.conversation_for("slack", "C0PUBLIC:1700000000.000900"))[
            "audience"
        ]
        == "public"
    )
    # lessons/english-note is visibility: internal.
    assert "lessons/english-note" not in by_channel["C0PUBLIC"]["retrieved"]
    assert "lessons/english-note" in by_channel["C0GENERAL"]["retrieved"]


# -- buttons -------------------------------------------------------------------------------------
def _ask_in_dm(client, stub, question=QUESTION) -> list[dict]:
    post(client, event_body(dm(question, ts="1700000000.001000")))
    return stub.wait_for("chat.update")[0]["blocks"]


def test_feedback_buttons_are_stored(slack_stack):
    client, stores, stub = slack_stack
    blocks = _ask_in_dm(client, stub)
    aid = answer_id_of(blocks)
    resp = post(
        client,
        action_body(
            {"action_id": bk.ACTION_UP, "value": aid}, stub.url + "/response/fb", channel="D0ASKER1"
        ),
        "application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200
    thanks = stub.wait_for("/response/fb")[0]
    assert thanks["response_type"] == "ephemeral" and "Dank" in thanks["text"]
    fb = stores.feedback_for(aid)
    assert [(f["rating"], f["channel"]) for f in fb] == [("up", "slack")]


def test_source_feedback_is_stored_with_its_document(slack_stack):
    client, stores, stub = slack_stack
    blocks = _ask_in_dm(client, stub)
    aid = answer_id_of(blocks)
    overflow = next(
        b["accessory"] for b in blocks if b.get("accessory", {}).get("type") == "overflow"
    )
    option = overflow["options"][0]
    action = {"type": "overflow", "action_id": bk.ACTION_SOURCE, "selected_option": option}
    post(
        client,
        action_body(action, stub.url + "/response/src", channel="D0ASKER1"),
        "application/x-www-form-urlencoded",
    )
    stub.wait_for("/response/src")
    fb = stores.feedback_for(aid)
    first = stores.answer(aid)["citations"][0]["doc_id"]
    assert [(f["rating"], f["doc_id"]) for f in fb] == [("down", first)]


def test_stel_me_voor_sends_the_asker_an_intro_by_dm(slack_stack):
    client, stores, stub = slack_stack
    blocks = _ask_in_dm(client, stub)
    cards = [b for b in blocks if b.get("block_id", "").startswith("person:")]
    assert cards, "expected a people card for a procurement question"
    button = cards[0]["accessory"]
    person_id = json.loads(button["value"])["p"]
    post(
        client,
        action_body(
            {"action_id": bk.ACTION_INTRO, "value": button["value"], "text": button["text"]},
            stub.url + "/response/intro",
            channel="C0GENERAL",
        ),
        "application/x-www-form-urlencoded",
    )
    stub.wait_for("/response/intro")
    opened = stub.of("conversations.open")
    assert [o["users"] for o in opened] == [USER]
    dm_channel = "D" + USER[1:]
    intro = [m for m in stub.of("chat.postMessage") if m["channel"] == dm_channel][-1]
    person = next(p for p in stores.answer(answer_id_of(blocks))["people"] if p["id"] == person_id)
    assert f"Beste {person['name'].split()[0]}" in intro["text"]
    assert "Tessa Tester" in intro["text"]  # the asker's name from users.info signs the intro
    assert_valid_blocks(intro["blocks"])
    assert person["contact"]["email"] in all_text(intro["blocks"])
    assert_no_hidden_people(stub)


def test_intro_for_a_person_without_consent_is_refused(slack_stack):
    client, stores, stub = slack_stack
    blocks = _ask_in_dm(client, stub)
    forged = json.dumps({"a": answer_id_of(blocks), "p": "geheim-persoon"})
    post(
        client,
        action_body({"action_id": bk.ACTION_INTRO, "value": forged}, stub.url + "/response/forged"),
        "application/x-www-form-urlencoded",
    )
    refusal = stub.wait_for("/response/forged")[0]
    assert refusal["response_type"] == "ephemeral"
    assert stub.of("conversations.open") == []
    assert_no_hidden_people(stub)


# -- App Home -----------------------------------------------------------------------------------
def test_app_home_shows_what_it_does_examples_and_the_step_plan(slack_stack):
    client, _, stub = slack_stack
    ev = {
        "type": "app_home_opened",
        "user": USER,
        "channel": "D0ASKER1",
        "tab": "home",
        "event_ts": "1700000000.002000",
    }
    post(client, event_body(ev))
    published = stub.wait_for("views.publish")[0]
    assert published["user_id"] == USER
    view = published["view"]
    assert view["type"] == "home"
    assert_valid_blocks(view["blocks"], max_blocks=bk.MAX_HOME_BLOCKS)
    text = all_text(view["blocks"])
    assert "Voorbeelden" in text and bk.EXAMPLES["nl"][0] in text
    assert "1. Proef" in text and "2. Uitrol" in text and "Rol uit in golven." in text


def test_cited_only_channel_gets_no_uncited_answer_but_the_asker_does(slack_stack, slack_config):
    client, stores, stub = slack_stack
    slack_config.cited_only = True  # the same SlackSettings object the Slack bot reads
    # Far outside the mini corpus: the assistant abstains.
    post(client, event_body(mention("Hoe bak ik zuurdesembrood?", ts="1700000000.003000")))
    eph = stub.wait_for("chat.postEphemeral")[0]
    assert stores.answer(answer_id_of(eph["blocks"]))["abstained"] is True
    placeholder = stub.replies("chat.postMessage")[0]
    assert [(d["channel"], d["ts"]) for d in stub.of("chat.delete")] == [
        ("C0GENERAL", placeholder["ts"])
    ]
    assert eph["user"] == USER and eph.get("thread_ts") is None
    assert_valid_blocks(eph["blocks"])
    assert stub.of("chat.update") == []
    # A cited answer still goes to the channel.
    post(client, event_body(mention(QUESTION, ts="1700000000.003100")))
    assert stub.wait_for("chat.update")[0]["channel"] == "C0GENERAL"


def test_too_long_question_gets_the_one_line_error_and_english_gets_english(slack_stack):
    client, _, stub = slack_stack
    post(client, event_body(dm("Hoe " + "lang " * 600 + "?", ts="1700000000.004000")))
    update = stub.wait_for("chat.update")[0]
    assert_valid_blocks(update["blocks"])
    assert "te lang" in update["text"] and "\n" not in update["text"]
    post(
        client,
        event_body(
            dm("Who has experience with joint procurement for a roll-out?", ts="1700000000.004100")
        ),
    )
    stub.wait_for("chat.update", 2)
    assert stub.of("chat.postMessage")[1]["text"].startswith("Searching")


def test_slack_connect_channel_counts_as_public(slack_stack):
    client, stores, stub = slack_stack
    post(
        client,
        event_body(
            mention(
                "Wie regelde het budget voor de uitrol?", channel="C0SHARED", ts="1700000000.005000"
            ),
            is_ext_shared_channel=True,
        ),
    )
    update = stub.wait_for("chat.update")[0]
    conv = stores.conversation_for("slack", "C0SHARED:1700000000.005000")
    assert stores.conversation(conv)["audience"] == "public"
    assert "lessons/english-note" not in stores.answer(answer_id_of(update["blocks"]))["retrieved"]


# -- share back (/opschaal deel) --------------------------------------------------------------


def _view_submission(values: dict) -> str:
    from urllib.parse import urlencode

    state = {"values": {}}
    for block, value in values.items():
        if block == "obstacles":
            el = {"type": "multi_static_select", "selected_options": [{"value": v} for v in value]}
        elif block == "contact_ok":
            el = {
                "type": "radio_buttons",
                "selected_option": None if value is None else {"value": "ja" if value else "nee"},
            }
        else:
            el = {"type": "plain_text_input", "value": value}
        state["values"][block] = {"v": el}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "test"},
        "user": {"id": USER, "username": "tessa", "name": "tessa", "team_id": "T0001"},
        "api_app_id": "A0OPSCHAAL",
        "token": "legacy-verification-token",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "view": {
            "id": "V2",
            "type": "modal",
            "callback_id": "opschaal_deel",
            "state": state,
            "hash": "156772938.1827394",
            "private_metadata": "",
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def test_slash_deel_opens_the_contribution_form(slack_stack):
    client, _, stub = slack_stack
    resp = post(
        client,
        command_body("deel", stub.url + "/response/deel"),
        "application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200
    view = stub.wait_for("views.open")[0]["view"]
    assert view["type"] == "modal" and view["callback_id"] == "opschaal_deel"
    ids = [b.get("block_id") for b in view["blocks"]]
    assert {"title", "tried", "obstacles", "learned", "organisation", "contact_ok"} <= set(ids)
    options = next(b for b in view["blocks"] if b.get("block_id") == "obstacles")["element"][
        "options"
    ]
    assert {o["value"] for o in options} == {"budget", "inkoop", "privacy"}
    assert stub.of("chat.postMessage") == []


def test_form_submission_is_stored_and_errors_are_shown(slack_stack):
    from storage import ContributionStore

    client, stores, _ = slack_stack
    good = {
        "title": "Samen inkopen met drie gemeenten",
        "tried": "We hebben één gezamenlijke aanbesteding voor het meldingensysteem gedaan.",
        "obstacles": ["inkoop"],
        "learned": "Begin met een gezamenlijke marktconsultatie en leg het beheer vooraf vast.",
        "organisation": "Testgemeente Zuid",
        "contact_ok": False,
    }
    bad = dict(good, contact_ok=None)
    resp = post(client, _view_submission(bad), "application/x-www-form-urlencoded")
    assert resp.status_code == 200
    assert resp.json()["response_action"] == "errors" and "contact_ok" in resp.json()["errors"]
    assert ContributionStore(stores).list() == []
    resp = post(client, _view_submission(good), "application/x-www-form-urlencoded")
    assert resp.json()["response_action"] == "update"
    stored = ContributionStore(stores).list("pending")
    assert (
        len(stored) == 1
        and stored[0]["payload"]["title"] == good["title"]
        and stored[0]["channel"] == "slack"
    )


# -- progressive updates with a generative model -------------------------------------------------


def test_llm_answer_grows_in_the_placeholder_then_gets_its_blocks(
    fake_assistant, slack_settings, slack_config, stub_slack
):
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from assistant.service import Assistant
    from storage import Stores
    from tests.assistant.openai_server import Reply, serve

    from .conftest import make_service

    with serve() as llm:
        llm.default = Reply(
            "Vier gemeenten kochten samen één meldingensysteem in via één aanbesteding [1]. "
            "De kosten per gemeente daalden met dertig procent [1]."
        )
        settings = slack_settings.model_copy(
            update={
                "llm": "openai:gpt-4o-mini",
                "llm_base_url": llm.base_url,
                "llm_api_key": SecretStr("sk-test"),
                "llm_timeout": 10.0,
                "llm_max_retries": 0,
            }
        )
        slack = slack_config.model_copy(update={"stream_seconds": 0.0})
        assistant = Assistant(
            settings, embedder=fake_assistant.embedder, store=fake_assistant.store
        )
        stores = Stores.from_settings(settings)
        with TestClient(make_service(assistant, stores, settings, slack)) as client:
            post(client, event_body(mention("Hoe kopen gemeenten samen een meldingensysteem in?")))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(
                u.get("blocks") for u in stub_slack.of("chat.update")
            ):
                time.sleep(0.05)
    updates = stub_slack.of("chat.update")
    partial = [u for u in updates if not u.get("blocks")]
    final = [u for u in updates if u.get("blocks")]
    assert len(final) == 1 and updates[-1] is final[0]
    assert len(partial) >= 2, updates
    assert partial[0]["text"].endswith("…") and len(partial[0]["text"]) < len(partial[-1]["text"])
    assert_valid_blocks(final[0]["blocks"])
    assert {u["ts"] for u in updates} == {stub_slack.replies("chat.postMessage")[0]["ts"]}
