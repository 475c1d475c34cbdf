"""Adaptive Card rendering of an ``Answer``: pure functions, no Teams needed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from assistant.models import Answer, Citation, PersonCard
from bots.teams import cards


def make_answer(**kw) -> Answer:
    base = dict(
        question="Hoe besteden we samen aan?",
        language="nl",
        answer="Doe één aanbesteding met een raamovereenkomst [1]. Leg het budget vast [2].",
        abstained=False,
        citations=[
            Citation(
                n=1,
                doc_id="cases/gedeelde-aanbesteding",
                title="Vier gemeenten [samen]",
                url="https://example.org/case",
                type="case",
                snippet="…",
                score=0.9,
            ),
            Citation(
                n=2,
                doc_id="lessons/budget",
                title="Budget",
                url=None,
                type="lesson",
                snippet="…",
                score=0.5,
            ),
        ],
        people=[
            PersonCard(
                id="kees-kort",
                name="Kees Kort",
                role="inkoper",
                organisation="Testgemeente Noord",
                reason="Kees deed een gezamenlijke aanbesteding.",
                contact={"teams": "kees.kort@example.org", "email": "kees@example.org"},
            ),
            PersonCard(
                id="lotte-lang",
                name="Lotte Lang",
                reason="Lotte kent de AVG.",
                contact={"email": "lotte-lang@example.org"},
            ),
            PersonCard(id="zonder-contact", name="Zonder Contact", reason="Weet veel."),
        ],
        phase="uitrol",
        next_steps=["Spreek een trekker af.", "Maak een businesscase."],
        answer_id="a1b2c3",
    )
    base.update(kw)
    return Answer(**base)


def actions_in(node) -> list[dict]:
    found = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for v in node.values():
            found += actions_in(v)
    elif isinstance(node, list):
        for v in node:
            found += actions_in(v)
    return found


def test_card_structure_text_sources_people_steps_feedback():
    card = cards.answer_card(make_answer(), public_url="https://opschaal.example.nl")
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["$schema"].startswith("http://adaptivecards.io/")
    body = card["body"]
    assert body[0] == {"type": "TextBlock", "text": make_answer().answer, "wrap": True}
    texts = [b.get("text", "") for b in body]
    assert "Bronnen" in texts and "Mensen om te spreken" in texts
    assert "**[1]** [Vier gemeenten (samen)](https://example.org/case)" in texts
    # no url of its own: the service's source page
    assert "**[2]** [Budget](https://opschaal.example.nl/bronnen/lessons/budget)" in texts
    assert any(t.startswith("Volgende stappen") and "uitrol" in t for t in texts)
    assert "→ Spreek een trekker af." in texts
    assert card["actions"] == [
        {
            "type": "Action.Submit",
            "title": "👍 Nuttig",
            "data": {"opschaal": "feedback", "answer_id": "a1b2c3", "rating": "up"},
        },
        {
            "type": "Action.Submit",
            "title": "👎 Niet nuttig",
            "data": {"opschaal": "feedback", "answer_id": "a1b2c3", "rating": "down"},
        },
    ]


def test_people_have_reason_intro_and_contact_link():
    card = cards.answer_card(make_answer())
    people = [b for b in card["body"] if b["type"] == "Container"]
    assert len(people) == 3
    kees, lotte, nobody = people
    assert kees["items"][0]["text"] == "Kees Kort"
    assert any(i.get("text") == "Kees deed een gezamenlijke aanbesteding." for i in kees["items"])
    kees_actions = actions_in(kees)
    assert kees_actions[0]["data"] == {
        "opschaal": "intro",
        "answer_id": "a1b2c3",
        "person_id": "kees-kort",
    }
    link = urlsplit(kees_actions[1]["url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "teams.microsoft.com", "/l/chat/0/0")
    assert parse_qs(link.query)["users"] == ["kees.kort@example.org"]
    assert actions_in(lotte)[1]["url"] == "mailto:lotte-lang@example.org"
    assert [a["type"] for a in actions_in(nobody)] == ["Action.Submit"]


def test_english_labels_and_no_links_without_urls():
    answer = make_answer(language="en", people=[], next_steps=[], phase=None)
    card = cards.answer_card(answer, public_url=None)
    texts = [b.get("text", "") for b in card["body"]]
    assert "Sources" in texts
    assert "**[2]** Budget (lessons/budget)" in texts
    assert [a["title"] for a in card["actions"]] == ["👍 Helpful", "👎 Not helpful"]


def test_streamed_card_leaves_the_text_to_the_message():
    card = cards.answer_card(make_answer(), include_text=False)
    assert all(b.get("text") != make_answer().answer for b in card["body"])
    bare = cards.answer_card(
        make_answer(citations=[], people=[], next_steps=[]), include_text=False
    )
    assert bare["body"][0]["text"] == make_answer().answer  # never an empty card


def test_unsaved_answer_has_no_submit_actions():
    card = cards.answer_card(make_answer(answer_id=None))
    assert not [a for a in actions_in(card) if a["type"] == "Action.Submit"]


def test_intro_card_opens_chat_or_mail_with_the_text():
    text = "Beste Kees,\n\nZullen we praten?"
    chat = cards.intro_card("Kees Kort", text, {"teams": "kees.kort@example.org"}, "nl")
    url = urlsplit(chat["actions"][0]["url"])
    assert parse_qs(url.query) == {"users": ["kees.kort@example.org"], "message": [text]}
    mail = cards.intro_card("Lotte Lang", text, {"email": "lotte@example.org"}, "en")
    murl = urlsplit(mail["actions"][0]["url"])
    assert murl.scheme == "mailto" and parse_qs(murl.query)["body"] == [text]
    assert mail["body"][0]["text"] == "Suggested introduction to Lotte Lang"
    assert cards.intro_card("X", text, {}, "nl")["actions"] == []


def test_clip_respects_teams_citation_limits():
    from bots.teams.agent import clip

    long = "woord " * 100
    assert len(clip(long, 80)) <= 80 and clip(long, 80).endswith("…")
    assert clip("kort", 80) == "kort"
    assert len(clip("x" * 500, 160)) == 160


STRUCTURED = (
    "Wijs een eigenaar aan voordat de pilot eindigt [1].\n\n"
    "Wat je kunt doen:\n1. Wijs een eigenaar aan.\n2. Plan de overdracht. [1]\n\n"
    "Let op:\n- Beheer als sluitpost. [2]"
)


def test_sections_and_lists_become_text_blocks_teams_renders_as_lists():
    body = cards.answer_card(make_answer(answer=STRUCTURED))["body"]
    assert body[0]["text"] == "Wijs een eigenaar aan voordat de pilot eindigt [1]."
    assert body[1] == {
        "type": "TextBlock", "text": "Wat je kunt doen", "wrap": True, "weight": "Bolder",
        "spacing": "Medium",
    }  # fmt: skip
    # Adaptive Cards' Markdown subset: list lines separated by \r.
    assert body[2]["text"] == "1. Wijs een eigenaar aan.\r2. Plan de overdracht. [1]"
    assert body[3]["text"] == "Let op" and body[3]["weight"] == "Bolder"
    assert body[4]["text"] == "- Beheer als sluitpost. [2]"
