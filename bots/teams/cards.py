"""Adaptive Cards (schema 1.5) for answers, introductions and small notices in Teams.

Pure functions from ``Answer`` to card JSON, so the rendering is testable without Teams.
Every ``Action.Submit`` carries ``{"opschaal": <kind>, ...}`` so the agent can tell our own
card submits from anything else a client might send.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from assistant.markup import parse
from assistant.models import Answer, Citation, PersonCard

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
SUBMIT_KEY = "opschaal"

LABELS = {
    "nl": {
        "sources": "Bronnen",
        "people": "Mensen om te spreken",
        "next": "Volgende stappen",
        "phase": "Fase",
        "intro": "Stel me voor",
        "chat": "Chat in Teams",
        "mail": "Mail",
        "up": "👍 Nuttig",
        "down": "👎 Niet nuttig",
        "open_chat": "Open chat met dit bericht",
        "open_mail": "Open e-mail met dit bericht",
        "intro_title": "Voorstel voor een introductie aan {name}",
    },
    "en": {
        "sources": "Sources",
        "people": "People to talk to",
        "next": "Next steps",
        "phase": "Phase",
        "intro": "Introduce me",
        "chat": "Chat in Teams",
        "mail": "Email",
        "up": "👍 Helpful",
        "down": "👎 Not helpful",
        "open_chat": "Open chat with this message",
        "open_mail": "Open email with this message",
        "intro_title": "Suggested introduction to {name}",
    },
}


def labels(language: str | None) -> dict[str, str]:
    return LABELS["en" if language == "en" else "nl"]


def source_url(c: Citation, public_url: str | None) -> str | None:
    return c.source_url(public_url)


def teams_chat_link(upn: str, message: str | None = None) -> str:
    params = {"users": upn}
    if message:
        params["message"] = message
    return "https://teams.microsoft.com/l/chat/0/0?" + urlencode(params, quote_via=quote, safe="@")


def mailto_link(email: str, subject: str | None = None, body: str | None = None) -> str:
    params = {k: v for k, v in (("subject", subject), ("body", body)) if v}
    query = ("?" + urlencode(params, quote_via=quote)) if params else ""
    return f"mailto:{quote(email, safe='@')}{query}"


def contact_action(person: PersonCard, language: str | None) -> dict | None:
    """Teams chat deep link when the person has a UPN, else mailto, else nothing."""
    lab = labels(language)
    if person.contact.get("teams"):
        return {
            "type": "Action.OpenUrl",
            "title": lab["chat"],
            "url": teams_chat_link(person.contact["teams"]),
        }
    if person.contact.get("email"):
        return {
            "type": "Action.OpenUrl",
            "title": lab["mail"],
            "url": mailto_link(person.contact["email"]),
        }
    return None


def _text(text: str, **kw) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **kw}


def _md_escape(text: str) -> str:
    # Titles go inside markdown link text; brackets would end the link early.
    return text.replace("[", "(").replace("]", ")")


def _citation_line(c: Citation, public_url: str | None) -> str:
    url = source_url(c, public_url)
    title = _md_escape(c.title)
    shown = f"[{title}]({url})" if url else f"{title} ({c.doc_id})"
    return f"**[{c.n}]** {shown}"


def _person_block(p: PersonCard, answer: Answer) -> dict:
    lab = labels(answer.language)
    sub = " · ".join(x for x in (p.role, p.organisation) if x)
    items = [_text(p.name, weight="Bolder")]
    if sub:
        items.append(_text(sub, isSubtle=True, spacing="None"))
    items.append(_text(p.reason, spacing="Small"))
    actions = []
    if answer.answer_id:
        actions.append(
            {
                "type": "Action.Submit",
                "title": lab["intro"],
                "data": {SUBMIT_KEY: "intro", "answer_id": answer.answer_id, "person_id": p.id},
            }
        )
    contact = contact_action(p, answer.language)
    if contact:
        actions.append(contact)
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def answer_text_blocks(text: str) -> list[dict]:
    """The answer's paragraphs, section labels and lists as TextBlocks: a label bold, a list as
    one block of Markdown list lines (Adaptive Cards render ``- `` and ``1. `` natively)."""
    out: list[dict] = []
    for block in parse(text):
        spacing = {"spacing": "Medium"} if out else {}
        if block.kind == "label":
            out.append(_text(block.text, weight="Bolder", **spacing))
        elif block.kind == "list":
            lines = []
            for i, item in enumerate(block.items, start=1):
                lines.append(f"{i}. {item.text}" if block.ordered else f"- {item.text}")
                lines += [f"    - {c.text}" for c in item.children]
            out.append(_text("\r".join(lines), spacing="Small"))
        else:
            out.append(_text(block.text, **spacing))
    return out or [_text(text)]


def answer_card(answer: Answer, public_url: str | None = None, include_text: bool = True) -> dict:
    """The answer as an Adaptive Card.

    ``include_text=False`` is for streamed replies, where Teams already shows the text (with
    its citation entities) in the message itself and repeating it in the card would be noise.
    """
    lab = labels(answer.language)
    body: list[dict] = []
    if include_text:
        body.extend(answer_text_blocks(answer.answer))
    if answer.citations:
        body.append(_text(lab["sources"], weight="Bolder", separator=True, spacing="Medium"))
        for c in sorted(answer.citations, key=lambda c: c.n):
            body.append(_text(_citation_line(c, public_url), spacing="Small"))
    if answer.people:
        body.append(_text(lab["people"], weight="Bolder", separator=True, spacing="Medium"))
        body.extend(_person_block(p, answer) for p in answer.people)
    if answer.next_steps:
        heading = lab["next"]
        if answer.phase:
            heading += f" ({lab['phase'].lower()}: {answer.phase_name or answer.phase})"
        body.append(_text(heading, weight="Bolder", separator=True, spacing="Medium"))
        body.extend(_text(f"→ {s}", spacing="Small") for s in answer.next_steps)
    if not body:
        body.extend(answer_text_blocks(answer.answer))
    actions = []
    if answer.answer_id:
        for rating in ("up", "down"):
            actions.append(
                {
                    "type": "Action.Submit",
                    "title": lab[rating],
                    "data": {
                        SUBMIT_KEY: "feedback",
                        "answer_id": answer.answer_id,
                        "rating": rating,
                    },
                }
            )
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "actions": actions,
    }


def intro_card(name: str, text: str, contact: dict[str, str], language: str | None) -> dict:
    """The drafted introduction, with a button that opens it ready to send."""
    lab = labels(language)
    actions = []
    if contact.get("teams"):
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": lab["open_chat"],
                "url": teams_chat_link(contact["teams"], text),
            }
        )
    elif contact.get("email"):
        subject = (
            "Kennismaking via Opschaalwijzer"
            if language != "en"
            else "Introduction via Opschaalwijzer"
        )
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": lab["open_mail"],
                "url": mailto_link(contact["email"], subject, text),
            }
        )
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": CARD_VERSION,
        "body": [_text(lab["intro_title"].format(name=name), weight="Bolder"), _text(text)],
        "actions": actions,
    }


def attachment(card: dict):
    from microsoft_agents.activity import Attachment

    return Attachment(content_type=CARD_CONTENT_TYPE, content=card)
