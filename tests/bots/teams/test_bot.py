"""The Teams bot end to end: Bot Framework activities posted to /api/messages of the real web
app, the real Agents SDK, and a loopback connector service that records the replies."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bots.teams.settings import TeamsSettings
from storage import Stores

from .conftest import CARD, SDK_ENV, message

DPIA = "Hoe regel ik de DPIA voor een camerapilot?"
FOLLOW_UP = "Wie kan me daarbij helpen?"
BUDGET = "Wie regelde het budget en de kosten voor de gezamenlijke aanbesteding?"
NO_CONSENT = ("Gerda", "Geheim", "geheim-persoon", "gerda-geheim@example.org")


#: Teams' own settings in development mode (token-less turns, loopback only).
DEV = TeamsSettings(dev=True, _env_file=None)


@pytest.fixture
def dev_settings(fake_settings):
    return fake_settings.model_copy(update={"host": "127.0.0.1"})


@pytest.fixture
def stores(dev_settings):
    return Stores.from_settings(dev_settings)


@pytest.fixture
def client(fake_assistant, dev_settings, stores, no_sdk_env):
    from bots.web.app import create_app

    app = create_app(dev_settings, fake_assistant, stores, channels={"teams": DEV})
    # The dev mode takes token-less calls from this machine only; say we are on it.
    with TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50123)) as c:
        yield c


def post(client: TestClient, activity, **kw):
    return client.post("/api/messages", json=activity, **kw)


def card_of(activity: dict) -> dict:
    cards = [
        a["content"] for a in activity.get("attachments") or [] if a.get("contentType") == CARD
    ]
    assert len(cards) == 1, activity
    return cards[0]


def submits(card: dict, kind: str) -> list[dict]:
    """Every Action.Submit data of ``kind`` anywhere in the card."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit" and node.get("data", {}).get("opschaal") == kind:
                found.append(node["data"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    return found


def texts(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


# -- switched on or off --------------------------------------------------------------------------


def test_unconfigured_teams_is_off_with_one_log_line(
    fake_assistant, fake_settings, no_sdk_env, caplog
):
    from bots.teams import mount

    app = FastAPI()
    with caplog.at_level(logging.DEBUG, logger="bots.teams"):
        assert (
            mount(app, fake_assistant, Stores.from_settings(fake_settings), fake_settings) is False
        )
    lines = [r for r in caplog.records if r.name.startswith("bots.teams")]
    assert len(lines) == 1
    assert "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID" in lines[0].getMessage()
    assert TestClient(app).post("/api/messages", json={}).status_code == 404


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "opschaal.example.nl"])
def test_dev_mode_is_refused_off_loopback(fake_assistant, fake_settings, no_sdk_env, caplog, host):
    from bots.teams import mount
    from bots.web.app import create_app

    settings = fake_settings.model_copy(update={"host": host})
    app = FastAPI()
    with caplog.at_level(logging.INFO, logger="bots.teams"):
        assert mount(app, fake_assistant, Stores.from_settings(settings), settings, DEV) is False
    lines = [r for r in caplog.records if r.name.startswith("bots.teams")]
    assert len(lines) == 1 and lines[0].levelno == logging.ERROR
    assert "OPSCHAAL_TEAMS_DEV" in lines[0].getMessage() and "loopback" in lines[0].getMessage()
    web = create_app(
        settings, fake_assistant, Stores.from_settings(settings), channels={"teams": DEV}
    )
    assert (
        TestClient(web)
        .post("/api/messages", json=message("http://127.0.0.1:9/", "hoi"))
        .status_code
        == 404
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_dev_mode_mounts_on_loopback(fake_assistant, fake_settings, no_sdk_env, host):
    from bots.teams import mount

    settings = fake_settings.model_copy(update={"host": host})
    assert mount(FastAPI(), fake_assistant, Stores.from_settings(settings), settings, DEV) is True


def test_half_configured_credentials_are_refused(
    fake_assistant, fake_settings, no_sdk_env, monkeypatch, caplog
):
    from bots.teams import mount

    monkeypatch.setenv(SDK_ENV[0], "11111111-2222-3333-4444-555555555555")
    app = FastAPI()
    with caplog.at_level(logging.INFO, logger="bots.teams"):
        assert (
            mount(app, fake_assistant, Stores.from_settings(fake_settings), fake_settings) is False
        )
    msg = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("bots.teams"))
    assert "CLIENTSECRET" in msg and "TENANTID" in msg


@pytest.fixture
def secured_client(fake_assistant, fake_settings, no_sdk_env, monkeypatch):
    from bots.web.app import create_app

    monkeypatch.setenv(SDK_ENV[0], "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv(SDK_ENV[1], "not-a-real-secret")
    monkeypatch.setenv(SDK_ENV[2], "99999999-8888-7777-6666-555555555555")
    app = create_app(fake_settings, fake_assistant, Stores.from_settings(fake_settings))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"])
def test_without_a_valid_token_401(secured_client, connector, header):
    headers = {"Authorization": header} if header else {}
    r = post(secured_client, message(connector.url, DPIA), headers=headers)
    assert r.status_code == 401
    assert connector.calls == []


def test_token_less_call_in_dev_mode_from_another_machine_401(
    fake_assistant, dev_settings, stores, no_sdk_env, connector
):
    from bots.web.app import create_app

    app = create_app(dev_settings, fake_assistant, stores, channels={"teams": DEV})
    with TestClient(app, client=("203.0.113.7", 40000)) as remote:
        assert post(remote, message(connector.url, DPIA)).status_code == 401
    assert connector.calls == []


def test_token_less_call_in_dev_mode_may_not_reply_off_loopback(client, connector):
    r = post(client, message("https://smba.example.com/emea/", DPIA))
    assert r.status_code == 400
    assert "loopback" in r.json()["error"]


# -- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        b"[1, 2, 3]",
        b'"just a string"',
        b"{}",
        b'{"type": "message"}',
        b'{"type": "message", "conversation": "not-an-object", "channelId": "msteams"}',
        b'{"type": 5, "conversation": {"id": 7}, "channelId": "msteams"}',
        b'{"type": "message", "conversation": {"id": ""}, "channelId": "msteams"}',
        b'{"type": "message", "conversation": {"id": "a:1"}, "channelId": "msteams", "from": {"id": "u"}}',
        b'{"type": "message", "conversation": {"id": "a:1"}, "serviceUrl": "http://127.0.0.1:9/", "channelId": "msteams"}',
        b'{"type": "message", "conversation": {"id": "a:1"}, "serviceUrl": "http://127.0.0.1:9/", "from": {"id": "u"}}',
        b'{"type": "message", "entities": "nope", "conversation": {"id": "a:1"}, "channelId": "msteams"}',
    ],
)
def test_malformed_activity_is_400_never_500(client, connector, body):
    r = client.post("/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "error" in r.json()
    assert connector.calls == []


# -- answering -----------------------------------------------------------------------------------


def test_personal_chat_streams_and_ends_with_an_adaptive_card(client, connector, stores):
    activity = message(connector.url, DPIA)
    r = post(client, activity)
    assert r.status_code == 202
    sent = connector.activities()
    assert sent and all(c["reply_to"] == activity["id"] for c in connector.calls)
    assert all(c["conversation"] == activity["conversation"]["id"] for c in connector.calls)
    # typing while answering: the SDK's stream opens with an informative typing update
    typing = [a for a in sent if a["type"] == "typing"]
    assert typing and any(
        e.get("type") == "streaminfo" and e.get("streamType") == "informative"
        for a in typing
        for e in a.get("entities") or []
    )
    finals = connector.messages()
    assert len(finals) == 1
    final = finals[0]
    assert sent.index(final) > sent.index(typing[0])
    assert any(
        e.get("type") == "streaminfo" and e.get("streamType") == "final" for e in final["entities"]
    )

    card = card_of(final)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert isinstance(card["body"], list) and card["body"]
    ratings = [a["data"]["rating"] for a in card["actions"] if a["type"] == "Action.Submit"]
    assert ratings == ["up", "down"]
    answer_id = card["actions"][0]["data"]["answer_id"]
    stored = stores.answer(answer_id)
    assert stored["question"] == DPIA

    # the streamed text carries the [n] markers; Teams citation entities match them
    assert final["text"] == stored["answer"]
    ai = [e for e in final["entities"] if e.get("type") == "https://schema.org/Message"]
    assert len(ai) == 1
    positions = sorted(c["position"] for c in ai[0]["citation"])
    assert positions and all(f"[{p}]" in final["text"] for p in positions)
    titles = {c["n"]: c["title"] for c in stored["citations"]}
    for c in ai[0]["citation"]:
        name, abstract = c["appearance"]["name"], c["appearance"]["abstract"]
        assert name == titles[c["position"]] or titles[c["position"]].startswith(name.rstrip("…"))
        assert len(name) <= 80 and 0 < len(abstract) <= 160  # Teams' limits
    # the card does not repeat the streamed text, but lists the sources and the people
    body = texts(card)
    assert "Bronnen" in body and "Lotte Lang" in body
    assert stored["answer"] not in body


def test_channel_message_with_mention_gets_one_card_with_the_text(client, connector, stores):
    conv = "19:abc123@thread.tacv2;messageid=1732780000000"
    activity = message(connector.url, DPIA, conversation=conv, personal=False, mention=True)
    assert post(client, activity).status_code == 202
    sent = connector.activities()
    assert [a["type"] for a in sent].count("message") == 1
    assert any(a["type"] == "typing" for a in sent)
    final = connector.messages()[0]
    assert not any(e.get("type") == "streaminfo" for e in final.get("entities") or [])
    assert connector.calls[-1]["reply_to"] == activity["id"]
    card = card_of(final)
    assert card["version"] == "1.5"
    first = card["body"][0]
    assert first["type"] == "TextBlock" and "[1]" in first["text"]
    # links instead of citation entities: each source line is a markdown link or names its id
    lines = [b["text"] for b in card["body"] if b.get("text", "").startswith("**[")]
    assert lines and all("](" in ln or "(lessons/" in ln or "(cases/" in ln for ln in lines)
    # the question was stored without the mention
    conv_id = stores.conversation_for("teams", conv)
    assert stores.history(conv_id)[0].content == DPIA


def test_channel_message_without_mention_is_ignored(client, connector, stores):
    conv = "19:quiet@thread.tacv2"
    assert (
        post(client, message(connector.url, DPIA, conversation=conv, personal=False)).status_code
        == 202
    )
    assert connector.messages() == []
    assert stores.history(stores.conversation_for("teams", conv)) == []


def test_follow_up_uses_the_conversation_history(client, connector, stores):
    conv = "a:history-chat"
    post(client, message(connector.url, DPIA, conversation=conv))
    connector.clear()
    post(client, message(connector.url, FOLLOW_UP, conversation=conv))
    with_history = card_of(connector.messages()[0])
    assert [t.role for t in stores.history(stores.conversation_for("teams", conv))] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    # the same follow-up in a fresh chat has nothing to refer to
    connector.clear()
    post(client, message(connector.url, FOLLOW_UP, conversation="a:fresh-chat"))
    without = card_of(connector.messages()[0])
    assert "Lotte Lang" in texts(with_history)
    assert "Lotte Lang" not in texts(without)


def test_feedback_submit_is_stored(client, connector, stores):
    conv = "a:feedback-chat"
    post(client, message(connector.url, DPIA, conversation=conv))
    card = card_of(connector.messages()[0])
    down = next(d for d in submits(card, "feedback") if d["rating"] == "down")
    connector.clear()
    r = post(client, message(connector.url, None, conversation=conv, value=down))
    assert r.status_code == 202
    rows = stores.feedback_for(down["answer_id"])
    assert [(f["rating"], f["channel"]) for f in rows] == [("down", "teams")]
    assert "feedback" in connector.messages()[0]["text"].lower()


def test_feedback_for_an_unknown_answer_is_answered_not_crashed(client, connector, stores):
    value = {"opschaal": "feedback", "answer_id": "does-not-exist", "rating": "up"}
    assert post(client, message(connector.url, None, value=value)).status_code == 202
    assert "opnieuw" in connector.messages()[0]["text"]


def test_introduce_me_replies_with_the_intro_text(client, connector, fake_assistant, stores):
    conv = "a:intro-chat"
    post(client, message(connector.url, DPIA, conversation=conv))
    card = card_of(connector.messages()[0])
    intro = next(d for d in submits(card, "intro") if d["person_id"] == "lotte-lang")
    connector.clear()
    post(client, message(connector.url, None, conversation=conv, value=intro))
    reply = card_of(connector.messages()[0])
    expected = fake_assistant.intro("lotte-lang", DPIA, asker_name="Test Gebruiker", language="nl")
    assert expected in [b.get("text") for b in reply["body"]]
    mail = [a for a in reply["actions"] if a["type"] == "Action.OpenUrl"]
    assert mail and mail[0]["url"].startswith("mailto:lotte-lang@example.org?")


def test_retried_activity_is_answered_once(client, connector):
    activity = message(connector.url, DPIA, conversation="a:retry-chat")
    post(client, activity)
    post(client, activity)
    assert len(connector.messages()) == 1


def test_no_consent_false_person_ever_appears(client, connector):
    conv = "19:budget@thread.tacv2"
    post(client, message(connector.url, BUDGET, conversation=conv, personal=False, mention=True))
    post(client, message(connector.url, BUDGET, conversation="a:budget-chat"))
    card = card_of(connector.messages()[0])
    # a forged "introduce me" for her is refused like an unknown person
    forged = {
        "opschaal": "intro",
        "answer_id": submits(card, "feedback")[0]["answer_id"],
        "person_id": "geheim-persoon",
    }
    post(client, message(connector.url, None, conversation=conv, value=forged))
    everything = json.dumps(connector.activities(), ensure_ascii=False)
    assert len(connector.messages()) == 3
    for needle in NO_CONSENT:
        assert needle not in everything
    assert "kies iemand uit de aanbevelingen" in connector.messages()[-1]["text"]


def test_mention_only_gets_help_not_an_error(client, connector):
    activity = message(
        connector.url, "", conversation="19:x@thread.tacv2", personal=False, mention=True
    )
    assert post(client, activity).status_code == 202
    assert "vraag" in connector.messages()[0]["text"].lower()


def test_too_long_question_gets_the_one_line_error(client, connector, dev_settings):
    long = "opschalen " * (dev_settings.max_question_chars // 10 + 5)
    activity = message(
        connector.url, long.strip(), conversation="19:y@thread.tacv2", personal=False, mention=True
    )
    assert post(client, activity).status_code == 202
    text = connector.messages()[0]["text"]
    assert "te lang" in text and "\n" not in text


def test_welcome_when_installed_in_personal_scope(client, connector):
    activity = message(connector.url)
    activity.update(type="conversationUpdate", membersAdded=[{"id": activity["recipient"]["id"]}])
    assert post(client, activity).status_code == 202
    assert "Opschaalwijzer" in connector.messages()[0]["text"]


def test_connector_down_is_not_a_500(client):
    # Nothing listens on this loopback port: the reply cannot be delivered.
    r = post(
        client,
        message(
            "http://127.0.0.1:9/",
            DPIA,
            conversation="19:z@thread.tacv2",
            personal=False,
            mention=True,
        ),
    )
    assert r.status_code != 500


def test_deel_sends_the_contribution_form_and_a_submit_is_stored(client, connector, stores):
    from storage import ContributionStore

    conv = "a:share-chat"
    post(client, message(connector.url, "deel", conversation=conv))
    card = card_of(connector.messages()[0])
    ids = {b.get("id") for b in card["body"]}
    assert {"title", "tried", "obstacles", "learned", "organisation", "contact_ok"} <= ids
    submit = card["actions"][0]["data"]
    assert submit == {"opschaal": "share"}
    connector.clear()
    value = dict(
        submit,
        title="Samen inkopen met drie gemeenten",
        tried="We deden één gezamenlijke aanbesteding voor het meldingensysteem.",
        obstacles="inkoop,budget",
        learned="Leg het beheer vooraf vast en begin met een marktconsultatie.",
        organisation="Testgemeente Zuid",
        contact_ok="nee",
    )
    post(
        client, message(connector.url, None, conversation=conv, value=dict(value, contact_ok="ja"))
    )
    assert "nog niet verstuurd" in connector.messages()[0]["text"]  # ja without name/email
    assert ContributionStore(stores).list() == []
    connector.clear()
    post(client, message(connector.url, None, conversation=conv, value=value))
    assert "Dank je" in connector.messages()[0]["text"]
    stored = ContributionStore(stores).list("pending")
    assert [c["payload"]["obstacles"] for c in stored] == [["inkoop", "budget"]]
    assert stored[0]["channel"] == "teams"
