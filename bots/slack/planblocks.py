"""Block Kit for the scaling plan: the intake modal, the "what I detected" DM, the plans on the
App Home, and the invitation modals. Pure functions of PlanService output, within Slack's limits.

Button values carry ids only (plan, task, person), as compact JSON; the listeners check every
id against the plan service again, so a forged value reaches nothing the clicker may not see.
"""

from __future__ import annotations

import json

from plans.service import AMBITION_NAMES, PlanService, plan_people

from . import blocks as bk

INTAKE = "opschaal_plan_intake"
INVITE = "opschaal_plan_invite"
INVITE_SEND = "opschaal_plan_invite_send"

ACTION_NEW = "opschaal_plan_new"
ACTION_TICK = "opschaal_plan_tick"
ACTION_NEXT = "opschaal_plan_next"
ACTION_INVITE = "opschaal_plan_invite_open"
ACTION_EXPORT = "opschaal_plan_export"
ACTION_PHASE = "opschaal_plan_phase"
ACTION_OBSTACLES = "opschaal_plan_obstacles"

#: Plans shown on the App Home (each costs a plan view; the rest are one line each).
HOME_PLANS = 3
MODAL_TITLE = 24  # Slack's limit for a modal title

_T = {
    "nl": {
        "title": "Opschaalplan",
        "submit": "Maak mijn plan",
        "cancel": "Annuleren",
        "lang": "Taal van het plan",
        "made": "Je opschaalplan *{name}* is gemaakt.",
        "phase": "Herkende fase",
        "why": "waarom",
        "obstacles": "Herkende obstakels",
        "none": "geen",
        "fix_phase": "Klopt de fase niet? Kies de juiste:",
        "fix_obstacles": "Kloppen de obstakels niet? Pas ze aan:",
        "pick_phase": "Kies een fase",
        "pick_obstacles": "Kies obstakels",
        "home_head": "Jouw opschaalplannen",
        "new": "Nieuw opschaalplan",
        "none_yet": "Je hebt nog geen opschaalplan. Maak er een met de knop of met `/opschaal plan`.",
        "next": "Volgende stappen",
        "tick": "Afvinken",
        "what_next": "Wat nu?",
        "export": "Exporteer als Word",
        "people": "Mensen die dit tegenkwamen",
        "invite": "Nodig uit om mee te denken",
        "invited": "Uitgenodigd",
        "more": "Ook van jou",
        "all_done": "Alle taken zijn afgevinkt.",
        "ask": "Waarover wil je meedenken?",
        "ask_hint": "Noem je concrete vraag; de uitnodiging noemt ook je innovatie.",
        "draft": "Maak concept",
        "send": "Verstuur als DM",
        "close": "Sluiten",
        "working": "Even het concept maken…",
        "draft_head": "Concept-uitnodiging aan *{name}*. Pas de tekst aan als je wilt.",
        "text": "Tekst van de uitnodiging",
        "via_slack": "Na *Verstuur als DM* krijgt {name} deze tekst als direct bericht van de "
        "Opschaalwijzer, met jouw naam erbij.",
        "no_slack": "{name} heeft geen Slack-id in de lijst. Kopieer de tekst en stuur hem zelf.",
        "mail": "Open als e-mail",
        "question_default": "Hoe hebben jullie '{label}' aangepakt?",
        "chat_hint": "Vertel wat er veranderd is met `/opschaal plan <zin>`, "
        "bijvoorbeeld `/opschaal plan we hebben nu een eigenaar in de lijn`.",
    },
    "en": {
        "title": "Scaling plan",
        "submit": "Make my plan",
        "cancel": "Cancel",
        "lang": "Language of the plan",
        "made": "Your scaling plan *{name}* is ready.",
        "phase": "Detected phase",
        "why": "why",
        "obstacles": "Detected obstacles",
        "none": "none",
        "fix_phase": "Phase not right? Pick the right one:",
        "fix_obstacles": "Obstacles not right? Adjust them:",
        "pick_phase": "Pick a phase",
        "pick_obstacles": "Pick obstacles",
        "home_head": "Your scaling plans",
        "new": "New scaling plan",
        "none_yet": "You have no scaling plan yet. Make one with the button or `/opschaal plan`.",
        "next": "Next steps",
        "tick": "Tick off",
        "what_next": "What next?",
        "export": "Export as Word",
        "people": "People who faced this",
        "invite": "Invite to think along",
        "invited": "Invited",
        "more": "Also yours",
        "all_done": "Every task is ticked off.",
        "ask": "What would you like to think about together?",
        "ask_hint": "Name your concrete question; the invitation also names your innovation.",
        "draft": "Draft it",
        "send": "Send as DM",
        "close": "Close",
        "working": "Drafting the invitation…",
        "draft_head": "Draft invitation to *{name}*. Adjust the text if you like.",
        "text": "Text of the invitation",
        "via_slack": "After *Send as DM*, {name} gets this text as a direct message from "
        "Opschaalwijzer, with your name on it.",
        "no_slack": "{name} has no Slack id in the directory. Copy the text and send it yourself.",
        "mail": "Open as email",
        "question_default": "How did you tackle '{label}'?",
        "chat_hint": "Tell what changed with `/opschaal plan <sentence>`, "
        "e.g. `/opschaal plan we now have an owner in the line organisation`.",
    },
}

