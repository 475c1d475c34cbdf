"""Direct messages: answered in the DM itself; the DM (or a thread in it) is the conversation."""

from __future__ import annotations

from slack_bolt import App

from .core import Reply, SlackBot, is_help, split_private, strip_mentions


def register(app: App) -> None:
    @app.event("message")
    def on_message(event: dict, body: dict, context, client) -> None:
        bot: SlackBot = context["opschaal"]
        if event.get("channel_type") != "im":
            return
        # Edits, deletions, joins and every bot (including this one) are not questions.
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        if event.get("user") == context.bot_user_id:
            return
        channel, ts = event["channel"], event["ts"]
        if not bot.first_time(f"msg:{channel}:{ts}"):
            return
        _, question = split_private(strip_mentions(event.get("text", "")))
        thread = event.get("thread_ts")
        if is_help(question):
            bot.post_help(client, channel, thread)
            return
        reply = Reply(
            channel=channel,
            user=event["user"],
            thread_ts=thread,
            conversation_key=f"{channel}:{thread}" if thread else f"{channel}:dm",
            existing_thread=bool(thread),
        )
        bot.answer(client, question, reply, body)
