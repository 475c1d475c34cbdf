"""User-facing copy: per-language message templates (Dutch first, English where the user writes
English), and the small text helpers that copy needs."""

from __future__ import annotations

from typing import Literal

Language = Literal["nl", "en"]

#: Every user-facing sentence that is not composed from the sources, per language. Add a key to
#: both languages; :func:`message` falls back to Dutch for anything else.
MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        # the answer
        "no_answer": "Ik heb in de kennisbank geen goed onderbouwd antwoord op deze vraag gevonden.",
        "nearby": "Misschien helpen deze documenten, die er het dichtst bij liggen:",
        # the channels
        "thinking": "Ik zoek het op in de kennisbank…",
        "help": "Stel me een vraag over het opschalen van een digitale innovatie, bijvoorbeeld: "
        "“Hoe krijg ik draagvlak bij andere gemeenten?”",
        "welcome": "Hoi! Ik ben de Opschaalwijzer. Ik beantwoord vragen over opschalen met bronnen, "
        "wijs je op collega's die het al deden en geef volgende stappen. Stel gerust je vraag.",
        "thanks": "Bedankt voor je feedback!",
        # Slack has said it this way since its first release; one wording is the lead's call.
        "thanks_slack": "Dank je voor je feedback!",
        "gone": "Dat antwoord ken ik niet meer (misschien is het opgeruimd); stel de vraag opnieuw.",
        "error": "Er ging iets mis bij het beantwoorden; probeer het zo nog eens.",
        "bad_submit": "Die knop begrijp ik niet; stel je vraag opnieuw.",
    },
    "en": {
        "no_answer": "I could not find a well-supported answer to that in the knowledge base.",
        "nearby": "These documents come closest and may still help:",
        "thinking": "Searching the knowledge base…",
        "help": "Ask me a question about scaling a digital innovation, for example: "
        "“How do I get other municipalities on board?”",
        "welcome": "Hi! I'm Opschaalwijzer. I answer questions about scaling with sources, point you "
        "to colleagues who did it before and suggest next steps. Go ahead and ask.",
        "thanks": "Thanks for your feedback!",
        "thanks_slack": "Thanks for your feedback!",
        "gone": "I no longer know that answer (it may have been cleaned up); please ask again.",
        "error": "Something went wrong while answering; please try again in a moment.",
        "bad_submit": "I don't understand that button; please ask your question again.",
    },
}


def message(key: str, language: str | None = "nl") -> str:
    """The ``key`` sentence in ``language`` (English only when asked for; Dutch otherwise)."""
    return MESSAGES["en" if language == "en" else "nl"][key]


def lower_first(s: str) -> str:
    # "Directeur" → "directeur", but "CEO" and "CIO" stay as they are.
    return s[:1].lower() + s[1:] if len(s) > 1 and not s[1].isupper() else s
