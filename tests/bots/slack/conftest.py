"""A loopback stand-in for Slack's Web API, and signed requests in Slack's own formats.

The stub is a real HTTP server on 127.0.0.1 that the real ``slack_sdk`` WebClient talks to
through ``base_url`` (SLACK_API_URL); it records every call and answers with Slack-shaped JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from pydantic import SecretStr

SIGNING_SECRET = "test-signing-secret-8f3a"
BOT_TOKEN = "xoxb-test-token-not-real"
BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM = "T0001"
USER = "U0ASKER1"

#: People with consent:false in the bundled corpus and the mini corpus; never in any block.
NO_CONSENT = ["Bart Hendriks", "Gerrit van Dam", "Willem Schouten", "Petra Lammers", "Gerda Geheim"]


class StubSlack:
    """Records Web API calls; ``fail[method] = "error"`` makes that method answer ok:false."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.fail: dict[str, str] = {}
        #: Bytes posted to the upload URLs that files.getUploadURLExternal handed out, by file id.
        self.uploads: dict[str, bytes] = {}
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self._handle(b"")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length))

            def _handle(self, raw: bytes) -> None:
                url = urlparse(self.path)
                if url.path.startswith("/upload/"):
                    # The file itself: slack_sdk posts the raw bytes, without the bot token.
                    with stub._cond:
                        stub.uploads[url.path.rsplit("/", 1)[-1]] = raw
                        stub.calls.append(
                            {
                                "method": "upload",
                                "params": {"file_id": url.path.rsplit("/", 1)[-1]},
                                "auth": self.headers.get("Authorization"),
                                "response": None,
                            }
                        )
                        stub._cond.notify_all()
                    data = f"OK - {len(raw)}".encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                ctype = self.headers.get("Content-Type", "")
                if raw and "json" in ctype:
                    params.update(json.loads(raw))
                elif raw:
                    params.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
                for key in ("blocks", "view", "files"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                method = url.path.rsplit("/", 1)[-1] if url.path.startswith("/api/") else url.path
                status, payload = stub._respond(method, params)
                record = {
                    "method": method,
                    "params": params,
                    "auth": self.headers.get("Authorization"),
                    "response": payload,
                }
                with stub._cond:
                    stub.calls.append(record)
                    stub._cond.notify_all()
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _respond(self, method: str, p: dict) -> tuple[int, dict]:
        if method in self.fail:
            return 200, {"ok": False, "error": self.fail[method]}
        if method == "auth.test":
            return 200, {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "opschaal",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            ts = f"1700000100.{next(self._ts):06d}"
            return 200, {
                "ok": True,
                "channel": p.get("channel"),
                "ts": ts,
                "message": {"text": p.get("text"), "ts": ts, "bot_id": BOT_ID},
            }
        if method == "chat.update":
            return 200, {
                "ok": True,
                "channel": p.get("channel"),
                "ts": p.get("ts"),
                "text": p.get("text"),
            }
        if method == "chat.delete":
            return 200, {"ok": True, "channel": p.get("channel"), "ts": p.get("ts")}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": f"1700000200.{next(self._ts):06d}"}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(p.get("users", "X"))[1:]}}
        if method == "users.info":
            return 200, {"ok": True, "user": {"id": p.get("user"), "real_name": "Tessa Tester"}}
        if method == "views.open":
            return 200, {"ok": True, "view": {"id": "V2", **(p.get("view") or {})}}
        if method == "views.update":
            return 200, {"ok": True, "view": {"id": p.get("view_id"), **(p.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):07d}"
            return 200, {
                "ok": True,
                "upload_url": f"{self.url}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = p.get("files") or []
            return 200, {
                "ok": True,
                "files": [
                    {"id": f["id"], "title": f.get("title"), "name": f.get("title")} for f in files
                ],
            }
        if method == "views.publish":
            return 200, {"ok": True, "view": {"id": "V1", **(p.get("view") or {})}}
        if method.startswith("/response/"):
            return 200, {"ok": True}
        return 200, {"ok": False, "error": "unknown_method"}

    # -- reading what was sent ---------------------------------------------------------------
    def of(self, method: str) -> list[dict]:
        with self._cond:
            return [c["params"] for c in self.calls if c["method"] == method]

    def replies(self, method: str) -> list[dict]:
        """What the stub answered to each call of ``method`` (e.g. the ``ts`` it assigned)."""
        with self._cond:
            return [c["response"] for c in self.calls if c["method"] == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        """Poll (bounded) until ``count`` calls of ``method`` arrived; the answer is async."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [c["params"] for c in self.calls if c["method"] == method]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c["method"] for c in self.calls]
                    raise AssertionError(
                        f"expected {count}× {method} within {timeout}s; saw {seen}"
                    )
                self._cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_slack():
    stub = StubSlack()
    yield stub
    stub.close()


def sign(body: str, ts: int | None = None, secret: str = SIGNING_SECRET) -> dict:
    """Headers as Slack signs them: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


_event_ids = itertools.count(1)


def event_body(event: dict, event_id: str | None = None, **extra) -> str:
    body = {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0OPSCHAAL",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }
    body.update(extra)
    return json.dumps(body)


def mention(
    text: str,
    channel: str = "C0GENERAL",
    ts: str = "1700000000.000100",
    thread_ts: str | None = None,
    user: str = USER,
) -> dict:
    ev = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM,
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def dm(text: str, channel: str = "D0ASKER1", ts: str = "1700000000.000200", **extra) -> dict:
    ev = {
        "type": "message",
        "channel": channel,
        "user": USER,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": TEAM,
    }
    ev.update(extra)
    return ev


def command_body(text: str, response_url: str, channel: str = "C0GENERAL") -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": USER,
            "user_name": "tessa",
            "command": "/opschaal",
            "text": text,
            "api_app_id": "A0OPSCHAAL",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def action_body(
    action: dict, response_url: str, channel: str = "C0GENERAL", message: dict | None = None
) -> str:
    message = message or {
        "type": "message",
        "ts": "1700000100.000001",
        "bot_id": BOT_ID,
        "text": "…",
    }
    payload = {
        "type": "block_actions",
        "user": {"id": USER, "username": "tessa", "name": "tessa", "team_id": TEAM},
        "api_app_id": "A0OPSCHAAL",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "team": {"id": TEAM, "domain": "test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "general"},
        "message": message,
        "response_url": response_url,
        "actions": [
            {"type": "button", "block_id": "b1", "action_ts": "1700000300.000001", **action}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def slack_config_for(stub_slack, **kw):
    """Slack's own settings for the loopback Slack API (not read from the environment)."""
    from bots.slack.settings import SlackSettings

    return SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        api_url=stub_slack.api_url,
        _env_file=None,
        **kw,
    )


@pytest.fixture
def slack_config(stub_slack):
    return slack_config_for(stub_slack, public_channels=["C0PUBLIC"])


@pytest.fixture
def slack_settings(fake_assistant):
    return fake_assistant.settings.model_copy(update={"public_url": "https://opschaal.example.nl"})


@pytest.fixture
def slack_stack(fake_assistant, slack_settings, slack_config, stub_slack):
    """The service's FastAPI app with Slack mounted, its stores, and the stub Slack API."""
    from fastapi.testclient import TestClient

    from storage import Stores

    stores = Stores.from_settings(slack_settings)
    app = make_service(fake_assistant, stores, slack_settings, slack_config)
    with TestClient(app) as client:
        yield client, stores, stub_slack


def make_service(assistant, stores, settings, slack):
    """The real service app; it mounts Slack itself when the bot token and signing secret are set."""
    from bots.web.app import create_app

    app = create_app(
        settings=settings, assistant=assistant, stores=stores, channels={"slack": slack}
    )
    assert getattr(app.state, "slack_bolt", None) is not None, "create_app did not mount Slack"
    return app


def post(
    client,
    body: str,
    content_type: str = "application/json",
    headers: dict | None = None,
    **sign_kw,
):
    h = {"Content-Type": content_type, **sign(body, **sign_kw), **(headers or {})}
    return client.post("/slack/events", content=body.encode(), headers=h)


def all_text(obj) -> str:
    """Every string inside a block structure, for "never appears" checks."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return " ".join(all_text(v) for v in obj.values())
    if isinstance(obj, list):
        return " ".join(all_text(v) for v in obj)
    return ""
