"""The scaling plan in Slack: ``/opschaal plan`` opens the intake modal, the App Home lists the
user's plans (tick a task, "wat nu?", invite, export), ``/opschaal plan <zin>`` tells the latest
plan what changed.

Everything goes through ``PlanService``; the owner is ``slack:<user id>``, the key that
``PlanService.owner_keys`` uses for a directory person, so ``opschaal person export|delete``
covers plans made in Slack. Plan content is never logged: log lines carry error codes only.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from assistant.service import UserError
from plans.service import PlanService

from . import blocks as bk
from . import planblocks as pb
from .core import SlackBot

log = logging.getLogger("bots.slack")

PLAN_WORDS = {"plan", "opschaalplan", "scaling plan", "new plan"}
_BAD = {
    "nl": "Deze knop hoort niet (meer) bij een plan van jou; open de Opschaalwijzer-tab opnieuw.",
    "en": "This button does not (or no longer) belong to a plan of yours; reopen the app's tab.",
}


def owner(user: str) -> str:
    return f"slack:{user}"


def split_plan(text: str) -> tuple[bool, str]:
    """``"plan"`` → (True, ""), ``"plan wat nu?"`` → (True, "wat nu?"), anything else → False."""
    text = (text or "").strip()
    low = text.lower()
    for word in sorted(PLAN_WORDS, key=len, reverse=True):
        if low == word or low.startswith(word + " "):
            return True, text[len(word) :].strip()
    return False, text


def _ref(raw: str | None, *keys: str) -> dict | None:
    """A button value or private_metadata with the expected string ids, or None."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys):
        return None
    return data


class PlanChannel:
    """The Slack side of PlanService for one Bolt app (no state of its own)."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot
        self.plans: PlanService = bot.plans

    # -- delivery --------------------------------------------------------------------------
    def dm(self, client, user: str, text: str, blocks: list[dict] | None = None) -> str | None:
        """A direct message from the app to ``user``; the DM channel id, or None."""
        try:
            channel = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(
                channel=channel, text=bk.cut(text, bk.FALLBACK_TEXT), blocks=blocks
            )
            return channel
        except (SlackApiError, OSError) as exc:
            log.warning("Slack: plan-DM sturen mislukt (%s)", _code(exc))
            return None

    def publish_home(self, client, user: str) -> None:
        try:
            step_plan = self.bot.assistant.step_plan()
        except Exception as exc:  # an index that is not built yet should not break the tab
            log.warning(
                "Slack: stappenplan niet beschikbaar voor App Home (%s)", type(exc).__name__
            )
            step_plan = []
        top = self.home_blocks(user)
        try:
            client.views_publish(user_id=user, view=bk.home_view(step_plan, top=top))
        except (SlackApiError, OSError) as exc:
            log.warning("Slack: App Home publiceren mislukt (%s)", _code(exc))

    def home_blocks(self, user: str) -> list[dict]:
        try:
            mine = self.plans.plans_of(owner(user))
            views = [self.plans.view(p["id"], owner(user)) for p in mine[: pb.HOME_PLANS]]
        except Exception as exc:  # the tab still shows help and the step plan
            log.warning("Slack: plannen niet beschikbaar voor App Home (%s)", type(exc).__name__)
            return []
        lang = views[0]["language"] if views else "nl"
        return pb.plans_section(views, mine[pb.HOME_PLANS :], lang)

    def export(self, client, user: str, plan_id: str) -> None:
        """The plan as DOCX in the user's DM (files.getUploadURLExternal, the upload, and
        files.completeUploadExternal, as slack_sdk's files_upload_v2 does them)."""
        from plans.export import export

        view = self.plans.view(plan_id, owner(user))
        lang = view["language"]
        try:
            channel = client.conversations_open(users=user)["channel"]["id"]
            with tempfile.TemporaryDirectory(prefix="opschaal-plan-") as tmp:
                path = Path(tmp) / f"opschaalplan-{plan_id}.docx"
                export(view, "docx", path)
                client.files_upload_v2(
                    channel=channel,
                    file=str(path),
                    filename=path.name,
                    title=("Scaling plan: " if lang == "en" else "Opschaalplan: ")
                    + view["intake"]["innovation"][:150],
                    initial_comment="Your plan as a Word document."
                    if lang == "en"
                    else "Je plan als Word-document.",
                )
        except (SlackApiError, OSError) as exc:
            log.warning("Slack: plan uploaden mislukt (%s)", _code(exc))
            hint = (
                "The export could not be uploaded ({code}); ask the admin to grant files:write, "
                "or use `opschaal plan export`."
                if lang == "en"
                else "De export kon niet worden geüpload ({code}); vraag de beheerder om de "
                "scope files:write, of gebruik `opschaal plan export`."
            )
            self.dm(client, user, hint.format(code=_code(exc)))