_LANGS = {"nl": "Nederlands", "en": "English"}


def t(lang: str | None, key: str) -> str:
    return _T["en" if lang == "en" else "nl"][key]


def ref(**ids: str) -> str:
    """A button value: ids only, compact JSON."""
    return json.dumps(ids, separators=(",", ":"))


def _option(text: str, value: str) -> dict:
    return {"text": bk.plain(text, bk.OPTION_TEXT), "value": value[: bk.OPTION_VALUE]}


def _modal(title: str, blocks: list[dict], lang: str, **extra) -> dict:
    view = {
        "type": "modal",
        "title": bk.plain(title, MODAL_TITLE),
        "close": bk.plain(t(lang, "close" if "submit" not in extra else "cancel"), MODAL_TITLE),
        "blocks": blocks,
    }
    for key, value in extra.items():
        view[key] = bk.plain(value, MODAL_TITLE) if key == "submit" else value
    return view


# -- intake -------------------------------------------------------------------------------------
def intake_modal(lang: str = "nl") -> dict:
    """The intake as one modal: the seven questions and the plan's language (eight fields)."""
    blocks: list[dict] = [bk.context(f":lock: {bk.escape(PlanService.privacy_note(lang))}")]
    for q in PlanService.questions(lang)[:-1]:
        key = q["key"]
        if key == "ambition":
            options = [_option(name, k) for k, name in AMBITION_NAMES[lang].items()]
            element = {
                "type": "static_select",
                "action_id": "v",
                "options": options,
                "initial_option": next(o for o in options if o["value"] == "out"),
            }
        else:
            element = {
                "type": "plain_text_input",
                "action_id": "v",
                "multiline": key in ("problem", "blocker"),
                "max_length": 300 if key == "innovation" else 2000,
            }
        blocks.append(
            {
                "type": "input",
                "block_id": key,
                "optional": key not in ("innovation", "ambition"),
                "label": bk.plain(q["text"], 2000),
                "element": element,
            }
        )
    langs = [_option(name, k) for k, name in _LANGS.items()]
    blocks.append(
        {
            "type": "input",
            "block_id": "language",
            "label": bk.plain(t(lang, "lang"), 2000),
            "element": {
                "type": "static_select",
                "action_id": "v",
                "options": langs,
                "initial_option": next(o for o in langs if o["value"] == lang),
            },
        }
    )
    return _modal(t(lang, "title"), blocks, lang, submit=t(lang, "submit"), callback_id=INTAKE)


def intake_values(view: dict) -> dict:
    """The submitted modal → the intake dict PlanService.parse_intake takes."""
    state = (view.get("state") or {}).get("values") or {}
    data = {}
    for block, actions in state.items():
        el = (actions or {}).get("v") or {}
        if el.get("type") == "static_select":
            value = (el.get("selected_option") or {}).get("value")
        else:
            value = el.get("value")
        if value is not None:
            data[block] = value
    return data


