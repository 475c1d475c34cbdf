"""Running Slack: off without credentials, Socket Mode over a loopback WebSocket, the CLI's
errors, the manifest, and logs that never hold secrets or contact details."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from .conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    USER,
    action_body,
    dm,
    event_body,
    post,
)

ROOT = Path(__file__).resolve().parents[3]


def test_without_credentials_slack_is_off_and_says_so_once(fake_assistant, caplog):
    from fastapi.testclient import TestClient

    from bots.slack.settings import SlackSettings
    from bots.web.app import create_app
    from storage import Stores

    settings = fake_assistant.settings
    off = SlackSettings(bot_token=None, signing_secret=None, _env_file=None)
    caplog.set_level(logging.INFO, logger="bots.slack")
    app = create_app(
        settings=settings,
        assistant=fake_assistant,
        stores=Stores.from_settings(settings),
        channels={"slack": off},
    )
    lines = [r for r in caplog.records if r.name.startswith("bots.slack")]
    assert len(lines) == 1 and "Slack staat uit" in lines[0].getMessage()
    assert getattr(app.state, "slack_bolt", None) is None
    with TestClient(app) as client:
        assert client.post("/slack/events", content=b"{}").status_code == 404


def test_mount_returns_true_only_with_both_credentials(fake_assistant):
    from fastapi import FastAPI

    import bots.slack
    from bots.slack.settings import SlackSettings
    from storage import Stores

    settings = fake_assistant.settings
    stores = Stores.from_settings(settings)
    half = SlackSettings(bot_token=SecretStr(BOT_TOKEN), signing_secret=None, _env_file=None)
    assert bots.slack.mount(FastAPI(), fake_assistant, stores, settings, half) is False
    full = half.model_copy(update={"signing_secret": SecretStr(SIGNING_SECRET)})
    app = FastAPI()
    assert bots.slack.mount(app, fake_assistant, stores, settings, full) is True
    assert "/slack/events" in {r.path for r in app.routes}


def test_logs_hold_no_tokens_or_contact_details(slack_stack, caplog):
    client, stores, stub = slack_stack
    caplog.set_level(logging.DEBUG)
    post(client, event_body(dm("Hoe kopen we samen met andere gemeenten een meldingensysteem in?")))
    blocks = stub.wait_for("chat.update")[0]["blocks"]
    card = next(b for b in blocks if b.get("block_id", "").startswith("person:"))
    post(
        client,
        action_body(
            {"action_id": "opschaal_intro", "value": card["accessory"]["value"]},
            stub.url + "/response/log",
        ),
        "application/x-www-form-urlencoded",
    )
    stub.wait_for("/response/log")
    intro = stub.of("chat.postMessage")[-1]
    assert "kees-kort@example.org" in json.dumps(intro)  # it was really sent…
    for secret in (BOT_TOKEN, SIGNING_SECRET, "kees-kort@example.org", "lotte-lang@example.org"):
        assert secret not in caplog.text  # …and never logged


def test_manifest_declares_events_scopes_command_and_interactivity():
    manifest = yaml.safe_load((ROOT / "bots/slack/manifest.yaml").read_text())
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) >= {
        "app_mention",
        "message.im",
        "app_home_opened",
    }
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "im:write"} <= scopes
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    cmd = manifest["features"]["slash_commands"][0]
    assert cmd["command"] == "/opschaal" and cmd["url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


# -- Socket Mode ------------------------------------------------------------------------------------
class LoopbackSocketMode:
    """A Socket Mode endpoint: says hello, sends one events_api envelope, records the acks."""

    def __init__(self, payload: dict) -> None:
        from websockets.sync.server import serve

        self.acks: list[dict] = []
        self.acked = threading.Event()
        self.payload = payload

        def handler(ws):
            ws.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": 1,
                        "connection_info": {"app_id": "A0OPSCHAAL"},
                    }
                )
            )
            ws.send(
                json.dumps(
                    {
                        "envelope_id": "env-1",
                        "type": "events_api",
                        "accepts_response_payload": False,
                        "retry_attempt": 0,
                        "retry_reason": "",
                        "payload": self.payload,
                    }
                )
            )
            for message in ws:
                data = json.loads(message)
                if data.get("envelope_id"):
                    self.acks.append(data)
                    self.acked.set()

        self.server = serve(handler, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_socket_mode_receives_an_event_acks_it_and_answers(
    fake_assistant, slack_settings, slack_config, stub_slack
):
    from bots.slack.cli import connect_socket_mode
    from storage import Stores

    payload = json.loads(
        event_body(
            dm(
                "Hoe kopen we samen met andere gemeenten een meldingensysteem in?",
                channel="D0SOCKET1",
            )
        )
    )
    ws = LoopbackSocketMode(payload)
    original = stub_slack._respond

    def respond(method, params):
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": ws.url}
        return original(method, params)

    stub_slack._respond = respond
    settings = slack_settings
    slack = slack_config.model_copy(update={"app_token": SecretStr("xapp-1-test-not-real")})
    fake_assistant.settings = settings
    handler = connect_socket_mode(settings, fake_assistant, Stores.from_settings(settings), slack)
    try:
        assert ws.acked.wait(20), "the event was not acknowledged over the socket"
        assert ws.acks[0]["envelope_id"] == "env-1"
        update = stub_slack.wait_for("chat.update")[0]
        assert update["channel"] == "D0SOCKET1"
        opened = [c for c in stub_slack.calls if c["method"] == "apps.connections.open"]
        assert opened and opened[0]["auth"] == "Bearer xapp-1-test-not-real"
    finally:
        handler.close()
        ws.close()


def test_socket_mode_with_a_refused_app_token_is_a_clean_error(
    fake_assistant, slack_settings, slack_config, stub_slack
):
    from slack_sdk.errors import SlackApiError

    from bots.slack.cli import connect_socket_mode
    from storage import Stores

    stub_slack.fail["apps.connections.open"] = "invalid_auth"
    settings = slack_settings
    slack = slack_config.model_copy(update={"app_token": SecretStr("xapp-wrong")})
    with pytest.raises(SlackApiError):
        connect_socket_mode(settings, fake_assistant, Stores.from_settings(settings), slack)


# -- CLI ---------------------------------------------------------------------------------------------
def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSCHAAL_SLACK"))}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean,
        timeout=120,
    )


def test_cli_slack_needs_socket_flag_and_tokens():
    no_flag = _cli("slack")
    assert no_flag.returncode != 0
    assert "--socket" in no_flag.stderr and "Traceback" not in no_flag.stderr
    no_tokens = _cli("slack", "--socket")
    assert no_tokens.returncode != 0
    assert "SLACK_BOT_TOKEN en SLACK_APP_TOKEN niet gezet" in no_tokens.stderr
    assert len(no_tokens.stderr.strip().splitlines()) == 1
    assert USER not in no_tokens.stderr
