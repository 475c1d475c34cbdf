"""Render answers, help, the intro DM and the App Home as Block Kit, within Slack's limits.

Slack rejects a whole message when one block is too long, so every text that comes from the
corpus or the user is cut to size here instead of trusting it to be short.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from assistant.markup import is_label
from assistant.models import Answer, Citation, PersonCard

# Slack's documented limits (Block Kit reference).
MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100
SECTION_TEXT = 3000
CONTEXT_TEXT = 3000
CONTEXT_ELEMENTS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
OVERFLOW_OPTIONS = 5
#: The top-level ``text`` is the notification/fallback; Slack truncates beyond 40k, but a
#: notification longer than this is useless.
FALLBACK_TEXT = 3000

# action_ids the listeners in actions.py subscribe to.
ACTION_UP = "opschaal_feedback_up"
ACTION_DOWN = "opschaal_feedback_down"
ACTION_SOURCE = "opschaal_source_feedback"
ACTION_INTRO = "opschaal_intro"

EXAMPLES = {
    "nl": [
        "Waar moet ik beginnen met opschalen?",
        "Hoe creëer ik draagvlak bij andere gemeenten?",
        "Wie heeft ervaring met een gezamenlijke aanbesteding?",
        "Wat moet ik regelen voor beheer na de pilot?",
    ],
    "en": [
        "Where do I start with scaling?",
        "Who has experience with joint procurement?",
    ],
}

_T = {
    "nl": {
        "sources": "Bronnen",
        "phase": "Fase",
        "next": "Volgende stappen",
        "people": "Mensen om te spreken",
        "intro": "Stel me voor",
        "up": "👍 Nuttig",
        "down": "👎 Niet nuttig",
        "source_fb": "Bron [{n}] klopt niet",
        "asked_by": "Vraag van <@{user}>",
        "private": "Alleen zichtbaar voor jou",
        "cut": "_(ingekort; vraag door in deze thread voor meer)_",
        "searching": "Even zoeken… :mag:",
    },
    "en": {
        "sources": "Sources",
        "phase": "Phase",
        "next": "Next steps",
        "people": "People to talk to",
        "intro": "Introduce me",
        "up": "👍 Helpful",
        "down": "👎 Not helpful",
        "source_fb": "Source [{n}] is wrong",
        "asked_by": "Question from <@{user}>",
        "private": "Only visible to you",
        "cut": "_(shortened; ask a follow-up in this thread for more)_",
        "searching": "Searching… :mag:",
    },
}


def t(lang: str, key: str) -> str:
    return _T.get(lang, _T["nl"])[key]


def placeholder(lang: str = "nl") -> str:
    return t(lang, "searching")


# -- text helpers -------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    head = text[:room]
    # Do not cut inside a Slack link or entity: that would render as broken markup.
    for opener, closer in (("<", ">"), ("&", ";")):
        i = head.rfind(opener)
        if i != -1 and head.find(closer, i) == -1:
            head = head[:i]
    space = head.rfind(" ")
    if space > room * 0.6:
        head = head[:space]
    return head.rstrip() + ellipsis


_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
_BULLET = re.compile(r"^(\s*)[-*]\s+", re.M)
# "1. item" stays as it is: mrkdwn has no ordered lists, and the number reads as one.


def to_mrkdwn(markdown: str) -> str:
    """Markdown from the answerer to Slack mrkdwn, with user/corpus text escaped."""
    links: list[str] = []

    def keep_link(m: re.Match) -> str:
        links.append(f"<{m.group(2)}|{escape(m.group(1)).replace('|', '/')}>")
        return f"\x00{len(links) - 1}\x00"

    text = _MD_LINK.sub(keep_link, markdown)
    text = escape(text)
    text = _HEADING.sub(lambda m: f"*{m.group(1)}*", text)
    # Section labels ("Wat je kunt doen:") on a line of their own become bold headings.
    text = "\n".join(
        f"*{ln.strip().rstrip(':')}*" if is_label(ln) else ln for ln in text.split("\n")
    )
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def split_text(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Split on paragraph, then line, then word boundaries into pieces of at most ``limit``."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        at = max(window.rfind("\n\n"), -1)
        if at < limit * 0.4:
            at = window.rfind("\n")
        if at < limit * 0.4:
            at = window.rfind(" ")
        if at < limit * 0.4:
            at = limit
        piece = rest[:at].rstrip()
        # Never leave a half Slack link at the end of a piece.
        lt = piece.rfind("<")
        if lt != -1 and piece.find(">", lt) == -1 and lt > 0:
            at = lt
            piece = rest[:at].rstrip()
        pieces.append(piece)
        rest = rest[at:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def section(text: str, accessory: dict | None = None, block_id: str | None = None) -> dict:
    block: dict = {"type": "section", "text": mrkdwn(cut(text, SECTION_TEXT))}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def context(*texts: str) -> dict:
    return {
        "type": "context",
        "elements": [mrkdwn(cut(x, CONTEXT_TEXT)) for x in texts[:CONTEXT_ELEMENTS]],
    }


def header(text: str) -> dict:
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"button value for {action_id} is longer than {BUTTON_VALUE} characters")
    b = {"type": "button", "text": plain(text, BUTTON_TEXT), "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


# -- answers --------------------------------------------------------------------------------------
def source_url(c: Citation, public_url: str | None) -> str | None:
    return c.source_url(public_url)


def source_line(c: Citation, public_url: str | None) -> str:
    title = escape(cut(c.title, 200)).replace("|", "/")
    url = source_url(c, public_url)
    label = f"<{url}|{title}>" if url else f"*{title}*"
    return f"[{c.n}] {label} · _{escape(c.type)}_"


def _person_text(p: PersonCard) -> str:
    who = f"*{escape(p.name)}*"
    extra = ", ".join(escape(x) for x in (p.role, p.organisation) if x)
    if extra:
        who += f" — {extra}"
    return f"{who}\n{escape(p.reason)}"


def intro_value(answer_id: str | None, person_id: str) -> str:
    return json.dumps({"a": answer_id, "p": person_id}, separators=(",", ":"))


def answer_blocks(
    answer: Answer,
    *,
    public_url: str | None = None,
    phase_names: dict[str, str] | None = None,
    asked_by: str | None = None,
    ephemeral: bool = False,
) -> list[dict]:
    """The answer as message blocks: text, numbered sources, phase and next steps, people cards
    with a "Stel me voor" button, and feedback buttons. Always at most 50 blocks."""
    lang = answer.language
    head: list[dict] = []
    if asked_by:
        head.append(
            context(
                f"{t(lang, 'asked_by').format(user=asked_by)}: _{escape(cut(answer.question, 500))}_"
            )
        )

    tail: list[dict] = []
    if answer.citations:
        lines = [f"*{t(lang, 'sources')}*"]
        lines += [source_line(c, public_url) for c in answer.citations]
        accessory = None
        if answer.answer_id:
            options = [
                {
                    "text": plain(t(lang, "source_fb").format(n=c.n), OPTION_TEXT),
                    "value": f"{answer.answer_id}|{c.n}"[:OPTION_VALUE],
                }
                for c in answer.citations[:OVERFLOW_OPTIONS]
            ]
            accessory = {"type": "overflow", "action_id": ACTION_SOURCE, "options": options}
        tail.append(section("\n".join(lines), accessory=accessory))

    if answer.phase or answer.next_steps:
        name = answer.phase_name or (phase_names or {}).get(answer.phase or "", answer.phase or "")
        parts = []
        if name:
            parts.append(
                f"*{t(lang, 'phase')}:* {escape(name.capitalize() if name == answer.phase else name)}"
            )
        if answer.next_steps:
            steps = "\n".join(f"→ {escape(s)}" for s in answer.next_steps)
            parts.append(f"*{t(lang, 'next')}:*\n{steps}")
        tail.append(context("\n".join(parts)))

    if answer.people:
        tail.append(section(f"*{t(lang, 'people')}*"))
        for p in answer.people:
            accessory = button(t(lang, "intro"), ACTION_INTRO, intro_value(answer.answer_id, p.id))
            tail.append(section(_person_text(p), accessory=accessory, block_id=f"person:{p.id}"))

    if answer.answer_id:
        tail.append(
            {
                "type": "actions",
                "block_id": "feedback",
                "elements": [
                    button(t(lang, "up"), ACTION_UP, answer.answer_id),
                    button(t(lang, "down"), ACTION_DOWN, answer.answer_id),
                ],
            }
        )
    if ephemeral:
        tail.append(context(f":lock: {t(lang, 'private')}"))

    body = [section(piece) for piece in split_text(to_mrkdwn(answer.answer) or "…")]
    room = MAX_MESSAGE_BLOCKS - len(head) - len(tail)
    if len(body) > room:
        body = body[: max(room - 1, 1)] + [section(t(lang, "cut"))]
    blocks = head + body + tail
    return blocks[:MAX_MESSAGE_BLOCKS]


def fallback_text(answer: Answer) -> str:
    """Plain notification text (shown in notifications and by clients without Block Kit)."""
    return cut(answer.answer, FALLBACK_TEXT)


def error_blocks(message: str) -> list[dict]:
    return [section(f":warning: {escape(message)}")]


# -- help, intro, home ---------------------------------------------------------------------------
def help_blocks(lang: str = "nl", command: str = "/opschaal") -> list[dict]:
    if lang == "en":
        text = (
            "*Opschaalwijzer* answers questions about scaling digital innovations, with sources, "
            "people who have done it, and the next steps.\n"
            f"• `{command} <question>`: ask here\n"
            f"• `{command} private <question>`: answer only visible to you\n"
            "• mention me in a channel: I answer in a thread; ask follow-ups in that thread\n"
            "• or send me a direct message"
        )
    else:
        text = (
            "*Opschaalwijzer* beantwoordt vragen over het opschalen van digitale innovaties, met "
            "bronnen, mensen die het al deden en de volgende stappen.\n"
            f"• `{command} <vraag>`: stel je vraag hier\n"
            f"• `{command} privé <vraag>`: antwoord alleen voor jou zichtbaar\n"
            "• noem mij in een kanaal: ik antwoord in een thread; vervolgvragen stel je in die thread\n"
            "• of stuur mij een direct bericht"
        )
    examples = "\n".join(f"• _{escape(q)}_" for q in EXAMPLES.get(lang, EXAMPLES["nl"]))
    label = "Examples" if lang == "en" else "Voorbeelden"
    return [section(text), section(f"*{label}*\n{examples}")]


def intro_blocks(person: dict, intro: str, lang: str = "nl") -> list[dict]:
    """The DM with a ready-to-send introduction; contact details only go to the asker, privately."""
    name = escape(person.get("name") or "")
    if lang == "en":
        lead = f"Here is an introduction you can send to *{name}*. Copy it, adjust it, and send it."
    else:
        lead = f"Hier is een introductie die je aan *{name}* kunt sturen. Kopieer, pas aan en verstuur."
    blocks = [section(lead)]
    for piece in split_text(escape(intro), SECTION_TEXT - 8):
        blocks.append(section(f"```{piece}```"))
    contact = person.get("contact") or {}
    ways = []
    if contact.get("slack"):
        ways.append(f"Slack: <@{escape(contact['slack'])}>")
    if contact.get("email"):
        ways.append(f"e-mail: <mailto:{contact['email']}|{escape(contact['email'])}>")
    if contact.get("teams"):
        ways.append(f"Teams: {escape(contact['teams'])}")
    if ways:
        blocks.append(context(("Contact: " if lang == "nl" else "Contact: ") + " · ".join(ways)))
    return blocks


def home_view(step_plan: Iterable[dict], lang: str = "nl", top: list[dict] | None = None) -> dict:
    """The App Home tab: the user's plans (``top``), what the bot does, example questions and
    the step plan."""
    blocks: list[dict] = [header("Opschaalwijzer"), *(top or [])]
    blocks += help_blocks(lang)
    blocks.append({"type": "divider"})
    phases = list(step_plan)
    if phases:
        blocks.append(header("Het stappenplan" if lang == "nl" else "The step plan"))
        # Two blocks per phase; leave room for the blocks above within Slack's 100.
        for i, p in enumerate(phases[: (MAX_HOME_BLOCKS - len(blocks)) // 2], start=1):
            desc = escape(p.get("description") or "")
            steps = "\n".join(f"→ {escape(s)}" for s in (p.get("steps") or [])[:6])
            blocks.append(
                section(
                    f"*{i}. {escape(p.get('name') or p.get('key', ''))}*\n{desc}\n{steps}".strip()
                )
            )
            questions = p.get("questions") or []
            if questions:
                blocks.append(context(*[f"? {escape(q)}" for q in questions[:3]]))
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}
