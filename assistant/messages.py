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
        # people: why a person is recommended (the card shows name and role beside it)
        "kind_case": "de case",
        "kind_lesson": "de les",
        "kind_guide": "de handreiking",
        "kind_blog": "de blog",
        "kind_other": "het document",
        "did_lesson": "Deelde",
        "did_other": "Was betrokken bij",
        "contributed": "Werkte mee aan",
        "reason_written_shared": "Werkte mee aan {kind} “{title}” over {obstacle}, waar je vraag over gaat.",
        "reason_written": "Werkte mee aan {kind} “{title}” over {obstacle}.",
        "reason_lived_shared": "{did} {kind} “{title}” en liep daar tegen hetzelfde obstakel aan: {obstacle}.",
        "reason_lived": "{did} {kind} “{title}”, die over {obstacle} ging.",
        "reason_obstacle_shared": "Heeft praktijkervaring met hetzelfde obstakel: {obstacle}.",
        "reason_obstacle": "Heeft praktijkervaring met het obstakel ‘{obstacle}’.",
        "reason_document": "{did} {kind} “{title}”, die aansluit op je vraag.",
        "reason_none": "Heeft ervaring die aansluit op je vraag.",
        # people: the opening of a people-first answer (it names nobody: the cards do)
        "people_first_none": "Ik vond in de lijst van mensen die benaderd willen worden niemand met "
        "aantoonbare ervaring hiermee. Dit zegt de kennisbank erover:",
        "people_first_one": "Eén persoon heeft",
        "people_first_many": "{count} mensen hebben",
        # The label is quoted as a name: "ervaring met geen eigenaar" would not read.
        "people_first_topic": "ervaring met het obstakel ‘{topic}’",
        "people_first_any": "relevante ervaring",
        "people_first": "{who} {about}: je vindt ze hieronder, met waarom ze passen. Vraag om een "
        "introductie voor een conceptbericht.\n\nDit zegt de kennisbank erover:",
        "count_2": "twee",
        "count_3": "drie",
        "count_4": "vier",
        "count_5": "vijf",
        # people: the draft introduction the asker can send
        "intro_greeting": "Beste {first},",
        "intro_name": "[je naam]",
        "intro_me": "Mijn naam is {name}.",
        "intro_me_at": "Mijn naam is {name} en ik werk bij {organisation}.",
        "intro_why_written": "Via de Opschaalwijzer kwam ik bij jou uit: jij werkte mee aan {kind} "
        "“{title}” over {topic}, het obstakel waar wij nu mee zitten.",
        "intro_why_lived": "Via de Opschaalwijzer kwam ik bij jou uit: bij {kind} “{title}” liep jij "
        "tegen hetzelfde obstakel aan waar wij nu mee zitten, {topic}.",
        "intro_why_topic": "Via de Opschaalwijzer kwam ik bij jou uit, omdat jij praktijkervaring hebt "
        "met hetzelfde obstakel waar wij nu mee zitten, {topic}.",
        "intro_why": "Via de Opschaalwijzer kwam ik bij jou uit, omdat jouw ervaring aansluit op waar "
        "wij mee bezig zijn.",
        "intro_question_topic": "Onze vraag is: “{question}” Ik zou graag van je leren hoe jullie "
        "{topic} hebben aangepakt, wat werkte en wat je achteraf anders zou doen.",
        "intro_question": "Onze vraag is: “{question}” Ik zou graag van je leren hoe jullie dat "
        "hebben aangepakt, wat werkte en wat je achteraf anders zou doen.",
        "intro_call": "Heb je de komende weken een half uur voor een kort (video)gesprek? Ik pas me "
        "graag aan jouw agenda aan.",
        "intro_closing": "Met vriendelijke groet,",
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
        "kind_case": "the case",
        "kind_lesson": "the lesson",
        "kind_guide": "the guide",
        "kind_blog": "the blog post",
        "kind_other": "the document",
        "did_lesson": "Shared",
        "did_other": "Was involved in",
        "contributed": "Contributed to",
        "reason_written_shared": "Contributed to {kind} “{title}” on {obstacle}, the obstacle your "
        "question is about.",
        "reason_written": "Contributed to {kind} “{title}” on {obstacle}.",
        "reason_lived_shared": "{did} {kind} “{title}” and ran into the same obstacle there: {obstacle}.",
        "reason_lived": "{did} {kind} “{title}”, which dealt with {obstacle}.",
        "reason_obstacle_shared": "Has hands-on experience with the same obstacle, {obstacle}.",
        "reason_obstacle": "Has hands-on experience with the obstacle ‘{obstacle}’.",
        "reason_document": "{did} {kind} “{title}”, which matches your question.",
        "reason_none": "Has experience that matches your question.",
        "people_first_none": "I found nobody in the directory of people who agreed to be contacted "
        "with proven experience in this. What the knowledge base says:",
        "people_first_one": "One person has",
        "people_first_many": "{count} people have",
        "people_first_topic": "experience with the obstacle ‘{topic}’",
        "people_first_any": "relevant experience",
        "people_first": "{who} {about}: see the people below, with why each is a good match. Ask for "
        "an introduction to get a draft message.\n\nWhat the knowledge base says:",
        "count_2": "two",
        "count_3": "three",
        "count_4": "four",
        "count_5": "five",
        "intro_greeting": "Dear {first},",
        "intro_name": "[your name]",
        "intro_me": "My name is {name}.",
        "intro_me_at": "My name is {name} and I work at {organisation}.",
        "intro_why_written": "Opschaalwijzer pointed me to you: you contributed to {kind} “{title}” on "
        "{topic}, the obstacle we are facing now.",
        "intro_why_lived": "Opschaalwijzer pointed me to you: in {kind} “{title}” you dealt with "
        "{topic}, the same obstacle we are facing now.",
        "intro_why_topic": "Opschaalwijzer pointed me to you, because you have hands-on experience "
        "with {topic}, the same obstacle we are facing now.",
        "intro_why": "Opschaalwijzer pointed me to you, because your experience matches what we are "
        "working on.",
        "intro_question_topic": "Our question is: “{question}” I would like to learn how you "
        "approached {topic}, what worked and what you would do differently now.",
        "intro_question": "Our question is: “{question}” I would like to learn how you approached "
        "it, what worked and what you would do differently now.",
        "intro_call": "Would you have half an hour for a short (video) call in the coming weeks? I am "
        "happy to fit in with your schedule.",
        "intro_closing": "Kind regards,",
    },
}


def message(key: str, language: str | None = "nl", **fields: object) -> str:
    """The ``key`` sentence in ``language`` (English only when asked for; Dutch otherwise),
    with ``{name}`` placeholders filled from ``fields``."""
    text = MESSAGES["en" if language == "en" else "nl"][key]
    return text.format(**fields) if fields else text


def count_word(n: int, language: str | None = "nl") -> str:
    """ "twee", "three": small counts as a word, larger ones as digits."""
    return message(f"count_{n}", language) if 2 <= n <= 5 else str(n)


def lower_first(s: str) -> str:
    # "Directeur" → "directeur", but "CEO" and "CIO" stay as they are.
    return s[:1].lower() + s[1:] if len(s) > 1 and not s[1].isupper() else s
