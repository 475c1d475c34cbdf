"""Opschaalwijzer in Slack (slack-bolt): mentions, DMs, /opschaal, buttons and the App Home.

``mount(app, assistant, stores, settings, slack)`` adds ``POST /slack/events`` to the FastAPI service;
``opschaal slack --socket`` runs the same Bolt app over Socket Mode (see bots/slack/cli.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.config import Settings
    from assistant.service import Assistant
    from storage import Stores

    from .settings import SlackSettings

log = logging.getLogger("bots.slack")


def mount(
    app: FastAPI,
    assistant: Assistant,
    stores: Stores,
    settings: Settings | None = None,
    slack: SlackSettings | None = None,
) -> bool:
    """Mount the Slack endpoint on ``app`` when Slack is configured; False (and one log line)
    when SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is missing."""
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from starlette.concurrency import run_in_threadpool

    from .settings import SlackSettings

    settings = settings or assistant.settings
    slack = slack or SlackSettings()
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", slack.bot_token),
            ("SLACK_SIGNING_SECRET", slack.signing_secret),
        )
        if not value or not value.get_secret_value()
    ]
    if missing:
        log.warning("Slack staat uit: %s niet gezet (zie docs/slack.md)", " en ".join(missing))
        return False

    from .app import build_app

    # Mounted into the web app, Slack answers count in its /metrics (channel="slack").
    bolt = build_app(settings, assistant, stores, getattr(app.state, "metrics", None), slack)
    app.state.slack_bolt = bolt

    async def slack_events(request):
        body = await request.body()
        # Bolt's dispatch is synchronous (signature check, then ack); run it off the event loop.
        # Listeners continue in Bolt's own thread pool after the ack is returned.
        bolt_resp = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_resp)

    # A plain Starlette route: Bolt reads the raw body itself (the signature covers the bytes).
    app.add_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)
    log.info("Slack staat aan: POST /slack/events")
    return True
