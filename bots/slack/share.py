"""Share back from Slack: ``/opschaal deel`` or the "Deel je ervaring" shortcut opens a form."""

from __future__ import annotations

import logging

from slack_bolt import App

from assistant.knowledge import Obstacle
from assistant.service import taxonomy
from curation.models import ContributionError
from curation.service import Sharing

from .core import CHANNEL, SlackBot

log = logging.getLogger("bots.slack")

CALLBACK = "opschaal_deel"
SHORTCUT = "opschaal_deel_shortcut"
SHARE_WORDS = {"deel", "delen", "share"}


def is_share(text: str) -> bool:
    return (text or "").strip().lower() in SHARE_WORDS


def _text_input(
    block_id: str,
    label: str,
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
) -> dict:
    block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "v", "multiline": multiline},
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def modal(obstacles: dict[str, Obstacle]) -> dict:
    options = [
        {"text": {"type": "plain_text", "text": o.label[:75]}, "value": k}
        for k, o in sorted(obstacles.items())
    ]
    yes_no = [
        {
            "text": {"type": "plain_text", "text": "Ja, anderen mogen mij hierover benaderen"},
            "value": "ja",
        },
        {"text": {"type": "plain_text", "text": "Nee"}, "value": "nee"},
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": "Deel je ervaring"},
        "submit": {"type": "plain_text", "text": "Insturen"},
        "close": {"type": "plain_text", "text": "Annuleren"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Een curator bekijkt je bijdrage voordat die in de kennisbank komt.",
                },
            },
            _text_input("title", "Titel"),
            _text_input("tried", "Wat heb je geprobeerd?", multiline=True),
            {
                "type": "input",
                "block_id": "obstacles",
                "label": {"type": "plain_text", "text": "Waar liep je tegenaan?"},
                "element": {
                    "type": "multi_static_select",
                    "action_id": "v",
                    "options": options[:100],
                    "max_selected_items": 5,
                },
            },
            _text_input("learned", "Wat heb je geleerd?", multiline=True),
            _text_input("organisation", "Organisatie"),
            {
                "type": "input",
                "block_id": "contact_ok",
                "label": {"type": "plain_text", "text": "Mogen anderen je benaderen?"},
                "element": {"type": "radio_buttons", "action_id": "v", "options": yes_no},
            },
            _text_input(
                "name", "Naam", optional=True, hint="Alleen nodig als je benaderd mag worden."
            ),
            _text_input("email", "E-mailadres", optional=True),
        ],
    }


def values(view: dict) -> dict:
    state = (view.get("state") or {}).get("values") or {}

    def get(block: str):
        el = (state.get(block) or {}).get("v") or {}
        if el.get("type") == "multi_static_select":
            return [o["value"] for o in el.get("selected_options") or []]
        if el.get("type") == "radio_buttons":
            opt = el.get("selected_option")
            return None if opt is None else opt.get("value") == "ja"
        return el.get("value")

    data = {
        k: get(k)
        for k in (
            "title",
            "tried",
            "obstacles",
            "learned",
            "organisation",
            "contact_ok",
            "name",
            "email",
        )
    }
    return {k: v for k, v in data.items() if v is not None}


def open_form(bot: SlackBot, client, trigger_id: str) -> None:
    client.views_open(trigger_id=trigger_id, view=modal(taxonomy(bot.assistant)))


def register(app: App) -> None:
    @app.shortcut(SHORTCUT)
    def on_shortcut(ack, shortcut: dict, context, client) -> None:
        ack()
        open_form(context["opschaal"], client, shortcut["trigger_id"])

    @app.view(CALLBACK)
    def on_submit(ack, view: dict, body: dict, context, client) -> None:
        bot: SlackBot = context["opschaal"]
        try:
            cid = Sharing(bot.assistant, bot.stores, bot.settings).submit(
                values(view), channel=CHANNEL
            )
        except ContributionError as exc:
            errors = {k: v[:150] for k, v in exc.fields.items()} or {"title": str(exc)[:150]}
            ack(response_action="errors", errors=errors)
            return
        ack(
            response_action="update",
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "Dank je!"},
                "close": {"type": "plain_text", "text": "Sluiten"},
                "blocks": [
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": f"Je bijdrage ({cid}) staat klaar voor een curator.",
                        },
                    }
                ],
            },
        )
        log.info("bijdrage %s ontvangen via slack", cid)
