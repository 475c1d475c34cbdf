"""``/opschaal <vraag>``; empty or ``help`` shows help, ``privé <vraag>`` answers only to you."""

from __future__ import annotations

import uuid

from slack_bolt import App

from assistant.text import detect_language

from . import blocks as bk
from .core import Reply, SlackBot, is_help, split_private
from .plan import on_command as plan_command
from .plan import split_plan
from .share import is_share, open_form

COMMAND = "/opschaal"


def register(app: App) -> None:
    @app.command(COMMAND)
    def on_command(ack, command: dict, body: dict, context, client, respond) -> None:
        bot: SlackBot = context["opschaal"]
        private, question = split_private(command.get("text", ""))
        is_plan, rest = split_plan(question)
        if is_plan and not private:
            ack()
            plan_command(bot, client, command, rest, respond)
            return
        if is_share(question):
            ack()
            open_form(bot, client, command["trigger_id"])
            return
        if is_help(question):
            ack(
                response_type="ephemeral",
                text="Opschaalwijzer: hulp",
                blocks=bk.help_blocks("nl", COMMAND),
            )
            return
        lang = detect_language(question)
        channel, user = command["channel_id"], command["user_id"]
        if private:
            # Ephemeral messages cannot be edited later, so the placeholder is the ack itself.
            ack(response_type="ephemeral", text=bk.placeholder(lang))
            reply = Reply(
                channel=channel,
                user=user,
                conversation_key=f"{channel}:private:{uuid.uuid4().hex}",
                ephemeral=True,
                respond=respond,
            )
        else:
            ack()
            # The placeholder becomes the thread root, so an @mention in that thread follows up.
            reply = Reply(channel=channel, user=user, asked_by=user, respond=respond)
        bot.answer(client, question, reply, body)
