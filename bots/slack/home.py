"""The App Home tab: the user's scaling plans, what the bot does, examples and the step plan."""

from __future__ import annotations

from slack_bolt import App

from .plan import PlanChannel


def register(app: App) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict, context, client) -> None:
        if event.get("tab", "home") != "home":
            return
        PlanChannel(context["opschaal"]).publish_home(client, event["user"])
