"""The Teams bot: an ``AgentApplication`` (Microsoft 365 Agents SDK) that calls ``Assistant``.

Flow of one message: the SDK validates the JWT (``jwt_authorization_decorator``), we check the
activity is well formed (400 otherwise, never a 500), the SDK's ``CloudAdapter`` runs the turn,
and ``on_message`` answers. History lives in the shared stores per Teams conversation id, so a
thread in a channel and a personal chat each have their own.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator

from fastapi import Request
from fastapi.responses import JSONResponse
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import (
    AgentApplication,
    Citation,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.app.typing_indicator import TypingOptions
from microsoft_agents.hosting.fastapi import CloudAdapter, start_agent_process

from assistant.messages import message
from assistant.models import Answer
from assistant.service import PersonUnavailable, UserError, taxonomy
from assistant.text import detect_language
from bots.session import ChannelSession

from . import cards, share
from . import plan as plans
from .auth import TeamsAuth, is_loopback_host, is_loopback_url
from .settings import TeamsSettings

log = logging.getLogger("bots.teams")

CHANNEL = "teams"


def t(lang: str | None, key: str) -> str:
    return message(key, lang)


_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{1,200}>")


def clean_text(text: str | None) -> str:
    """The question as the user meant it: mention tags, HTML and odd spaces removed."""
    if not text:
        return ""
    text = _AT_TAG.sub("", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text).replace("\xa0", " ")
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"


def is_group(activity: Activity) -> bool:
    conv = activity.conversation
    return bool(conv and (conv.is_group or conv.conversation_type in ("channel", "groupChat")))


def mentions_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    return any(m.mentioned and bot_id and m.mentioned.id == bot_id for m in activity.get_mentions())


async def iterate_in_thread(make: Callable[[], Iterator]) -> AsyncIterator:
    """Run a blocking generator in a worker thread, yielding its items on the event loop, so the
    SDK's typing indicator and stream updates keep flowing while the assistant computes."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def run() -> None:
        try:
            for item in make():
                loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
        except BaseException as exc:  # handed to the event loop, re-raised there
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("done", None))

    worker = loop.run_in_executor(None, run)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                break
    finally:
        await worker


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