# -- what was detected ----------------------------------------------------------------------------
def detected_blocks(view: dict, step_plan: list[dict], obstacle_labels: dict[str, str]) -> list:
    """The DM after the intake: phase with reasons, obstacles, and menus to correct both."""
    lang = view["language"]
    phase = view["phase_name"] or t(lang, "none")
    why = bk.escape(view["phase_reason_text"])
    lines = [
        t(lang, "made").format(name=bk.escape(bk.cut(view["intake"]["innovation"], 200))),
        f"*{t(lang, 'phase')}:* {bk.escape(phase)}"
        + (f" ({t(lang, 'why')}: {why})" if why else ""),
        f"*{t(lang, 'obstacles')}:* "
        + (", ".join(bk.escape(o["label"]) for o in view["obstacles"]) or t(lang, "none")),
    ]
    phases = [_option(p["name"], ref(p=view["id"], f=p["key"])) for p in step_plan][:100]
    phase_menu = {
        "type": "static_select",
        "action_id": ACTION_PHASE,
        "placeholder": bk.plain(t(lang, "pick_phase"), 150),
        "options": phases,
    }
    current = next((o for o in phases if json.loads(o["value"])["f"] == view["phase"]), None)
    if current:
        phase_menu["initial_option"] = current
    obstacles = [
        _option(label, ref(p=view["id"], o=key)) for key, label in obstacle_labels.items()
    ][:100]
    chosen = {o["key"] for o in view["obstacles"]}
    obstacle_menu = {
        "type": "multi_static_select",
        "action_id": ACTION_OBSTACLES,
        "placeholder": bk.plain(t(lang, "pick_obstacles"), 150),
        "options": obstacles,
    }
    initial = [o for o in obstacles if json.loads(o["value"])["o"] in chosen]
    if initial:
        obstacle_menu["initial_options"] = initial
    return [
        bk.section("\n".join(lines)),
        bk.section(t(lang, "fix_phase"), accessory=phase_menu, block_id="fix_phase"),
        bk.section(t(lang, "fix_obstacles"), accessory=obstacle_menu, block_id="fix_obstacles"),
        bk.context(t(lang, "chat_hint")),
    ]


def next_steps_text(result: dict, lang: str) -> str:
    lines = []
    if result.get("updated"):
        done = "Afgevinkt" if lang != "en" else "Ticked off"
        lines.append(f":white_check_mark: {done}: {bk.escape(result['updated']['title'])}")
    steps = result.get("next_steps") or []
    if steps:
        lines.append(f"*{t(lang, 'next')}:*")
        lines += [f"→ {bk.escape(s['title'])}" for s in steps]
    else:
        lines.append(t(lang, "all_done"))
    return "\n".join(lines)


# -- App Home -------------------------------------------------------------------------------------
def plan_blocks(view: dict) -> list[dict]:
    """One plan on the App Home: its phase, the next open tasks with a tick button, the people
    who faced its obstacles with an invite button, and who was invited already."""
    lang = view["language"]
    pid = view["id"]
    blocks: list[dict] = [
        {"type": "divider"},
        bk.section(f"*{bk.escape(bk.cut(view['intake']['innovation'], 200))}*"),
        bk.context(
            " · ".join(
                bk.escape(x) for x in (view["phase_name"] or "—", view["ambition_name"]) if x
            )
        ),
    ]
    steps = view["next_steps"]
    if steps:
        blocks.append(bk.section(f"*{t(lang, 'next')}*"))
    else:
        blocks.append(bk.section(t(lang, "all_done")))
    for task in steps:
        blocks.append(
            bk.section(
                f"☐ {bk.escape(task['title'])}",
                accessory=bk.button(t(lang, "tick"), ACTION_TICK, ref(p=pid, t=task["id"])),
                block_id=f"task:{pid}:{task['id']}",
            )
        )
    people = plan_people(view)
    if people:
        blocks.append(bk.section(f"*{t(lang, 'people')}*"))
    for person, ob in people[:3]:
        who = f"*{bk.escape(person['name'])}*"
        extra = ", ".join(
            bk.escape(x) for x in (person.get("role"), person.get("organisation")) if x
        )
        text = f"{who}{' — ' + extra if extra else ''}\n{bk.escape(person.get('reason') or '')}"
        blocks.append(
            bk.section(
                text,
                accessory=bk.button(
                    t(lang, "invite"), ACTION_INVITE, ref(p=pid, u=person["id"], o=ob["key"])
                ),
                block_id=f"person:{pid}:{person['id']}",
            )
        )
    if view["invitations"]:
        names = ", ".join(
            f"{bk.escape(i['name'])} ({i['created'][:10]})" for i in view["invitations"]
        )
        blocks.append(bk.context(f"{t(lang, 'invited')}: {names}"))
    blocks.append(
        {
            "type": "actions",
            "block_id": f"plan:{pid}",
            "elements": [
                bk.button(t(lang, "what_next"), ACTION_NEXT, ref(p=pid)),
                bk.button(t(lang, "export"), ACTION_EXPORT, ref(p=pid)),
            ],
        }
    )
    return blocks


