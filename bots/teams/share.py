"""Share back from Teams: "deel" sends an Adaptive Card form; its submit becomes a contribution."""

from __future__ import annotations

from assistant.knowledge import Obstacle

from .cards import SUBMIT_KEY

SHARE_WORDS = {"deel", "delen", "share", "deel je ervaring"}
FIELDS = ("title", "tried", "obstacles", "learned", "organisation", "contact_ok", "name", "email")


def is_share(text: str) -> bool:
    return (text or "").strip().lower() in SHARE_WORDS


def share_card(obstacles: dict[str, Obstacle]) -> dict:
    choices = [{"title": o.label, "value": k} for k, o in sorted(obstacles.items())]

    def text(id_: str, label: str, multiline: bool = False, required: bool = True) -> dict:
        return {
            "type": "Input.Text",
            "id": id_,
            "label": label,
            "isMultiline": multiline,
            "isRequired": required,
            "errorMessage": f"{label} is verplicht" if required else None,
        }

    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [
            {
                "type": "TextBlock",
                "text": "Deel je ervaring",
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {
                "type": "TextBlock",
                "text": "Een curator bekijkt je bijdrage voordat die in de kennisbank komt.",
                "wrap": True,
            },
            text("title", "Titel"),
            text("tried", "Wat heb je geprobeerd?", multiline=True),
            {
                "type": "Input.ChoiceSet",
                "id": "obstacles",
                "label": "Waar liep je tegenaan?",
                "isMultiSelect": True,
                "isRequired": True,
                "errorMessage": "Kies minstens één obstakel",
                "choices": choices,
            },
            text("learned", "Wat heb je geleerd?", multiline=True),
            text("organisation", "Organisatie"),
            {
                "type": "Input.ChoiceSet",
                "id": "contact_ok",
                "label": "Mogen anderen je benaderen?",
                "style": "expanded",
                "isRequired": True,
                "errorMessage": "Kies ja of nee",
                "choices": [{"title": "Ja", "value": "ja"}, {"title": "Nee", "value": "nee"}],
            },
            text("name", "Naam (alleen als je benaderd mag worden)", required=False),
            text("email", "E-mailadres (alleen als je benaderd mag worden)", required=False),
        ],
        "actions": [{"type": "Action.Submit", "title": "Insturen", "data": {SUBMIT_KEY: "share"}}],
    }


def submission(value: dict) -> dict:
    """Adaptive Card inputs → contribution fields (multi-select arrives comma-separated)."""
    data = {k: value.get(k) for k in FIELDS if value.get(k) not in (None, "")}
    if isinstance(data.get("obstacles"), str):
        data["obstacles"] = [o for o in data["obstacles"].split(",") if o]
    if "contact_ok" in data:
        data["contact_ok"] = {"ja": True, "nee": False}.get(
            str(data["contact_ok"]).lower(), data["contact_ok"]
        )
    return data
