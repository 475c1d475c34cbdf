"""Build the Bolt app: credentials, the Web API client, and the listeners. Nothing else."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from assistant.config import Settings
from assistant.service import Assistant
from storage import Stores

from . import actions, command, dms, home, mentions, plan, share
from .core import SlackBot
from .settings import SlackSettings

SLACK_API = "https://slack.com/api/"
LISTENERS = (mentions, dms, command, actions, home, share, plan)


def api_base(slack: SlackSettings) -> str:
    url = slack.api_url or SLACK_API
    return url if url.endswith("/") else url + "/"


def _quiet_logger(name: str) -> logging.Logger:
    # Bolt logs rejected request bodies at INFO and slack_sdk logs every request and response
    # body at DEBUG; those hold user text and contact details, so keep them at WARNING unless an
    # admin turns this logger up on purpose.
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    return logger


def build_app(
    settings: Settings,
    assistant: Assistant,
    stores: Stores,
    metrics=None,
    slack: SlackSettings | None = None,
) -> App:
    slack = slack or SlackSettings()
    token = slack.bot_token.get_secret_value() if slack.bot_token else None
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else ""
    client = WebClient(
        token=token, base_url=api_base(slack), logger=_quiet_logger("bots.slack.web")
    )
    app = App(
        client=client,
        signing_secret=secret,
        # auth.test runs on the first request instead, so the service starts even when Slack is
        # briefly unreachable.
        token_verification_enabled=False,
        process_before_response=False,
        logger=_quiet_logger("bots.slack.bolt"),
        name="opschaal",
    )
    bot = SlackBot(assistant, stores, settings, metrics, slack)

    @app.middleware
    def attach(context, body, next):  # noqa: A002 - Bolt passes it by this name
        context["opschaal"] = bot
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not bot.first_time(f"event:{event_id}"):
            # A retry (X-Slack-Retry-Num) of an event we already took: say 200 so Slack stops.
            return BoltResponse(status=200, body="")
        return next()

    for module in LISTENERS:
        module.register(app)
    return app
