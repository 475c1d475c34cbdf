"""The scaling plan in Teams, as a sequence of Adaptive Cards in a personal chat.

"plan" (or the card button) sends the first intake question; each card carries the answers so
far in its ``Action.Submit`` data, so the next card can come from any instance of the service
(nothing is kept in process memory). After the last answer the plan is stored through
``PlanService``, and a summary card shows the detected phase and obstacles with a correction.
The plan card lists the next tasks (tick them off), the consenting people who faced the
obstacles ("Nodig uit om mee te denken") and "Wat nu?".

The owner is ``teams:<UPN>``, the key ``PlanService.owner_keys`` uses, so
``opschaal person export|delete`` covers plans made in Teams. Teams does not put the UPN in an
activity; the connector's member lookup (``GET /v3/conversations/{id}/members/{id}``) gives it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from assistant.service import UserError, consenting_people
from plans.service import AMBITION_NAMES, QUESTIONS, PlanService, plan_people
from storage import PlanStore

from .cards import SCHEMA, SUBMIT_KEY, attachment, teams_chat_link

log = logging.getLogger("bots.teams")

START_WORDS = {
    "plan": "nl",
    "opschaalplan": "nl",
    "nieuw plan": "nl",
    "maak een opschaalplan": "nl",
    "scaling plan": "en",
    "new plan": "en",
    "make a scaling plan": "en",
}
LIST_WORDS = {"mijn plannen": "nl", "plannen": "nl", "my plans": "en"}
CHAT_PREFIXES = ("plan:", "opschaalplan:")
KINDS = {
    "plan_start",
    "plan_intake",
    "plan_correct",
    "plan_show",
    "plan_tick",
    "plan_next",
    "plan_invite",
}
STEPS = [q[0] for q in QUESTIONS]
#: Answers and ids in a card's data are bounded: a forged submit cannot make us store more.
_MAX_ANSWER = 2000

_T = {
    "nl": {
        "step": "Vraag {n} van {total}",
        "next": "Volgende",
        "done": "Maak mijn plan",
        "required": "Geef een antwoord",
        "detected": "Dit heb ik herkend",
        "phase": "Fase",
        "obstacles": "Obstakels",
        "why": "waarom",
        "none": "geen",
        "fix": "Pas aan",
        "ok": "Klopt, toon mijn plan",
        "fix_phase": "Klopt de fase niet? Kies de juiste",
        "fix_obstacles": "Kloppen de obstakels niet? Pas ze aan",
        "steps": "Volgende stappen",
        "tick": "✓ Afvinken",
        "all_done": "Alle taken zijn afgevinkt.",
        "people": "Mensen die dit tegenkwamen",
        "invite": "Nodig uit om mee te denken",
        "question": "Je vraag voor de uitnodiging",
        "question_default": "Hoe hebben jullie '{label}' aangepakt?",
        "invited": "Uitgenodigd",
        "what_next": "Wat nu?",
        "new": "Nieuw opschaalplan",
        "invite_title": "Uitnodiging aan {name}",
        "open_chat": "Open chat in Teams met deze tekst",
        "open_mail": "Open e-mail met deze tekst",
        "copy": "Kopieer de tekst en stuur hem zelf; de Opschaalwijzer stuurt niets namens jou.",
        "subject": "Uitnodiging om mee te denken",
        "no_plans": "Je hebt nog geen opschaalplan. Stuur 'plan' of gebruik de knop.",
        "personal": "Een opschaalplan maak en bekijk je in een persoonlijke chat met de "
        "Opschaalwijzer, niet in een kanaal.",
        "who": "Ik kon je Teams-account niet opzoeken; probeer het zo nog eens.",
        "exists": "Dit plan is al gemaakt; hier is het.",
        "bad": "Die knop hoort niet (meer) bij een plan van jou; stuur 'mijn plannen'.",
        "chat_hint": "Vertel wat er veranderd is met 'plan: <zin>', bijvoorbeeld "
        "'plan: we hebben nu een eigenaar in de lijn'.",
        "ticked": "Afgevinkt",
    },
    "en": {
        "step": "Question {n} of {total}",
        "next": "Next",
        "done": "Make my plan",
        "required": "Please answer",
        "detected": "What I detected",
        "phase": "Phase",
        "obstacles": "Obstacles",
        "why": "why",
        "none": "none",
        "fix": "Correct",
        "ok": "Right, show my plan",
        "fix_phase": "Phase not right? Pick the right one",
        "fix_obstacles": "Obstacles not right? Adjust them",
        "steps": "Next steps",
        "tick": "✓ Tick off",
        "all_done": "Every task is ticked off.",
        "people": "People who faced this",
        "invite": "Invite to think along",
        "question": "Your question for the invitation",
        "question_default": "How did you tackle '{label}'?",
        "invited": "Invited",
        "what_next": "What next?",
        "new": "New scaling plan",
        "invite_title": "Invitation to {name}",
        "open_chat": "Open a Teams chat with this text",
        "open_mail": "Open an email with this text",
        "copy": "Copy the text and send it yourself; Opschaalwijzer sends nothing on your behalf.",
        "subject": "Invitation to think along",
        "no_plans": "You have no scaling plan yet. Send 'plan' or use the button.",
        "personal": "You make and view a scaling plan in a personal chat with Opschaalwijzer, "
        "not in a channel.",
        "who": "I could not look up your Teams account; please try again shortly.",
        "exists": "This plan was already made; here it is.",
        "bad": "That button does not (or no longer) belong to a plan of yours; send 'my plans'.",
        "chat_hint": "Tell what changed with 'plan: <sentence>', e.g. "
        "'plan: we now have an owner in the line organisation'.",
        "ticked": "Ticked off",
    },
}


def t(lang: str | None, key: str) -> str:
    return _T["en" if lang == "en" else "nl"][key]


def route(text: str) -> tuple[str, str, str] | None:
    """What a chat line asks of the plan feature: ("start"|"list"|"chat", language, rest)."""
    low = " ".join((text or "").lower().split()).rstrip("!.")
    if low in START_WORDS:
        return "start", START_WORDS[low], ""
    if low in LIST_WORDS:
        return "list", LIST_WORDS[low], ""
    for prefix in CHAT_PREFIXES:
        if low.startswith(prefix):
            return "chat", "nl", text.strip()[len(prefix) :].strip()
    return None


def _text(text: str, **kw) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **kw}


def _card(body: list[dict], actions: list[dict] | None = None) -> dict:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
        "actions": actions or [],
    }


def _submit(title: str, kind: str, **data) -> dict:
    return {"type": "Action.Submit", "title": title, "data": {SUBMIT_KEY: kind, **data}}


# -- cards -----------------------------------------------------------------------------------
def question_card(
    step: int, answers: dict, lang: str, nonce: str, error: str | None = None
) -> dict:
    """One intake question; the answers so far ride along in the submit data."""
    q = PlanService.questions(lang)[step]
    body: list[dict] = [_text(t(lang, "step").format(n=step + 1, total=len(STEPS)), isSubtle=True)]
    if step == 0:
        body.append(_text("🔒 " + PlanService.privacy_note(lang), size="Small"))
    if error:
        body.append(_text(error, color="Attention"))
    if q["key"] == "ambition":
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "answer",
                "label": q["text"],
                "style": "expanded",
                "isRequired": True,
                "value": answers.get("ambition", "out"),
                "choices": [{"title": n, "value": k} for k, n in AMBITION_NAMES[lang].items()],
            }
        )
    else:
        body.append(
            {
                "type": "Input.Text",
                "id": "answer",
                "label": q["text"],
                "isMultiline": q["key"] in ("problem", "blocker"),
                "maxLength": 300 if q["key"] == "innovation" else _MAX_ANSWER,
                "isRequired": q["key"] == "innovation",
                "errorMessage": t(lang, "required"),
                "value": answers.get(q["key"], ""),
            }
        )
    last = step == len(STEPS) - 1
    data = {"step": step, "answers": answers, "lang": lang, "nonce": nonce}
    return _card(body, [_submit(t(lang, "done" if last else "next"), "plan_intake", **data)])


def summary_card(view: dict, step_plan: list[dict], obstacle_labels: dict[str, str]) -> dict:
    """What was detected, with choice sets to correct the phase and the obstacles."""
    lang, pid = view["language"], view["id"]
    why = view["phase_reason_text"]
    phase = view["phase_name"] or t(lang, "none")
    body = [
        _text(t(lang, "detected"), weight="Bolder", size="Medium"),
        _text(view["intake"]["innovation"], weight="Bolder"),
        {
            "type": "FactSet",
            "facts": [
                {
                    "title": t(lang, "phase"),
                    "value": phase + (f" ({t(lang, 'why')}: {why})" if why else ""),
                },
                {
                    "title": t(lang, "obstacles"),
                    "value": ", ".join(o["label"] for o in view["obstacles"]) or t(lang, "none"),
                },
            ],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "phase",
            "label": t(lang, "fix_phase"),
            "value": view["phase"] or "",
            "choices": [{"title": p["name"], "value": p["key"]} for p in step_plan],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "obstacles",
            "label": t(lang, "fix_obstacles"),
            "isMultiSelect": True,
            "value": ",".join(o["key"] for o in view["obstacles"]),
            "choices": [{"title": label, "value": k} for k, label in obstacle_labels.items()],
        },
    ]
    return _card(
        body,
        [
            _submit(t(lang, "fix"), "plan_correct", plan_id=pid),
            _submit(t(lang, "ok"), "plan_show", plan_id=pid),
        ],
    )


def plan_card(view: dict) -> dict:
    """The plan: phase and ambition, next tasks with a tick button, people to invite."""
    lang, pid = view["language"], view["id"]
    body: list[dict] = [
        _text(view["intake"]["innovation"], weight="Bolder", size="Medium"),
        {
            "type": "FactSet",
            "facts": [
                {"title": t(lang, "phase"), "value": view["phase_name"] or "—"},
                {
                    "title": "Ambitie" if lang != "en" else "Ambition",
                    "value": view["ambition_name"],
                },
            ],
        },
        _text(t(lang, "steps"), weight="Bolder", separator=True, spacing="Medium"),
    ]
    if not view["next_steps"]:
        body.append(_text(t(lang, "all_done")))
    for task in view["next_steps"]:
        body.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "stretch", "items": [_text(f"☐ {task['title']}")]},
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [
                            {
                                "type": "ActionSet",
                                "actions": [
                                    _submit(
                                        t(lang, "tick"),
                                        "plan_tick",
                                        plan_id=pid,
                                        task_id=task["id"],
                                    )
                                ],
                            }
                        ],
                    },
                ],
            }
        )
    people = plan_people(view)
    if people:
        body.append(_text(t(lang, "people"), weight="Bolder", separator=True, spacing="Medium"))
        body.append(
            {
                "type": "Input.Text",
                "id": "question",
                "label": t(lang, "question"),
                "isMultiline": True,
                "maxLength": 500,
                "value": t(lang, "question_default").format(label=people[0][1]["label"]),
            }
        )
    for person, _ob in people[:3]:
        sub = " · ".join(x for x in (person.get("role"), person.get("organisation")) if x)
        items = [_text(person["name"], weight="Bolder")]
        if sub:
            items.append(_text(sub, isSubtle=True, spacing="None"))
        items.append(_text(person.get("reason") or "", spacing="Small"))
        items.append(
            {
                "type": "ActionSet",
                "actions": [
                    _submit(t(lang, "invite"), "plan_invite", plan_id=pid, person_id=person["id"])
                ],
            }
        )
        body.append({"type": "Container", "separator": True, "items": items})
    if view["invitations"]:
        names = ", ".join(f"{i['name']} ({i['created'][:10]})" for i in view["invitations"])
        body.append(_text(f"{t(lang, 'invited')}: {names}", isSubtle=True, separator=True))
    body.append(_text(t(lang, "chat_hint"), isSubtle=True, size="Small"))
    return _card(body, [_submit(t(lang, "what_next"), "plan_next", plan_id=pid)])


def invite_card(name: str, draft: dict, lang: str) -> dict:
    """The drafted invitation: a Teams chat with the text ready when the person has a Teams
    id, else an e-mail, and always the text to copy. The user sends it, not the bot."""
    actions = []
    if draft.get("teams"):
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": t(lang, "open_chat"),
                "url": teams_chat_link(draft["teams"], draft["text"]),
            }
        )
    elif draft.get("mailto"):
        actions.append(
            {"type": "Action.OpenUrl", "title": t(lang, "open_mail"), "url": draft["mailto"]}
        )
    body = [
        _text(t(lang, "invite_title").format(name=name), weight="Bolder"),
        _text(draft["text"]),
        _text(t(lang, "copy"), isSubtle=True, size="Small"),
    ]
    return _card(body, actions)


def start_card(lang: str) -> dict:
    return _card([_text(t(lang, "no_plans"))], [_submit(t(lang, "new"), "plan_start", lang=lang)])


# -- turns ---------------------------------------------------------------------------------------
def _message(card: dict, summary: str) -> Activity:
    return Activity(
        type=ActivityTypes.message, summary=summary[:120], attachments=[attachment(card)]
    )


async def owner_of(context: TurnContext) -> str | None:
    """``teams:<UPN>`` from the connector's member lookup; an account without a UPN (the Bot
    Framework Emulator) is ``teams:<aadObjectId>``; None when the lookup fails."""
    from microsoft_agents.hosting.core import ConnectorClientBase

    act = context.activity
    sender = act.from_property
    client = context.services.get(ConnectorClientBase)
    if client is None or sender is None or not sender.id:
        return None
    try:
        member = await client.conversations.get_conversation_member(act.conversation.id, sender.id)
    except Exception as exc:
        log.warning("Teams: lid opzoeken mislukt (%s)", type(exc).__name__)
        return None
    extra = member.model_extra or {}
    upn = extra.get("userPrincipalName") or extra.get("user_principal_name")
    if upn:
        return f"teams:{str(upn).lower()}"
    aad = member.aad_object_id or sender.aad_object_id
    return f"teams:{aad}" if aad else None


class TeamsPlans:
    """The plan turns of one TeamsBot (no state of its own; see the module docstring)."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.plans = PlanService(bot.assistant, PlanStore(bot.stores))

    async def _run(self, fn, *args, **kw):
        # Plan views search the index and the people directory: off the event loop.
        return await asyncio.to_thread(fn, *args, **kw)

    async def send_plan(
        self,
        context: TurnContext,
        plan_id: str,
        owner: str,
        note: str | None = None,
        ticked: str | None = None,
    ):
        """The plan card. After a tick (``ticked``: the task id), the card the button was pressed
        on is updated in place (Teams gives its id as the submit's replyToId), so the chat keeps
        one current plan card instead of a new one per tick; when that fails, a new card is sent."""
        view = await self._run(self.plans.view, plan_id, owner)
        card = plan_card(view)
        if ticked:
            title = next((x["title"] for x in view["tasks"] if x["id"] == ticked), "")
            note = (
                f"{t(view['language'], 'ticked')}: {title}"
                if title
                else t(view["language"], "ticked")
            )
        if note:
            card["body"].insert(0, _text(note, color="Good"))
        activity = _message(card, view["intake"]["innovation"])
        card_id = context.activity.reply_to_id
        if ticked and card_id:
            activity.id = card_id
            try:
                await context.update_activity(activity)
                return
            except Exception as exc:  # an old card Teams no longer lets us change
                log.warning("Teams: kaart bijwerken mislukt (%s)", type(exc).__name__)
                activity.id = None
        await context.send_activity(activity)

    async def on_text(
        self, context: TurnContext, kind: str, lang: str, rest: str, group: bool
    ) -> None:
        if group:
            await context.send_activity(t(lang, "personal"))
            return
        if kind == "start":
            await context.send_activity(
                _message(question_card(0, {}, lang, uuid.uuid4().hex), t(lang, "new"))
            )
            return
        owner = await owner_of(context)
        if owner is None:
            await context.send_activity(t(lang, "who"))
            return
        mine = await self._run(self.plans.plans_of, owner)
        if not mine:
            await context.send_activity(_message(start_card(lang), t(lang, "no_plans")))
            return
        if kind == "list":
            for p in mine[:3]:
                await self.send_plan(context, p["id"], owner)
            return
        latest = mine[0]
        try:
            result = await self._run(self.plans.chat, latest["id"], owner, rest or "wat nu?")
        except UserError as exc:
            await context.send_activity(str(exc))
            return
        await context.send_activity(_steps_text(result, latest["language"]))

    async def on_submit(self, context: TurnContext, value: dict, group: bool) -> None:
        kind = value.get(SUBMIT_KEY)
        lang = value.get("lang") if value.get("lang") in ("nl", "en") else "nl"
        if group:
            await context.send_activity(t(lang, "personal"))
            return
        if kind == "plan_start":
            await context.send_activity(
                _message(question_card(0, {}, lang, uuid.uuid4().hex), t(lang, "new"))
            )
            return
        if kind == "plan_intake":
            await self.on_intake(context, value, lang)
            return
        owner = await owner_of(context)
        if owner is None:
            await context.send_activity(t(lang, "who"))
            return
        pid = value.get("plan_id")
        if not isinstance(pid, str) or len(pid) > 64:
            await context.send_activity(t(lang, "bad"))
            return
        try:
            lang = (await self._run(self.plans.owned, pid, owner))["payload"]["intake"]["language"]
            if kind == "plan_show":
                await self.send_plan(context, pid, owner)
            elif kind == "plan_correct":
                await self.on_correct(context, value, pid, owner)
            elif kind == "plan_tick":
                task = value.get("task_id")
                if not isinstance(task, str):
                    raise UserError(t(lang, "bad"))
                await self._run(self.plans.set_task, pid, owner, task, status="klaar")
                await self.send_plan(context, pid, owner, ticked=task)
            elif kind == "plan_next":
                result = await self._run(self.plans.chat, pid, owner, "wat nu?")
                await context.send_activity(_steps_text(result, lang))
            elif kind == "plan_invite":
                await self.on_invite(context, value, pid, owner, lang)
            else:
                await context.send_activity(t(lang, "bad"))
        except UserError as exc:
            await context.send_activity(str(exc))

    async def on_intake(self, context: TurnContext, value: dict, lang: str) -> None:
        step, answers, nonce = value.get("step"), value.get("answers"), value.get("nonce")
        ok = (
            isinstance(step, int)
            and 0 <= step < len(STEPS)
            and isinstance(answers, dict)
            and set(answers) <= set(STEPS)
            and all(isinstance(v, str) and len(v) <= _MAX_ANSWER for v in answers.values())
            and isinstance(nonce, str)
            and 0 < len(nonce) <= 64
        )
        answer = value.get("answer", "")
        if not ok or not isinstance(answer, str):
            await context.send_activity(t(lang, "bad"))
            return
        answers = {**answers, STEPS[step]: answer.strip()[:_MAX_ANSWER]}
        if not answers[STEPS[step]]:
            del answers[STEPS[step]]
        try:
            intake = PlanService.parse_intake({**answers, "language": lang})
        except UserError as exc:
            card = question_card(step, answers, lang, nonce, error=str(exc))
            await context.send_activity(_message(card, str(exc)))
            return
        if step < len(STEPS) - 1:
            card = question_card(step + 1, answers, lang, nonce)
            await context.send_activity(
                _message(card, PlanService.questions(lang)[step + 1]["text"])
            )
            return
        owner = await owner_of(context)
        if owner is None:
            await context.send_activity(t(lang, "who"))
            return
        # The last card can be submitted twice (a double click, a second device): one plan.
        if not self.bot.stores.first_time(f"teams:plan:{owner}:{nonce}"):
            mine = await self._run(self.plans.plans_of, owner)
            if mine:
                await self.send_plan(context, mine[0]["id"], owner, note=t(lang, "exists"))
            return
        pid = await self._run(self.plans.create, owner, intake)
        view = await self._run(self.plans.view, pid, owner)
        a = self.bot.assistant
        labels = {k: a.analyse_label(k, lang) or k for k in a.obstacle_keys()}
        card = summary_card(view, a.step_plan(lang), labels)
        await context.send_activity(_message(card, t(lang, "detected")))

    async def on_correct(self, context: TurnContext, value: dict, pid: str, owner: str) -> None:
        view = await self._run(self.plans.view, pid, owner)
        changes: dict = {}
        phase = value.get("phase")
        if isinstance(phase, str) and phase and phase != view["phase"]:
            changes["phase"] = phase
        raw = value.get("obstacles")
        if isinstance(raw, str):
            chosen = [o for o in raw.split(",") if o]
            if set(chosen) != {o["key"] for o in view["obstacles"]}:
                changes["obstacles"] = chosen
        if changes:
            await self._run(self.plans.edit, pid, owner, changes)
        await self.send_plan(context, pid, owner)

    async def on_invite(self, context: TurnContext, value: dict, pid: str, owner: str, lang: str):
        person, question = value.get("person_id"), value.get("question")
        if not isinstance(person, str) or not isinstance(question, str):
            raise UserError(t(lang, "bad"))
        draft = await self._run(self.plans.invite, pid, owner, person, question[:500])
        name = consenting_people(self.bot.assistant).get(person, "")
        await context.send_activity(_message(invite_card(name, draft, lang), t(lang, "invite")))


def _steps_text(result: dict, lang: str) -> str:
    parts = []
    if result.get("updated"):
        parts.append(f"{t(lang, 'ticked')}: {result['updated']['title']}")
    if result.get("next_steps"):
        steps = "\n".join(f"- {s['title']}" for s in result["next_steps"])
        parts.append(f"**{t(lang, 'steps')}:**\n{steps}")
    else:
        parts.append(t(lang, "all_done"))
    return "\n\n".join(parts)