def _code(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__


def _lang_of(channel: PlanChannel, plan_id: str, user: str) -> str:
    try:
        return channel.plans.owned(plan_id, owner(user))["payload"]["intake"]["language"]
    except UserError:
        return "nl"


def register(app: App) -> None:
    def chan(context) -> PlanChannel:
        return PlanChannel(context["opschaal"])

    # -- intake ------------------------------------------------------------------------------
    @app.action(pb.ACTION_NEW)
    def on_new(ack, body: dict, client) -> None:
        ack()
        open_intake(client, body["trigger_id"])

    @app.view(pb.INTAKE)
    def on_intake(ack, view: dict, body: dict, context, client) -> None:
        ch = chan(context)
        user = body["user"]["id"]
        data = pb.intake_values(view)
        try:
            intake = PlanService.parse_intake(data)
        except UserError as exc:
            field = next((k for k in data if f"'{k}'" in str(exc)), "innovation")
            ack(response_action="errors", errors={field: str(exc)[:150]})
            return
        ack(response_action="clear")
        try:
            pid = ch.plans.create(owner(user), intake)
            plan = ch.plans.view(pid, owner(user))
            blocks = pb.detected_blocks(
                plan,
                ch.bot.assistant.step_plan(plan["language"]),
                {
                    k: ch.bot.assistant.analyse_label(k, plan["language"]) or k
                    for k in ch.bot.assistant.obstacle_keys()
                },
            )
        except UserError as exc:
            ch.dm(client, user, f":warning: {exc}")
            return
        ch.dm(client, user, pb.t(plan["language"], "made").format(name=intake.innovation), blocks)
        ch.publish_home(client, user)

    # -- corrections from the DM ---------------------------------------------------------------
    @app.action(pb.ACTION_PHASE)
    def on_phase(ack, action: dict, body: dict, context, respond, client) -> None:
        ack()
        ch, user = chan(context), body["user"]["id"]
        ref = _ref((action.get("selected_option") or {}).get("value"), "p", "f")
        if ref is None:
            ch.bot.tell(client, body, _BAD["nl"], respond)
            return
        _edit(ch, client, body, respond, user, ref["p"], {"phase": ref["f"]})

    @app.action(pb.ACTION_OBSTACLES)
    def on_obstacles(ack, action: dict, body: dict, context, respond, client) -> None:
        ack()
        ch, user = chan(context), body["user"]["id"]
        refs = [_ref(o.get("value"), "p", "o") for o in action.get("selected_options") or []]
        plans = {r["p"] for r in refs if r}
        if None in refs or len(plans) > 1:
            ch.bot.tell(client, body, _BAD["nl"], respond)
            return
        if not plans:  # everything unselected: no plan id to go on, nothing to change
            return
        _edit(ch, client, body, respond, user, plans.pop(), {"obstacles": [r["o"] for r in refs]})

    # -- App Home buttons ------------------------------------------------------------------------
    @app.action(pb.ACTION_TICK)
    def on_tick(ack, action: dict, body: dict, context, client) -> None:
        ack()
        ch, user = chan(context), body["user"]["id"]
        ref = _ref(action.get("value"), "p", "t")
        try:
            if ref is None:
                raise UserError(_BAD["nl"])
            ch.plans.set_task(ref["p"], owner(user), ref["t"], status="klaar")
        except UserError as exc:
            ch.dm(client, user, f":warning: {exc}")
            return
        ch.publish_home(client, user)

    @app.action(pb.ACTION_NEXT)
    def on_next(ack, action: dict, body: dict, context, client) -> None:
        ack()
        ch, user = chan(context), body["user"]["id"]
        ref = _ref(action.get("value"), "p")
        try:
            if ref is None:
                raise UserError(_BAD["nl"])
            result = ch.plans.chat(ref["p"], owner(user), "wat nu?")
        except UserError as exc:
            ch.dm(client, user, f":warning: {exc}")
            return
        lang = _lang_of(ch, ref["p"], user)
        text = pb.next_steps_text(result, lang)
        ch.dm(client, user, text, [bk.section(text)])

    @app.action(pb.ACTION_EXPORT)
    def on_export(ack, action: dict, body: dict, context, client) -> None:
        ack()
        ch, user = chan(context), body["user"]["id"]
        ref = _ref(action.get("value"), "p")
        try:
            if ref is None:
                raise UserError(_BAD["nl"])
            ch.export(client, user, ref["p"])
        except UserError as exc:
            ch.dm(client, user, f":warning: {exc}")

    @app.action(pb.ACTION_INVITE)
    def on_invite(ack, action: dict, body: dict, context, client) -> None:
        ack()
        ch, user = chan(context), body["user"]["id"]
        ref = _ref(action.get("value"), "p", "u", "o")
        try:
            if ref is None:
                raise UserError(_BAD["nl"])
            row = ch.plans.owned(ref["p"], owner(user))
            lang = row["payload"]["intake"]["language"]
            # Only someone consenting: the live directory decides, not the button.
            person = ch.bot.assistant.person_contact(ref["u"])
            name = _consenting(ch).get(ref["u"])
            if person is None or name is None:
                raise UserError("deze persoon is niet (meer) te benaderen; kies iemand uit je plan")
        except UserError as exc:
            ch.dm(client, user, f":warning: {exc}")
            return
        label = ch.bot.assistant.analyse_label(ref["o"], lang) or ref["o"]
        try:
            client.views_open(
                trigger_id=body["trigger_id"],
                view=pb.invite_modal(ref["p"], {"id": ref["u"], "name": name}, label, lang),
            )
        except (SlackApiError, OSError) as exc:
            log.warning("Slack: uitnodigingsvenster openen mislukt (%s)", _code(exc))

    @app.view(pb.INVITE)
    def on_invite_question(ack, view: dict, body: dict, context, client) -> None:
        ch, user = chan(context), body["user"]["id"]
        ref = _ref(view.get("private_metadata"), "p", "u")
        question = (pb.intake_values(view).get("question") or "").strip()
        if ref is None:
            ack(response_action="update", view=pb.message_modal("Opschaalplan", _BAD["nl"], "nl"))
            return
        if not question:
            ack(
                response_action="errors",
                errors={"question": "Beschrijf kort je vraag / Describe your question"},
            )
            return
        lang = _lang_of(ch, ref["p"], user)
        # Drafting looks things up; Slack wants the answer within three seconds, so the modal
        # says "drafting" first and gets the draft with views.update.
        ack(response_action="update", view=pb.working_modal(lang))
        try:
            draft = ch.plans.invite(ref["p"], owner(user), ref["u"], question)
            name = _consenting(ch).get(ref["u"], "")
            new_view = pb.draft_modal(ref["p"], name, draft, lang)
        except UserError as exc:
            new_view = pb.message_modal(pb.t(lang, "invite"), f"⚠ {exc}", lang)
        try:
            client.views_update(view_id=body["view"]["id"], view=new_view)
        except (SlackApiError, OSError) as exc:
            log.warning("Slack: concept tonen mislukt (%s)", _code(exc))

    @app.view(pb.INVITE_SEND)
    def on_invite_send(ack, view: dict, body: dict, context, client) -> None:
        ch, user = chan(context), body["user"]["id"]
        ref = _ref(view.get("private_metadata"), "p", "u")
        text = (pb.intake_values(view).get("text") or "").strip()
        if not text:
            ack(response_action="errors", errors={"text": "De tekst is leeg / The text is empty"})
            return
        ack(response_action="clear")
        try:
            if ref is None:
                raise UserError(_BAD["nl"])
            lang = ch.plans.owned(ref["p"], owner(user))["payload"]["intake"]["language"]
            contact = ch.bot.assistant.person_contact(ref["u"]) or {}
            if not contact.get("slack"):
                raise UserError("deze persoon heeft geen Slack-id (meer); kopieer de tekst")
            if ref["u"] not in ch.plans.invited(ref["p"], owner(user)):
                raise UserError("maak eerst een concept met 'Nodig uit om mee te denken'")
        except UserError as exc:
            ch.dm(client, user, f":warning: {exc}")
            return
        sent = ch.dm(client, contact["slack"], text, pb.invitation_message(user, text, lang))
        name = _consenting(ch).get(ref["u"], "")
        if sent:
            done = (
                f"I sent your invitation to {name} as a DM."
                if lang == "en"
                else f"Ik heb je uitnodiging als DM naar {name} gestuurd."
            )
        else:
            done = (
                "The invitation could not be sent as a DM; copy the text and send it yourself."
                if lang == "en"
                else "De uitnodiging kon niet als DM verstuurd worden; kopieer de tekst en "
                "stuur hem zelf."
            )
        ch.dm(client, user, done)
        ch.publish_home(client, user)

    @app.action("opschaal_plan_mailto")
    def on_mailto(ack) -> None:
        ack()  # a link button: the client opens the mail; nothing to do here


def _consenting(ch: PlanChannel) -> dict[str, str]:
    from assistant.service import consenting_people

    return consenting_people(ch.bot.assistant)


def _edit(ch: PlanChannel, client, body: dict, respond, user: str, plan_id: str, changes: dict):
    try:
        ch.plans.edit(plan_id, owner(user), changes)
        lang = _lang_of(ch, plan_id, user)
        view = ch.plans.view(plan_id, owner(user))
    except UserError as exc:
        ch.bot.tell(client, body, f":warning: {exc}", respond)
        return
    if "phase" in changes:
        text = ("Phase set to: " if lang == "en" else "Fase aangepast naar: ") + (
            view["phase_name"] or changes["phase"]
        )
    else:
        text = ("Obstacles set to: " if lang == "en" else "Obstakels aangepast: ") + (
            ", ".join(o["label"] for o in view["obstacles"]) or "—"
        )
    ch.bot.tell(client, body, text, respond)
    ch.publish_home(client, user)


def open_intake(client, trigger_id: str, lang: str = "nl") -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=pb.intake_modal(lang))
    except (SlackApiError, OSError) as exc:
        log.warning("Slack: intakevenster openen mislukt (%s)", _code(exc))


def on_command(bot: SlackBot, client, command: dict, rest: str, respond) -> None:
    """``/opschaal plan`` opens the intake; ``/opschaal plan <zin>`` talks to the latest plan."""
    if not rest:
        said = (command.get("text") or "").lower()
        english = "new plan" in said or "scaling plan" in said
        open_intake(client, command["trigger_id"], "en" if english else "nl")
        return
    ch = PlanChannel(bot)
    user = command["user_id"]
    mine = ch.plans.plans_of(owner(user))
    if not mine:
        respond(
            text="Je hebt nog geen opschaalplan; begin met `/opschaal plan`.",
            response_type="ephemeral",
        )
        return
    latest = mine[0]
    try:
        result = ch.plans.chat(latest["id"], owner(user), rest)
    except UserError as exc:
        respond(text=f":warning: {exc}", response_type="ephemeral")
        return
    text = pb.next_steps_text(result, latest["language"])
    respond(
        text=bk.cut(text, bk.FALLBACK_TEXT), blocks=[bk.section(text)], response_type="ephemeral"
    )
    if result["updated"]:
        ch.publish_home(client, user)