class TeamsBot:
    def __init__(
        self, assistant, stores, settings, auth: TeamsAuth, metrics=None, teams=None
    ) -> None:
        self.assistant = assistant
        self.stores = stores
        self.session = ChannelSession(assistant, stores, CHANNEL, metrics)
        self.plans = plans.TeamsPlans(self)
        self.settings = settings
        self.auth = auth
        self.audience = (teams or TeamsSettings()).audience
        public_url = getattr(settings, "public_url", None)
        self.public_url = str(public_url) if public_url else None

        self.adapter = CloudAdapter(connection_manager=auth.connection_manager)
        # The SDK's default prints a traceback and sends the raw exception text to the user.
        self.adapter.on_turn_error = self._on_adapter_error
        self.app: AgentApplication[TurnState] = AgentApplication[TurnState](
            storage=MemoryStorage(),
            connection_manager=auth.connection_manager,
            remove_recipient_mention=True,
            start_typing_timer=True,
            # First typing right away; Teams hides it after ~3 s, so repeat at that pace.
            typing=TypingOptions(initial_delay_ms=0, interval_ms=3000),
            # History lives in the shared SQLite stores, not in SDK conversation state.
            turn_state_factory=TurnState,
        )
        self.app.conversation_update("membersAdded")(self.on_members_added)
        self.app.activity(ActivityTypes.message)(self.on_message)
        self.app.error(self.on_error)

    # -- HTTP --------------------------------------------------------------------------------
    async def endpoint(self, request: Request):
        """POST /api/messages, after the SDK's JWT check has put the claims on the request."""
        claims = getattr(request.state, "claims_identity", None)
        anonymous = claims is None or claims.allow_anonymous
        if anonymous and not is_loopback_host(request.client.host if request.client else None):
            # Token-less calls exist only in dev mode, and only from this machine: a bind
            # address that slipped past the settings check still cannot open the bot up.
            return JSONResponse({"error": "Authorization header not found"}, status_code=401)
        try:
            body = await request.json()
        except Exception:
            return bad_request("de body is geen geldige JSON; stuur een Bot Framework-activity")
        if not isinstance(body, dict):
            return bad_request("de body moet een JSON-object (een Bot Framework-activity) zijn")
        try:
            activity = Activity.model_validate(body)
        except Exception as exc:
            where = ""
            errors = getattr(exc, "errors", None)
            if callable(errors):
                first = (errors() or [{}])[0]
                where = (
                    " bij " + ".".join(str(x) for x in first.get("loc", ()))
                    if first.get("loc")
                    else ""
                )
            return bad_request(f"geen geldige activity{where}; volg het Bot Framework-schema")
        if not activity.type or not activity.conversation or not activity.conversation.id:
            return bad_request("de activity mist type of conversation.id")
        if not activity.channel_id:
            return bad_request("de activity mist channelId")
        if activity.type in (
            ActivityTypes.message,
            ActivityTypes.conversation_update,
            ActivityTypes.invoke,
        ):
            if not activity.service_url:
                return bad_request("de activity mist serviceUrl")
            if activity.type == ActivityTypes.message and not (
                activity.from_property and activity.from_property.id
            ):
                return bad_request("de activity mist from.id")
        if anonymous and activity.service_url and not is_loopback_url(activity.service_url):
            # Token-less calls exist only in dev mode; never let them make us post elsewhere.
            return bad_request("in ontwikkelmodus moet serviceUrl naar loopback wijzen")
        try:
            return await start_agent_process(request, self.app, self.adapter)
        except Exception as exc:
            log.error("Teams: activity verwerken mislukt (%s)", type(exc).__name__)
            return JSONResponse(
                {"error": "antwoord kon niet bij Teams worden afgeleverd"}, status_code=502
            )

    # -- handlers ----------------------------------------------------------------------------
    async def on_members_added(self, context: TurnContext, state: TurnState) -> None:
        act = context.activity
        bot_id = act.recipient.id if act.recipient else None
        if any(m.id == bot_id for m in (act.members_added or [])) and not is_group(act):
            await context.send_activity(t("nl", "welcome"))

    async def on_message(self, context: TurnContext, state: TurnState) -> None:
        act = context.activity
        # Teams re-sends an activity when we were slow; answer it once.
        if act.id and not self.stores.first_time(f"teams:{act.conversation.id}:{act.id}"):
            return
        if isinstance(act.value, dict) and act.value.get(cards.SUBMIT_KEY):
            await self.on_submit(context, act.value)
            return
        group = is_group(act)
        if group and not mentions_bot(act):
            return
        question = clean_text(act.text)
        if not question:
            await context.send_activity(t("nl", "help"))
            return
        routed = plans.route(question)
        if routed is not None:
            await self.plans.on_text(context, *routed, group=group)
            return
        if share.is_share(question):
            card = share.share_card(taxonomy(self.assistant))
            await context.send_activity(
                Activity(type=ActivityTypes.message, attachments=[cards.attachment(card)])
            )
            return
        conv_id = self.session.conversation(act.conversation.id, self.audience)
        history = self.session.history(conv_id)
        kwargs = {"history": history, "audience": self.audience}
        stream = context.streaming_response
        if not group and stream.is_streaming_channel:
            await self._answer_streaming(context, question, conv_id, kwargs)
            return
        try:
            answer = await asyncio.to_thread(self.assistant.ask, question, **kwargs)
        except UserError as exc:
            await context.send_activity(str(exc))
            return
        answer = self.session.record(answer, conv_id)
        card = cards.answer_card(answer, self.public_url, include_text=True)
        reply = Activity(
            type=ActivityTypes.message,
            attachments=[cards.attachment(card)],
            summary=answer.answer[:120],
        )
        await context.send_activity(reply)

    async def _answer_streaming(
        self, context: TurnContext, question: str, conv_id: str, kwargs: dict
    ) -> None:
        stream = context.streaming_response
        stream.queue_informative_update(t(detect_language(question), "thinking"))
        answer: Answer | None = None
        streamed: list[str] = []
        try:
            async for kind, value in iterate_in_thread(
                lambda: self.assistant.stream(question, **kwargs)
            ):
                if kind == "delta":
                    streamed.append(value)
                    stream.queue_text_chunk(value)
                elif kind == "answer":
                    answer = value
        except UserError as exc:
            stream.queue_text_chunk(str(exc))
            await stream.end_stream()
            return
        if answer is None:
            raise RuntimeError("assistant stream ended without an answer")
        answer = self.session.record(answer, conv_id)
        cites = sorted(answer.citations, key=lambda c: c.n)
        # The SDK numbers citation entities 1..N in list order; only hand them over when that
        # matches the [n] markers in the text, else the card's links are the citations.
        if [c.n for c in cites] == list(range(1, len(cites) + 1)):
            # Teams rejects citation names over 80 and abstracts over 160 characters.
            stream.set_citations(
                [
                    Citation(
                        content=clip(c.snippet, 160),
                        title=clip(c.title, 80),
                        url=cards.source_url(c, self.public_url),
                    )
                    for c in cites
                ]
            )
        stream.set_generated_by_ai_label(True)
        # A generative answer can change after streaming (a citation dropped, a fallback to the
        # extractive answer): then the card carries the final text, which is the one that counts.
        final_differs = "".join(streamed).strip() != answer.answer.strip()
        card = cards.answer_card(answer, self.public_url, include_text=final_differs)
        stream.set_attachments([cards.attachment(card)])
        await stream.end_stream()

    async def on_submit(self, context: TurnContext, value: dict) -> None:
        kind = value.get(cards.SUBMIT_KEY)
        if kind in plans.KINDS:
            await self.plans.on_submit(context, value, is_group(context.activity))
            return
        if kind == "share":
            await self.on_share(context, value)
            return
        answer_id = value.get("answer_id")
        if not isinstance(answer_id, str) or kind not in ("feedback", "intro"):
            await context.send_activity(t("nl", "bad_submit"))
            return
        from storage import NotFound

        try:
            stored = self.stores.answer(answer_id)
        except NotFound:
            await context.send_activity(t("nl", "gone"))
            return
        lang = stored.get("language")
        if kind == "feedback":
            rating = value.get("rating")
            if rating not in ("up", "down"):
                await context.send_activity(t(lang, "bad_submit"))
                return
            self.stores.add_feedback(answer_id, rating, CHANNEL)
            await context.send_activity(t(lang, "thanks"))
            return
        # intro: only people that this very answer recommended (so: consenting ones).
        person_id = value.get("person_id")
        person = next((p for p in stored.get("people", []) if p.get("id") == person_id), None)
        asker = context.activity.from_property.name if context.activity.from_property else None
        try:
            if person is None:
                raise PersonUnavailable(
                    "die persoon staat niet bij dit antwoord; kies iemand uit de aanbevelingen"
                    if lang != "en"
                    else "that person is not part of this answer; pick someone from the recommendations"
                )
            text = await asyncio.to_thread(
                self.assistant.intro,
                person["id"],
                stored["question"],
                asker_name=asker,
                language=lang,
            )
        except UserError as exc:
            await context.send_activity(str(exc))
            return
        card = cards.intro_card(person["name"], text, person.get("contact") or {}, lang)
        await context.send_activity(
            Activity(
                type=ActivityTypes.message,
                summary=text[:120],
                attachments=[cards.attachment(card)],
            )
        )

    async def on_share(self, context: TurnContext, value: dict) -> None:
        from curation.models import ContributionError
        from curation.service import Sharing

        try:
            cid = Sharing(self.assistant, self.stores, self.settings).submit(
                share.submission(value), channel=CHANNEL
            )
        except ContributionError as exc:
            await context.send_activity(f"Je bijdrage is nog niet verstuurd: {exc}")
            return
        await context.send_activity(f"Dank je! Je bijdrage ({cid}) staat klaar voor een curator.")

    # -- errors ------------------------------------------------------------------------------
    async def on_error(self, context: TurnContext, err: Exception) -> None:
        # Type only: messages of lower layers may quote user text or request details.
        log.error("Teams: beurt mislukt (%s)", type(err).__name__)
        try:
            await context.send_activity(t("nl", "error"))
        except Exception as exc:
            log.error("Teams: foutmelding niet afgeleverd (%s)", type(exc).__name__)

    async def _on_adapter_error(self, context: TurnContext, err: Exception) -> None:
        await self.on_error(context, err)
