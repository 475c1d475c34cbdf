"""A loopback stand-in for the Bot Framework connector service, and Teams activities.

The stub is a real HTTP server on 127.0.0.1. Activities posted to the bot carry its address as
``serviceUrl``, so the Agents SDK's own connector client posts the replies there; the stub
records ``POST /v3/conversations/{id}/activities[/{replyToId}]`` and answers ``{"id": ...}``
like the real service does.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

import pytest

BOT_ID = "28:opschaal-bot-test"
BOT_NAME = "Opschaalwijzer"
USER_ID = "29:user-aad-1"
USER_NAME = "Test Gebruiker"
USER_UPN = "test.gebruiker@example.org"
AAD_ID = "0f0f0f0f-aaaa-bbbb-cccc-000000000001"
TENANT = "00000000-0000-0000-0000-00000000feed"
CARD = "application/vnd.microsoft.card.adaptive"
SDK_ENV = (
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__AUTHTYPE",
)


class StubConnector:
    """Records what the bot sends; ``calls`` holds ``{"method", "path", "conversation",
    "reply_to", "activity", "auth", "id"}`` (for a PUT, ``reply_to`` is the updated activity)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        #: Members the connector knows (GET .../members/{id}), with their Teams fields.
        self.members: dict[str, dict] = {
            USER_ID: {"userPrincipalName": USER_UPN, "aadObjectId": AAD_ID, "name": USER_NAME}
        }
        self.lookups: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = [unquote(p) for p in urlparse(self.path).path.strip("/").split("/")]
                ok = (
                    len(parts) in (4, 5)
                    and parts[:2] == ["v3", "conversations"]
                    and parts[3] == "activities"
                )
                if ok:
                    with stub._lock:
                        new_id = parts[4] if self.command == "PUT" else f"reply-{next(stub._ids)}"
                        stub.calls.append(
                            {
                                "method": self.command,
                                "id": new_id,
                                "path": self.path,
                                "conversation": parts[2],
                                "reply_to": parts[4] if len(parts) == 5 else None,
                                "activity": json.loads(raw or b"{}"),
                                "auth": self.headers.get("Authorization"),
                            }
                        )
                data = json.dumps(
                    {"id": new_id} if ok else {"error": {"code": "NotFound"}}
                ).encode()
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = [unquote(p) for p in urlparse(self.path).path.strip("/").split("/")]
                member = None
                if (
                    len(parts) == 5
                    and parts[:2] == ["v3", "conversations"]
                    and parts[3] == "members"
                ):
                    with stub._lock:
                        stub.lookups.append(parts[4])
                        member = stub.members.get(parts[4])
                data = json.dumps(
                    {"id": parts[4], **member}
                    if member
                    else {"error": {"code": "MemberNotFoundInConversation"}}
                ).encode()
                self.send_response(200 if member else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):  # update activity: a plan card after a tick, stream timeouts
                self.do_POST()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- views -------------------------------------------------------------------------------
    def activities(self, conversation: str | None = None) -> list[dict]:
        with self._lock:
            return [c["activity"] for c in self.calls if conversation in (None, c["conversation"])]

    def messages(self, conversation: str | None = None) -> list[dict]:
        return [a for a in self.activities(conversation) if a.get("type") == "message"]

    def cards(self, conversation: str | None = None) -> list[dict]:
        return [
            att["content"]
            for m in self.messages(conversation)
            for att in m.get("attachments") or []
            if att.get("contentType") == CARD
        ]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


@pytest.fixture
def connector():
    stub = StubConnector()
    yield stub
    stub.close()


@pytest.fixture
def no_sdk_env(monkeypatch):
    for key in SDK_ENV:
        monkeypatch.delenv(key, raising=False)


def message(
    service_url: str,
    text: str | None = None,
    *,
    conversation: str | None = None,
    personal: bool = True,
    mention: bool = False,
    value: dict | None = None,
    channel_id: str = "msteams",
    reply_to: str | None = None,
) -> dict:
    """A message activity as Teams sends it (Bot Framework schema, camelCase)."""
    conversation = conversation or f"a:personal-{uuid.uuid4().hex[:8]}"
    conv = {"id": conversation, "tenantId": TENANT}
    if personal:
        conv["conversationType"] = "personal"
    else:
        conv.update({"conversationType": "channel", "isGroup": True})
    activity = {
        "type": "message",
        "id": f"msg-{uuid.uuid4().hex[:10]}",
        "timestamp": "2026-11-28T10:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": channel_id,
        "from": {
            "id": USER_ID,
            "name": USER_NAME,
            "aadObjectId": AAD_ID,
        },
        "conversation": conv,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "nl-NL",
    }
    if text is not None:
        activity["text"] = f"<at>{BOT_NAME}</at> {text}" if mention else text
        activity["textFormat"] = "plain"
    if mention:
        activity["entities"] = [
            {
                "type": "mention",
                "text": f"<at>{BOT_NAME}</at>",
                "mentioned": {"id": BOT_ID, "name": BOT_NAME},
            }
        ]
    if value is not None:
        activity["value"] = value
    if reply_to is not None:  # a card submit names the card it came from
        activity["replyToId"] = reply_to
    return activity
