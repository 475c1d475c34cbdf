"""Fixtures for the web channel: an app over the fast fake assistant, and a real uvicorn server
on a free loopback port for browser and load tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient


@dataclass
class Web:
    app: object
    client: TestClient
    stores: object
    settings: object


@pytest.fixture
def make_web(fake_assistant):
    """Build an app over ``fake_assistant`` with settings overrides (e.g. rate_limit_per_minute=3)."""
    from bots.web import create_app
    from storage import Stores

    def make(assistant=None, channels=None, **overrides) -> Web:
        assistant = assistant or fake_assistant
        settings = assistant.settings.model_copy(update=overrides)
        stores = Stores.from_settings(settings)
        app = create_app(settings, assistant, stores, channels=channels)
        return Web(app, TestClient(app, raise_server_exceptions=False), stores, settings)

    return make


@pytest.fixture
def web(make_web) -> Web:
    return make_web()


def sse_events(text: str) -> list[tuple[str, str]]:
    """Parse an SSE body into (event, data) pairs, skipping comments/pings."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            out.append((event, "\n".join(data)))
    return out


class ServerThread:
    """uvicorn serving ``app`` on a free loopback port in a daemon thread."""

    def __init__(self, app) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        import time

        import httpx

        self.thread.start()
        for _ in range(600):
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("testserver werd niet gereed")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
