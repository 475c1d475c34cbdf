"""What every Slack listener shares: audience, threads, idempotency, and answering a question.

Listeners get this object from Bolt's ``context["opschaal"]`` (a global middleware in app.py
puts it there), so each listener module only needs ``register(app)``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.config import Settings
from assistant.models import Answer
from assistant.service import Assistant, UserError
from assistant.text import detect_language
from bots.session import ChannelSession
from plans.service import PlanService
from storage import PlanStore, Stores

from . import blocks as bk
from .settings import SlackSettings

log = logging.getLogger("bots.slack")

CHANNEL = "slack"
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_PRIVATE = re.compile(
    r"^\s*(?:alleen[\s-]voor[\s-]mij|priv[eé]|private|only[\s-]me|-p|--priv[eé])\b\s*[:,-]?\s*",
    re.I,
)
_HELP = {"help", "hulp", "?", "-h", "--help"}


def strip_mentions(text: str) -> str:
    return " ".join(_MENTION.sub(" ", text or "").split())


def split_private(text: str) -> tuple[bool, str]:
    """``"privé hoe …"`` → (True, ``"hoe …"``): the "Alleen voor mij" option in a message or command."""
    m = _PRIVATE.match(text or "")
    if m:
        return True, text[m.end() :].strip()
    return False, (text or "").strip()


def is_help(text: str) -> bool:
    return not text.strip() or text.strip().lower() in _HELP


@dataclass
class Reply:
    """Where and how an answer goes."""

    channel: str
    user: str
    #: Thread root to answer in; None answers in the channel/DM itself.
    thread_ts: str | None = None
    #: Conversation key: the thread (or the DM) whose history follow-ups use.
    conversation_key: str = ""
    ephemeral: bool = False
    #: Set for slash commands: the question is not visible to others, so the answer shows it.
    asked_by: str | None = None
    #: Slash commands and ephemeral answers go through the response_url Bolt gives us.
    respond: Callable[..., Any] | None = None
    #: True when the user's message was already in a thread (ephemeral replies can go there).
    existing_thread: bool = False


class SlackBot:
    def __init__(
        self,
        assistant: Assistant,
        stores: Stores,
        settings: Settings,
        metrics=None,
        slack: SlackSettings | None = None,
    ) -> None:
        self.assistant = assistant
        self.stores = stores
        self.settings = settings
        self.slack = slack or SlackSettings()
        self.session = ChannelSession(assistant, stores, CHANNEL, metrics)
        self.plans = PlanService(assistant, PlanStore(stores))

    # -- policy --------------------------------------------------------------------------------
    def audience_for(self, channel: str, body: dict | None = None) -> str:
        """Slack is an internal workspace, except channels configured as public and channels
        shared with other organisations (Slack Connect)."""
        if channel in set(self.slack.public_channels):
            return "public"
        if body and body.get("is_ext_shared_channel"):
            return "public"
        return "internal"

    def phase_names(self) -> dict[str, str]:
        try:
            return {p["key"]: p["name"] for p in self.assistant.step_plan()}
        except Exception:  # the names are a nicety; an answer with phase keys is still right
            return {}

    def keep_private(self, answer: Answer, reply: Reply) -> bool:
        """With OPSCHAAL_SLACK_CITED_ONLY, a channel only sees answers that cite sources."""
        in_channel = not reply.ephemeral and not reply.channel.startswith("D")
        return self.slack.cited_only and in_channel and (answer.abstained or not answer.citations)

    def first_time(self, key: str) -> bool:
        return self.stores.first_time(f"slack:{key}")

    # -- answering -----------------------------------------------------------------------------
    def answer(
        self, client: WebClient, question: str, reply: Reply, body: dict | None = None
    ) -> Answer | None:
        """Post a placeholder, ask the assistant with the thread's history, and replace the
        placeholder with the answer. Ephemeral answers cannot be edited, so they are sent once."""
        lang = detect_language(question) if question else "nl"
        audience = self.audience_for(reply.channel, body)
        placeholder_ts = None
        if not reply.ephemeral:
            placeholder_ts = self._post_placeholder(client, reply, lang)
            if placeholder_ts is None and reply.respond is None:
                return None
        key = reply.conversation_key or (
            f"{reply.channel}:{placeholder_ts}"
            if placeholder_ts
            else f"{reply.channel}:once:{uuid.uuid4().hex}"
        )
        try:
            conv = self.session.conversation(key, audience)
            history = self.session.history(conv)
            answer = self._ask(client, reply, placeholder_ts, question, history, audience)
            answer = self.session.record(answer, conv)
        except UserError as exc:
            self._deliver(client, reply, placeholder_ts, str(exc), bk.error_blocks(str(exc)))
            return None
        except Exception as exc:
            log.error("Slack: vraag beantwoorden mislukt (%s)", type(exc).__name__)
            msg = (
                "Er ging iets mis bij het zoeken; probeer het zo nog eens."
                if lang == "nl"
                else "Something went wrong while searching; please try again shortly."
            )
            self._deliver(client, reply, placeholder_ts, msg, bk.error_blocks(msg))
            return None
        if self.keep_private(answer, reply):
            self._withdraw(client, reply, placeholder_ts)
            placeholder_ts = None
            reply.ephemeral = True
            reply.thread_ts = reply.thread_ts if reply.existing_thread else None
        blocks = bk.answer_blocks(
            answer,
            public_url=self.settings.public_url,
            phase_names=self.phase_names(),
            asked_by=reply.asked_by,
            ephemeral=reply.ephemeral,
        )
        self._deliver(client, reply, placeholder_ts, bk.fallback_text(answer), blocks)
        return answer

    def _ask(
        self,
        client: WebClient,
        reply: Reply,
        placeholder_ts: str | None,
        question: str,
        history,
        audience: str,
    ) -> Answer:
        """Ask; with a generative model, show the text growing in the placeholder meanwhile.

        The extractive answer is there at once, so streaming it would only cost API calls.
        Updates are throttled (OPSCHAAL_SLACK_STREAM_SECONDS) to stay inside Slack's rate limit
        for chat.update; the final update with the full blocks always follows.
        """
        if self.settings.llm == "none" or not placeholder_ts or reply.ephemeral:
            return self.assistant.ask(question, history=history, audience=audience)
        answer: Answer | None = None
        shown, parts = "", []
        last = time.monotonic()
        for kind, value in self.assistant.stream(question, history=history, audience=audience):
            if kind == "answer":
                answer = value
                continue
            parts.append(value)
            text = "".join(parts).strip()
            if text != shown and time.monotonic() - last >= self.slack.stream_seconds:
                try:
                    client.chat_update(
                        channel=reply.channel, ts=placeholder_ts, text=bk.cut(text, 3000) + " …"
                    )
                    shown, last = text, time.monotonic()
                except (SlackApiError, OSError):
                    pass  # progress is a nicety; the final update below still comes
        if answer is None:
            raise RuntimeError("assistant stream ended without an answer")
        return answer

    def _withdraw(self, client: WebClient, reply: Reply, placeholder_ts: str | None) -> None:
        if not placeholder_ts:
            return
        try:
            client.chat_delete(channel=reply.channel, ts=placeholder_ts)
        except SlackApiError as exc:
            log.warning(
                "Slack: plaatshouder verwijderen mislukt in %s (%s)",
                reply.channel,
                exc.response.get("error"),
            )

    def _post_placeholder(self, client: WebClient, reply: Reply, lang: str) -> str | None:
        try:
            resp = client.chat_postMessage(
                channel=reply.channel, thread_ts=reply.thread_ts, text=bk.placeholder(lang)
            )
            return resp.get("ts")
        except (SlackApiError, OSError) as exc:
            err = (
                exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            )
            log.warning("Slack: plaatshouder plaatsen mislukt in %s (%s)", reply.channel, err)
            return None

    def _deliver(
        self,
        client: WebClient,
        reply: Reply,
        placeholder_ts: str | None,
        text: str,
        blocks: list[dict],
    ) -> None:
        try:
            if reply.ephemeral:
                if reply.respond is not None:
                    reply.respond(
                        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
                    )
                else:
                    client.chat_postEphemeral(
                        channel=reply.channel,
                        user=reply.user,
                        thread_ts=reply.thread_ts,
                        text=text,
                        blocks=blocks,
                    )
            elif placeholder_ts:
                client.chat_update(
                    channel=reply.channel, ts=placeholder_ts, text=text, blocks=blocks
                )
            elif reply.respond is not None:
                # The bot is not in this channel (slash command): answer through the response_url.
                reply.respond(
                    text=text, blocks=blocks, response_type="in_channel", replace_original=False
                )
        except SlackApiError as exc:
            log.warning(
                "Slack: antwoord plaatsen mislukt in %s (%s)",
                reply.channel,
                exc.response.get("error"),
            )
        except OSError as exc:  # Slack (or SLACK_API_URL) unreachable; one line, no traceback
            log.warning(
                "Slack: antwoord plaatsen mislukt in %s (%s)", reply.channel, type(exc).__name__
            )

    # -- people ----------------------------------------------------------------------------------
    def post_help(self, client: WebClient, channel: str, thread_ts: str | None) -> None:
        """What the bot can do, in the channel or thread where someone asked for help."""
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text="Opschaalwijzer: hulp",
            blocks=bk.help_blocks(),
        )

    def tell(self, client: WebClient, body: dict, text: str, respond=None) -> None:
        """A short private note to whoever clicked, in the place they clicked."""
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        try:
            if respond is not None and body.get("response_url"):
                respond(text=text, response_type="ephemeral", replace_original=False)
            elif channel and user:
                thread = (body.get("message") or {}).get("thread_ts")
                client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread)
        except SlackApiError as exc:
            log.warning("Slack: melding aan gebruiker mislukt (%s)", exc.response.get("error"))
