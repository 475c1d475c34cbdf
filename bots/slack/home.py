"""The App Home tab: what the bot does, example questions, and the step plan."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from . import blocks as bk
from .core import SlackBot

log = logging.getLogger("bots.slack")


def register(app: App) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict, context, client) -> None:
        bot: SlackBot = context["opschaal"]
        if event.get("tab", "home") != "home":
            return
        try:
            plan = bot.assistant.step_plan()
        except Exception as exc:  # an index that is not built yet should not break the tab
            log.warning(
                "Slack: stappenplan niet beschikbaar voor App Home (%s)", type(exc).__name__
            )
            plan = []
        try:
            client.views_publish(user_id=event["user"], view=bk.home_view(plan))
        except SlackApiError as exc:
            log.warning("Slack: App Home publiceren mislukt (%s)", exc.response.get("error"))
