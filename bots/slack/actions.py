"""Buttons on an answer: 👍/👎, per-source feedback, and "Stel me voor" (an intro by DM)."""

from __future__ import annotations

import json
import logging

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from assistant.messages import message
from assistant.service import PersonUnavailable
from storage import NotFound

from . import blocks as bk
from .core import CHANNEL, SlackBot

log = logging.getLogger("bots.slack")

_GONE = {
    "nl": "Dit antwoord is niet meer bewaard; stel je vraag opnieuw.",
    "en": "This answer is no longer stored; please ask again.",
}


def _language(bot: SlackBot, answer_id: str) -> str:
    try:
        return bot.stores.answer(answer_id).get("language", "nl")
    except NotFound:
        return "nl"


def register(app: App) -> None:
    def feedback(rating: str):
        def on_feedback(ack, action: dict, body: dict, context, client, respond) -> None:
            ack()
            bot: SlackBot = context["opschaal"]
            answer_id = action.get("value", "")
            lang = _language(bot, answer_id)
            try:
                bot.stores.add_feedback(answer_id, rating, CHANNEL)
            except NotFound:
                bot.tell(client, body, _GONE[lang], respond)
                return
            bot.tell(client, body, message("thanks_slack", lang), respond)

        return on_feedback

    app.action(bk.ACTION_UP)(feedback("up"))
    app.action(bk.ACTION_DOWN)(feedback("down"))

    @app.action(bk.ACTION_SOURCE)
    def on_source(ack, action: dict, body: dict, context, client, respond) -> None:
        ack()
        bot: SlackBot = context["opschaal"]
        value = (action.get("selected_option") or {}).get("value", "")
        answer_id, _, n = value.partition("|")
        try:
            stored = bot.stores.answer(answer_id)
            doc_id = next(
                (c["doc_id"] for c in stored.get("citations", []) if str(c["n"]) == n), None
            )
            bot.stores.add_feedback(
                answer_id, "down", CHANNEL, comment=f"bron [{n}] klopt niet", doc_id=doc_id
            )
        except NotFound:
            bot.tell(client, body, _GONE["nl"], respond)
            return
        bot.tell(client, body, message("thanks_slack", stored.get("language", "nl")), respond)

    @app.action(bk.ACTION_INTRO)
    def on_intro(ack, action: dict, body: dict, context, client, respond) -> None:
        ack()
        bot: SlackBot = context["opschaal"]
        user = body["user"]["id"]
        try:
            ref = json.loads(action.get("value") or "{}")
            stored = bot.stores.answer(str(ref.get("a")))
        except (ValueError, NotFound):
            bot.tell(client, body, _GONE["nl"], respond)
            return
        lang = stored.get("language", "nl")
        # Only people this answer recommended: a forged button value gets nobody else's details.
        person = next((p for p in stored.get("people", []) if p.get("id") == ref.get("p")), None)
        try:
            if person is None:
                raise PersonUnavailable(
                    "deze persoon hoort niet bij dit antwoord; kies iemand uit de aanbevelingen"
                )
            intro = bot.assistant.intro(
                person["id"], stored["question"], asker_name=_real_name(client, user), language=lang
            )
        except PersonUnavailable as exc:
            bot.tell(client, body, f":warning: {exc}", respond)
            return
        try:
            dm = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(
                channel=dm,
                text=bk.cut(intro, bk.FALLBACK_TEXT),
                blocks=bk.intro_blocks(person, intro, lang),
            )
        except SlackApiError as exc:
            log.warning("Slack: introductie-DM sturen mislukt (%s)", exc.response.get("error"))
            bot.tell(
                client,
                body,
                "De introductie kon niet als DM verstuurd worden; probeer het later opnieuw.",
                respond,
            )
            return
        done = (
            f"Ik heb je een introductie voor {person['name']} gestuurd in een DM."
            if lang == "nl"
            else f"I sent you an introduction for {person['name']} in a DM."
        )
        bot.tell(client, body, done, respond)


def _real_name(client, user: str) -> str | None:
    """The asker's display name for the intro's signature; needs users:read, optional."""
    try:
        profile = client.users_info(user=user)["user"]
    except (SlackApiError, KeyError, TypeError):
        return None
    return (profile.get("real_name") or (profile.get("profile") or {}).get("real_name")) or None