def plans_section(views: list[dict], others: list[dict], lang: str = "nl") -> list[dict]:
    """The top of the App Home: a button for a new plan, then the user's plans."""
    blocks: list[dict] = [
        bk.header(t(lang, "home_head")),
        {
            "type": "actions",
            "block_id": "plans",
            "elements": [bk.button(t(lang, "new"), ACTION_NEW, "new", style="primary")],
        },
    ]
    if not views:
        blocks.append(bk.section(t(lang, "none_yet")))
    for v in views:
        blocks += plan_blocks(v)
    if others:
        names = "; ".join(bk.escape(bk.cut(p["innovation"], 80)) for p in others[:10])
        blocks.append(bk.context(f"{t(lang, 'more')}: {names}"))
    blocks.append({"type": "divider"})
    return blocks


# -- invitations ----------------------------------------------------------------------------------
def invite_modal(plan_id: str, person: dict, obstacle_label: str, lang: str) -> dict:
    """Step one: the concrete question for one person (prefilled from the obstacle)."""
    blocks = [
        bk.section(f"*{bk.escape(person['name'])}*"),
        {
            "type": "input",
            "block_id": "question",
            "label": bk.plain(t(lang, "ask"), 2000),
            "hint": bk.plain(t(lang, "ask_hint"), 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": "v",
                "multiline": True,
                "max_length": 500,
                "initial_value": t(lang, "question_default").format(label=obstacle_label)[:500],
            },
        },
    ]
    return _modal(
        t(lang, "invite"),
        blocks,
        lang,
        submit=t(lang, "draft"),
        callback_id=INVITE,
        private_metadata=ref(p=plan_id, u=person["id"]),
    )


def working_modal(lang: str) -> dict:
    return _modal(t(lang, "invite"), [bk.section(t(lang, "working"))], lang)


def message_modal(title: str, text: str, lang: str) -> dict:
    return _modal(title, [bk.section(bk.escape(text))], lang)


def draft_modal(plan_id: str, name: str, draft: dict, lang: str) -> dict:
    """Step two: the drafted invitation, editable; sent as a DM only where the person has a
    Slack id, else a text to copy (and an e-mail link when there is an address)."""
    blocks: list[dict] = [bk.section(t(lang, "draft_head").format(name=bk.escape(name)))]
    blocks.append(
        {
            "type": "input",
            "block_id": "text",
            "label": bk.plain(t(lang, "text"), 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": "v",
                "multiline": True,
                "max_length": 3000,
                "initial_value": draft["text"][:3000],
            },
        }
    )
    extra: dict = {"private_metadata": ref(p=plan_id, u=draft["person_id"])}
    if draft.get("slack"):
        blocks.append(bk.context(t(lang, "via_slack").format(name=bk.escape(name))))
        extra.update(submit=t(lang, "send"), callback_id=INVITE_SEND)
    else:
        blocks.append(bk.context(t(lang, "no_slack").format(name=bk.escape(name))))
        if draft.get("mailto") and len(draft["mailto"]) <= 3000:
            blocks.append(
                {
                    "type": "actions",
                    "block_id": "mail",
                    "elements": [
                        {
                            "type": "button",
                            "text": bk.plain(t(lang, "mail"), bk.BUTTON_TEXT),
                            "action_id": "opschaal_plan_mailto",
                            "url": draft["mailto"],
                        }
                    ],
                }
            )
    return _modal(t(lang, "invite"), blocks, lang, **extra)


def invitation_message(inviter: str, text: str, lang: str) -> list[dict]:
    """What the invited person receives: who invites them, and the text."""
    lead = (
        f"<@{inviter}> invites you, via Opschaalwijzer, to think along:"
        if lang == "en"
        else f"<@{inviter}> nodigt je via de Opschaalwijzer uit om mee te denken:"
    )
    return [bk.section(lead)] + [bk.section(p) for p in bk.split_text(bk.escape(text))]
