"""@mentions in channels: answer in a thread; follow-ups in that thread share its history."""

from __future__ import annotations

from slack_bolt import App

from .core import Reply, SlackBot, is_help, split_private, strip_mentions


def register(app: App) -> None:
    @app.event("app_mention")
    def on_mention(event: dict, body: dict, context, client) -> None:
        bot: SlackBot = context["opschaal"]
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return
        channel, ts = event["channel"], event["ts"]
        # The same message can arrive as app_mention and as message.im; answer it once.
        if not bot.first_time(f"msg:{channel}:{ts}"):
            return
        private, question = split_private(strip_mentions(event.get("text", "")))
        existing_thread = event.get("thread_ts")
        root = existing_thread or ts
        if is_help(question):
            bot.post_help(client, channel, root)
            return
        reply = Reply(
            channel=channel,
            user=event["user"],
            # Ephemeral messages only show in a thread that already exists.
            thread_ts=existing_thread if private else root,
            conversation_key=f"{channel}:{root}",
            ephemeral=private,
            existing_thread=bool(existing_thread),
        )
        bot.answer(client, question, reply, body)
