"""Evidence units, reference resolution, selection, composition and the answer markup."""

from __future__ import annotations

import math

import pytest

from assistant.answering import SECTIONS, Evidence, ExtractiveAnswerer
from assistant.index import ChunkRecord
from assistant.markup import parse
from assistant.selection import ScoredUnit, Selector, question_focus
from assistant.text import Analyzer
from assistant.units import (
    below_title,
    build_units,
    kind_of,
    opens_with_reference,
    points_back,
)
from evals.answer_quality import defects
from evals.answer_quality import defects as evals_defects


def _chunks(doc_id: str, parts: list[tuple[str, str]]) -> list[ChunkRecord]:
    return [ChunkRecord(f"{doc_id}-{i}", doc_id, t, h, None, i) for i, (h, t) in enumerate(parts)]


LIST_OVER_TWO_CHUNKS = [
    (
        "Gids > Stappenplan",
        "1. **Wijs een eigenaar aan.** Leg het vast.\n2. **Spreek criteria af.**",
    ),
    ("Gids > Stappenplan", "3. **Plan de evaluatie.** Na zes maanden."),
    (
        "Gids > Valkuilen",
        "- [ ] **Beheer als sluitpost.** Beheeruren worden geschrapt.\n- [ ] Kennis in één hoofd.",
    ),
]


def test_a_list_split_over_chunks_is_one_unit_with_its_heading_and_kind() -> None:
    units = build_units("g", _chunks("g", LIST_OVER_TWO_CHUNKS), "guide", "Gids")
    steps, pitfalls = units
    assert steps.kind == "steps" and steps.ordered
    assert steps.items == [
        "Wijs een eigenaar aan. Leg het vast.",
        "Spreek criteria af.",
        "Plan de evaluatie. Na zes maanden.",
    ]
    assert steps.chunk_ids == ("g-0", "g-1")
    # Checkboxes and emphasis go; the pitfalls stay labelled as pitfalls.
    assert pitfalls.kind == "pitfalls"
    assert pitfalls.items == [
        "Beheer als sluitpost. Beheeruren worden geschrapt.",
        "Kennis in één hoofd.",
    ]


def test_a_lead_in_sentence_stays_with_its_list() -> None:
    text = "Daaruit kwam een kostendelingsmodel:\n- de provincie betaalt de helft;\n- gemeenten betalen per inwoner."
    (unit,) = build_units("c", _chunks("c", [("Aanpak", text)]))
    assert unit.text == "Daaruit kwam een kostendelingsmodel:"
    assert unit.markdown().splitlines() == [
        "Daaruit kwam een kostendelingsmodel:",
        "- de provincie betaalt de helft;",
        "- gemeenten betalen per inwoner.",
    ]


def test_plain_text_headings_and_numbered_groups_are_recognised() -> None:
    text = (
        "Waarom deze checklist\nEen pilot eindigt vaak met een enthousiast gesprek.  \n"
        "1. Wat heeft de pilot opgeleverd?\n- Welke resultaten zijn gemeten?\n- Wat werkte niet?"
    )
    first, group = build_units(
        "l", _chunks("l", [("", text)]), "lesson", "Checklist voor het gesprek"
    )
    assert first.heading == "Waarom deze checklist"
    assert not first.text.startswith("Waarom")  # the heading is not glued onto the sentence
    assert group.heading == "Wat heeft de pilot opgeleverd?" and len(group.items) == 2
    assert group.kind == "steps"  # from the document's title: it is a checklist


def test_a_unit_that_points_back_knows_its_antecedent() -> None:
    text = (
        "Elke gemeente rekende haar eigen baten uit.  \n"
        "Dat hielp: elf van de vijftien gemeenten tekenden."
    )
    first, second = build_units("c", _chunks("c", [("Aanpak", text)]))
    assert opens_with_reference(second.text) and second.antecedent == first.ordinal
    assert first.antecedent is None
    assert opens_with_reference("This means the budget") and not opens_with_reference(
        "Budget first"
    )


def test_a_paragraph_whose_first_clause_is_a_consequence_points_back() -> None:
    text = (
        "Een gewone aanbesteding paste niet: het product bestond nog niet.  \n"
        "De regio koos daarom voor het innovatiepartnerschap, met afname in één procedure."
    )
    first, second = build_units("c", _chunks("c", [("Aanpak", text)]))
    assert second.refers_back and second.antecedent == first.ordinal
    assert points_back("The region therefore chose a partnership.")
    # Later in the sentence, or after its first clause, the word points inside the sentence.
    assert not points_back("Het budget was op, en daarom stopte de pilot na een jaar.")
    assert not points_back("Pilots stranden zelden op techniek en daarom is een eigenaar nodig.")
    # Shown without the paragraph before it, it would read as a conclusion from nothing.
    ev = _evidence("cases/partnerschap", "case", [("Aanpak", text)])
    before, after = (su.unit for su in ev.units)
    ev.units = [ScoredUnit(after, 1.0, 0.8, set(), before), ScoredUnit(before, 0.5, 0.3)]
    answer = ExtractiveAnswerer().answer(
        "Waarom koos de regio een innovatiepartnerschap?", "nl", [ev]
    )
    assert answer.text.index("Een gewone aanbesteding") < answer.text.index("koos daarom"), (
        answer.text
    )


def test_a_later_sentence_naming_what_the_paragraph_never_introduced_points_back() -> None:
    text = (
        "She also followed 22 pilots for eighteen months after they ended.  \n"
        "The headline result is sobering. Of those 22 pilots, only six were in structural use."
    )
    first, second = build_units("b", _chunks("b", [("A familiar story", text)]))
    assert second.refers_back and second.antecedent == first.ordinal
    # Named in the paragraph itself, or a set phrase about a whole clause: no reference back.
    (own,) = build_units(
        "b", _chunks("b", [("", "Rossi followed 22 pilots. Of those pilots, six lasted.")])
    )
    (phrase,) = build_units(
        "b", _chunks("b", [("", "Het budget was op. In dat geval stopt een pilot.")])
    )
    (plain,) = build_units(
        "b", _chunks("b", [("", "Het budget was op. Dit is vaak zo bij pilots.")])
    )
    assert not own.refers_back and not phrase.refers_back and not plain.refers_back
    assert points_back("Of those 22 pilots, six lasted.") and not points_back("Of course not.")
    # A quantifier over what came before, as the paragraph's first words.
    (five,) = build_units("b", _chunks("b", [("", "Geen van deze vijf momenten is ingewikkeld.")]))
    assert five.refers_back
    assert not points_back("In deze handreiking lees je hoe het werkt.")  # the document itself
    assert not points_back("Bij opschaling is dit extra belangrijk.")


def test_a_paragraph_that_names_those_pilots_is_not_the_lead_without_its_antecedent() -> None:
    parts = [
        ("Why pilots stall", "The headline result is sobering. Of those 22 pilots, only six were in structural use eighteen months later."),
        ("Why pilots stall", "Pilots stall on culture and capacity in the line organisation, rarely on technology."),
    ]  # fmt: skip
    ev = [_evidence("blogs/stall", "blog", parts)]
    ev[0].language = "en"
    text = ExtractiveAnswerer().answer("Why do pilots stall?", "en", ev).text
    assert text.startswith("Pilots stall on culture") and "Of those 22 pilots" not in text


def test_a_dutch_compound_heading_names_the_kind_of_its_last_part() -> None:
    assert kind_of("Rekenvoorbeeld: afsprakenplanner in Gemeente Lindewaard") == "example"
    assert kind_of("Praktijkvoorbeeld") == "example"
    assert kind_of("Afsprakenlijst") == "text"  # a list, not "afspraken" to make
    assert kind_of("Aanbevelingen") == "steps" and kind_of("Valkuilen") == "pitfalls"
    assert kind_of("Alles op een rij") == "text"  # "les" only where a word starts


def test_a_paragraph_right_after_its_antecedent_does_not_repeat_its_last_sentence() -> None:
    parts = [
        ("Blog > Onderzoek", "Rossi volgde twee jaar lang 22 pilots in veertien organisaties bij gemeenten en provincies."),
        ("Blog > Onderzoek", "Het resultaat is ontnuchterend. Van die 22 pilots draaiden er na anderhalf jaar nog zes structureel."),
    ]  # fmt: skip
    ev = [_evidence("blogs/stall", "blog", parts)]
    first, second = ev[0].units
    assert second.unit.refers_back
    second.antecedent = first.unit  # what selection links for a unit that points back
    q = "Hoeveel pilots volgde Rossi in organisaties?"
    text = ExtractiveAnswerer().answer(q, "nl", ev).text
    assert text.count("Rossi volgde twee jaar lang") == 1, text
    assert "Van die 22 pilots" in text and defects(text) == {}


def test_kind_follows_the_innermost_heading() -> None:
    assert kind_of("Overdracht > Valkuilen") == "pitfalls"
    assert kind_of("Valkuilen > Bij de inkoop") == "pitfalls"
    assert kind_of("Case > Resultaten tot nu toe") == "result"
    assert kind_of("Voorbeeld: Brinkhorst") == "example"
    assert kind_of("Doe dit morgen") == "steps"
    assert kind_of("Context") == "text"


def test_the_documents_title_decides_no_paragraphs_kind_but_may_make_it_a_checklist() -> None:
    parts = [
        ("Van pilot naar praktijk > Context", "Een pilot eindigt met een presentatie en dan begint het echte werk."),
        ("Van pilot naar praktijk > Voorbeeld: Brinkhorst", "In Brinkhorst liep het anders."),
    ]  # fmt: skip
    title = "Van pilot naar praktijk: vijf beslismomenten"
    context, example = build_units("b", _chunks("b", parts), "blog", title)
    assert context.kind == "text" and example.kind == "example"
    assert build_units("b", _chunks("b", parts[:1]), "blog")[0].kind == "example"  # no title given
    (check,) = build_units(
        "l",
        _chunks("l", [("Checklist", "- Wie betaalt?\n- Wie beheert?")]),
        "lesson",
        "Checklist voor het gesprek",
    )
    assert check.kind == "steps"
    assert below_title("Van pilot naar praktijk > Context", title) == "Context"
    assert below_title("Valkuilen > Bij de inkoop", title) == "Valkuilen > Bij de inkoop"


CASE = [
    (
        "Context",
        "In Noordermeer rijdt de bus steeds minder vaak en gemeenten zoeken samen een oplossing.",
    ),
    (
        "De herijkte businesscase",
        "Per gemeente werd berekend wat RegioRit kon opleveren.  \n"
        "Deelname is vrijwillig. Dat hielp: elf van de vijftien gemeenten tekenden vóór 2024.",
    ),
    (
        "Resultaten",
        "In 2024 had RegioRit 38.000 accounts en vier gemeenten rapporteren lagere kosten.",
    ),
]


def _scored(question: str, parts, headline: str = "") -> list[ScoredUnit]:
    units = build_units("c", _chunks("c", parts), "case")
    analyzer = Analyzer(Analyzer.count_vocab(t for _, t in parts))
    return Selector(analyzer).score(question, units, language="nl", doc_rel=1.0, headline=headline)


def test_the_unit_stating_the_asked_count_wins_over_the_introduction() -> None:
    q = "Met hoeveel gemeenten deelt RegioRit de kosten?"
    assert question_focus(q) == {"number"}
    best = _scored(q, CASE, headline="RegioRit: kostendeling met elf gemeenten")[0]
    assert "elf van de vijftien gemeenten" in best.unit.text
    assert "counted" in best.facts


def test_a_how_question_prefers_steps_and_a_pitfall_question_pitfalls() -> None:
    parts = [
        (
            "Gids > Stappenplan",
            "- Wijs bij de start van de overdracht een eigenaar aan.\n- Plan de evaluatie.",
        ),
        ("Gids > Valkuilen", "- Beheer van de overdracht als sluitpost.\n- Kennis in één hoofd."),
    ]
    assert _scored("Hoe regel ik de overdracht?", parts)[0].unit.kind == "steps"
    assert _scored("Welke valkuilen zijn er bij de overdracht?", parts)[0].unit.kind == "pitfalls"


def _evidence(doc_id: str, type_: str, parts, n: int = 1, summary: str | None = None) -> Evidence:
    return Evidence(
        n, doc_id, doc_id.title(), type_, None, "nl", 1.0, [(t, h, None) for h, t in parts],
        summary=summary,
    )  # fmt: skip


GUIDE = [
    ("Overdracht > Het gat", "Een pilot heeft een projectleider, een budget en een einddatum. Op die dag vertrekt het team, maar de innovatie blijft draaien en iemand moet haar beheren."),
    ("Overdracht > Stappenplan", "1. **Wijs een eigenaar aan.** Leg het vast.\n2. Spreek overdrachtscriteria af.\n3. Draai een schaduwperiode."),
    ("Overdracht > Valkuilen", "- **Beheer als sluitpost.** Beheeruren worden geschrapt.\n- Kennis in één hoofd."),
]  # fmt: skip


def test_composition_has_a_lead_then_labelled_sections_with_lists() -> None:
    ev = [
        _evidence("guides/overdracht", "guide", GUIDE),
        _evidence(
            "cases/wachtrij", "case",
            [("Aanpak", "Oosterbroek droeg de wachtrij-app over aan Burgerzaken met een schaduwperiode.")],
            n=2, summary="Oosterbroek droeg een wachtrij-app na de pilot over aan de lijn. Het lukte.",
        ),
    ]  # fmt: skip
    draft = ExtractiveAnswerer().answer(
        "Hoe regel ik de overdracht en het beheer na de pilot?", "nl", ev
    )
    text = draft.text
    blocks = parse(text)
    assert blocks[0].kind == "paragraph" and blocks[0].text.startswith("Een pilot heeft")
    labels = [b.text for b in blocks if b.kind == "label"]
    assert labels == [SECTIONS["nl"]["steps"], SECTIONS["nl"]["cases"], SECTIONS["nl"]["pitfalls"]]
    steps = blocks[blocks.index(next(b for b in blocks if b.text == "Wat je kunt doen")) + 1]
    assert steps.kind == "list" and steps.ordered and len(steps.items) == 3
    # The pitfalls are under "Let op", never among the steps.
    assert all("sluitpost" not in i.text for i in steps.items)
    assert "sluitpost" in text.split("Let op:")[1]
    # One line per case, from its summary; every marker has a citation; only contributors cited.
    assert (
        "- Cases/Wachtrij: Oosterbroek droeg een wachtrij-app na de pilot over aan de lijn. [2]"
        in text
    )
    assert [c.n for c in draft.citations] == [1, 2]
    assert {c.doc_id for c in draft.citations} == {"guides/overdracht", "cases/wachtrij"}
    assert defects(text) == {}


def test_composition_in_english_uses_english_labels_and_says_the_sources_are_dutch() -> None:
    draft = ExtractiveAnswerer().answer(
        "How do I arrange the handover after the pilot?",
        "en",
        [_evidence("guides/overdracht", "guide", GUIDE)],
    )
    assert draft.text.startswith("The sources are in Dutch")
    assert "What you can do:" in draft.text and "Wat je kunt doen" not in draft.text


def test_a_unit_that_points_back_is_never_the_lead_on_its_own() -> None:
    parts = [("Aanpak", "Dat bedrag zet je in het pilotvoorstel, zodat het bestuur het kent.")]
    ev = [_evidence("blogs/x", "blog", parts)]
    text = ExtractiveAnswerer().answer("Wat zet ik in het pilotvoorstel?", "nl", ev).text
    assert not text.startswith("Dat bedrag")


def test_a_numbered_paragraph_of_a_series_reads_as_a_paragraph() -> None:
    q = "Hoe kies je minder vernieuwingen?"
    for body in (
        "1. Kies minder en beter. Maak per team zichtbaar welke vernieuwingen er lopen.",
        "**1. Kies minder en beter.** Maak per team zichtbaar welke vernieuwingen er lopen.",
    ):
        ev = [_evidence("blogs/m", "blog", [("Blog > Wat helpt", body)])]
        text = ExtractiveAnswerer().answer(q, "nl", ev).text
        assert text.startswith("Kies minder en beter. Maak per team"), text
        assert defects(text) == {}


def test_a_window_without_a_sentence_limit_is_bounded_by_words_and_starts_at_the_fact() -> None:
    from assistant.answering import _window

    sents = ["Een twee drie.", "Vier vijf zes.", "Zeven acht negen.", "Tien elf twaalf."]
    assert _window(sents, None, None, 9) == sents[:3]
    assert _window(sents, None, 3, 100) == sents[:3]
    assert _window(sents, None, None, 100) == sents
    # The fact beyond what fits from the start: the window starts at it; within reach, at 0.
    assert _window(sents, 3, None, 6) == sents[3:]
    assert _window(sents, 1, None, 6) == sents[:2]
    assert _window(["Een twee.", "Daarom drie vier."], 1, None, 2) == ["Een twee."]


def test_markup_parses_paragraphs_labels_and_nested_lists() -> None:
    text = "Lead zin [1].\n\nWat je kunt doen:\n1. Eerste\n   - sub\n2. Tweede [1]\n\nLet op:\n- Valkuil [2]"
    blocks = parse(text)
    assert [b.kind for b in blocks] == ["paragraph", "label", "list", "label", "list"]
    assert blocks[2].ordered and blocks[2].items[0].children[0].text == "sub"
    assert blocks[4].items[0].text == "Valkuil [2]"


def test_hard_wrapped_list_items_stay_whole() -> None:
    text = (
        "1. **Kies één controle.** Begin met een regel die vaak voorkomt, bijvoorbeeld\n"
        "de maximale bouwhoogte.\n2. **Test met architecten.** Nodig vijf bureaus uit die\n"
        "vaak aanvragen indienen.  \nDaarna volgt een gewone alinea."
    )
    steps, after = build_units("g", _chunks("g", [("Gids > Stappen", text)]))
    assert steps.items == [
        "Kies één controle. Begin met een regel die vaak voorkomt, bijvoorbeeld de maximale bouwhoogte.",
        "Test met architecten. Nodig vijf bureaus uit die vaak aanvragen indienen.",
    ]
    assert after.text == "Daarna volgt een gewone alinea." and not after.items


def test_a_quotation_from_an_unintroduced_speaker_is_not_the_lead() -> None:
    parts = [
        (
            "Blog",
            "‘Toen ik begon, verwachtte ik technische problemen,’ zegt Rossi. ‘Die waren er.’",
        ),
        ("Blog", "Pilots stranden zelden op techniek, maar op cultuur en capaciteit in de lijn."),
    ]
    ev = [_evidence("blogs/stall", "blog", parts)]
    text = ExtractiveAnswerer().answer("Waarom stranden pilots?", "nl", ev).text
    assert text.startswith("Pilots stranden zelden op techniek")
    # With nothing else to lead with, the quotation still answers.
    only = [_evidence("blogs/stall", "blog", parts[:1])]
    assert "zegt Rossi" in ExtractiveAnswerer().answer("Waarom stranden pilots?", "nl", only).text


def _with_units(ev: Evidence, scored: list[tuple[float, float]]) -> Evidence:
    """``ev`` with its units' (score, coverage) set by hand, in unit order."""
    ev.units = [
        ScoredUnit(su.unit, score, cov) for su, (score, cov) in zip(ev.units, scored, strict=True)
    ]
    return ev


def test_the_steps_of_the_cited_source_need_no_words_of_the_question() -> None:
    lesson = [
        ("Les > Het inzicht", "Structureel budget regel je door de pilot vroeg in de begrotingscyclus te zetten."),
        ("Les > Doe dit morgen", "- Zoek de datum op waarop wensen binnen moeten zijn.\n- Laat de eigenaar het voorstel indienen."),
    ]  # fmt: skip
    q = "Hoe krijg ik de wethouder zover dat er structureel geld komt?"
    ev = _with_units(_evidence("lessons/budget", "lesson", lesson), [(1.5, 0.4), (1.1, 0.0)])
    text = ExtractiveAnswerer().answer(q, "nl", [ev]).text
    assert "Wat je kunt doen:\n- Zoek de datum op" in text
    assert defects(text) == {}
    # The same steps from a source the answer does not cite still need the question's words.
    other = _with_units(
        _evidence("lessons/budget", "lesson", lesson, n=2), [(0.2, 0.0), (1.1, 0.0)]
    )
    lead = _with_units(_evidence("guides/geld", "guide", lesson[:1]), [(1.5, 0.4)])
    assert "Wat je kunt doen" not in ExtractiveAnswerer().answer(q, "nl", [lead, other]).text


SUPPLIER = [
    ("Les > Het inzicht", "Een kleine leverancier groeit mee wanneer opdrachtgevers hun vraag bundelen en op tijd betalen."),
    ("Les > Doe dit morgen", "- Bundel de eisen met andere overheden.\n- Betaal binnen dertig dagen."),
]  # fmt: skip
CHECKLIST = [
    ("Checklist > Vragen", "- Onder welke afspraak liep de pilot?\n- Wat kost de opschaling?")
]
STORY = [
    (
        "Voorbeeld: Brinkhorst",
        "In Brinkhorst liep een pilot met een parkeerapp van een start-up vast.",
    )
]


def test_steps_come_from_the_source_whose_advice_the_answer_quotes() -> None:
    q = "Wat doen we als onze kleine leverancier de vraag niet aankan?"
    lesson = _with_units(
        _evidence("lessons/leverancier", "lesson", SUPPLIER), [(1.6, 0.5), (1.4, 0.4)]
    )
    checklist = _with_units(_evidence("lessons/checklist", "lesson", CHECKLIST, n=2), [(1.5, 0.5)])
    text = ExtractiveAnswerer().answer(q, "nl", [lesson, checklist]).text
    assert "Wat je kunt doen:\n- Bundel de eisen" in text and "Onder welke afspraak" not in text
    # Also when the other source's steps score clearly higher (1.0 against 1.5), as long as the
    # quoted source's steps clear the bar for steps at all (0.55 of the best unit).
    lower = _with_units(
        _evidence("lessons/leverancier", "lesson", SUPPLIER), [(1.6, 0.5), (1.0, 0.4)]
    )
    text = ExtractiveAnswerer().answer(q, "nl", [lower, checklist]).text
    assert "Wat je kunt doen:\n- Bundel de eisen" in text and "Onder welke afspraak" not in text
    # Below that bar they give way.
    weak = _with_units(
        _evidence("lessons/leverancier", "lesson", SUPPLIER), [(1.6, 0.5), (0.8, 0.4)]
    )
    text = ExtractiveAnswerer().answer(q, "nl", [weak, checklist]).text
    assert "Wat je kunt doen:\n- Onder welke afspraak" in text


def test_another_sources_example_joins_the_text_only_when_the_question_asks_for_one() -> None:
    lesson = _with_units(_evidence("lessons/leverancier", "lesson", SUPPLIER[:1]), [(1.6, 0.5)])
    story = _with_units(_evidence("guides/inkoop", "guide", STORY, n=2), [(1.5, 0.5)])
    plain = ExtractiveAnswerer().answer(
        "Hoe groeit een kleine leverancier mee?", "nl", [lesson, story]
    )
    assert "Brinkhorst" not in plain.text and [c.doc_id for c in plain.citations] == [
        "lessons/leverancier"
    ]
    asked = ExtractiveAnswerer().answer(
        "Is er een voorbeeld van een leverancier die vastliep?", "nl", [lesson, story]
    )
    assert "In Brinkhorst liep een pilot" in asked.text


def test_an_english_question_covers_dutch_units_through_the_glossary() -> None:
    from assistant.glossary import default_glossary

    parts = [("Gids", "Regel de overdracht aan de lijnorganisatie vóór de einddatum.")]
    units = build_units("g", _chunks("g", parts), "guide")
    analyzer = Analyzer(Analyzer.count_vocab(t for _, t in parts))
    q = "How do I hand over a pilot to the line organisation?"
    plain = Selector(analyzer).score(q, units, language="nl", doc_rel=1.0)[0]
    expanded = Selector(analyzer, default_glossary()).score(q, units, language="nl", doc_rel=1.0)
    assert plain.coverage == 0.0 and expanded[0].coverage > 0.5
    # A Dutch question is not expanded.
    nl = Selector(analyzer, default_glossary())
    assert nl.query_words("Hoe draag ik de pilot over?") == Selector(analyzer).query_words(
        "Hoe draag ik de pilot over?"
    )


# -- a start question ("waar begin ik?") gets advice to act on ---------------------------------
START_CASE = [
    ("Chatbot > Wat er gebeurde", "Haverdam zette in 2024 een chatbot in voor belastingvragen en stopte na acht maanden."),
    ("Chatbot > Lessen", "- Betrek het klantcontactcentrum vanaf het begin.\n- Spreek vooraf doelen af."),
]  # fmt: skip
START_LESSON = [
    ("Les > Voorbeelden", "De meldingenapp in Straatsein. Het team van Straatsein testte in 2023 een app met twintig inwoners."),
    ("Les > Het inzicht", "Begin bij opschaling met de vraag wie de innovatie straks in de lijn draagt en betaalt."),
    ("Les > Wat je anders doet", "- Wijs een eigenaar in de lijn aan.\n- Maak een implementatieplan met uren per rol."),
]  # fmt: skip
START_Q = "Waar begin ik als ik een pilot wil opschalen?"


def _start_evidence() -> list[Evidence]:
    # The case scores best on every unit, as a story about the same words does.
    case = _with_units(_evidence("cases/chatbot", "case", START_CASE), [(2.0, 0.6), (1.8, 0.5)])
    lesson = _with_units(
        _evidence("lessons/eigenaar", "lesson", START_LESSON, n=2),
        [(1.9, 0.6), (1.2, 0.5), (1.3, 0.4)],
    )
    return [case, lesson]


def test_a_start_question_leads_with_advice_and_takes_steps_from_a_lesson() -> None:
    draft = ExtractiveAnswerer().answer(START_Q, "nl", _start_evidence())
    text = draft.text
    blocks = parse(text)
    # The lead is the lesson's own statement, not the case's story or the lesson's example.
    assert blocks[0].kind == "paragraph" and blocks[0].text.startswith("Begin bij opschaling")
    assert "Straatsein" not in text.split("Wat je kunt doen:")[0]
    # The steps are the lesson's, not what one organisation learnt from its stopped chatbot.
    steps = text.split("Wat je kunt doen:\n")[1].split("\n\n")[0]
    assert "Wijs een eigenaar in de lijn aan" in steps
    assert "klantcontactcentrum" not in steps
    assert defects(text) == {}


def test_another_question_with_the_same_evidence_still_leads_with_the_case() -> None:
    # Only a start question asks for advice: "wat gebeurde er" is answered by the story.
    text = (
        ExtractiveAnswerer()
        .answer("Wat gebeurde er met de chatbot in Haverdam?", "nl", _start_evidence())
        .text
    )
    assert text.startswith("Haverdam zette in 2024 een chatbot in")


def test_a_start_question_without_advice_prose_opens_with_its_steps_or_as_before() -> None:
    case, lesson = _start_evidence()
    # Only the lesson's steps are advice: a one-line lead names them, then the steps.
    steps_only = _with_units(
        _evidence("lessons/eigenaar", "lesson", START_LESSON[2:], n=2), [(1.3, 0.4)]
    )
    text = ExtractiveAnswerer().answer(START_Q, "nl", [case, steps_only]).text
    assert text.startswith("De bron die het best past is ‘Lessons/Eigenaar’.")
    assert "Wat je kunt doen:\n- Wijs een eigenaar" in text
    # Nothing but a case: the answer is composed as for any question, never empty.
    only_case = ExtractiveAnswerer().answer(START_Q, "nl", [case]).text
    assert only_case.startswith("Haverdam zette in 2024 een chatbot in")


def test_a_run_in_title_is_a_label_not_one_of_the_leads_three_sentences() -> None:
    body = (
        "**Een papieren prototype in Oosterbroek.** Een team wilde een app bouwen voor ouders. "
        "Het team legde eerst papieren schetsen voor aan achttien ouders. "
        "Twaalf van hen wilden liever een korte belafspraak dan een app. "
        "Daarom kwam er een eenvoudige afsprakenplanner van veertienduizend euro."
    )
    units = build_units("l", _chunks("l", [("Les > Voorbeeld", body)]), "lesson")
    assert units[0].run_in and units[0].text.startswith("Een papieren prototype in Oosterbroek.")
    plain = build_units(
        "l", _chunks("l", [("Les > Voorbeeld", "Een team wilde een app.")]), "lesson"
    )
    assert not plain[0].run_in
    ev = [_evidence("lessons/l", "lesson", [("Les > Voorbeeld", body)])]
    q = "Heeft het zin om een app eerst met papieren schetsen te testen?"
    text = ExtractiveAnswerer().answer(q, "nl", ev).text
    # The title and three sentences; the fourth follows as the next paragraph, where the text
    # has room for it.
    lead, rest = text.split("\n\n")[:2]
    assert lead.startswith("Een papieren prototype in Oosterbroek. Een team wilde"), text
    assert "Twaalf van hen" in lead and "afsprakenplanner" not in lead, text
    assert rest.startswith("Daarom kwam er een eenvoudige afsprakenplanner"), text
    assert lead.endswith("[1]") and rest.endswith("[1]") and defects(text) == {}


def test_the_rest_of_the_lead_never_ends_on_what_it_announces() -> None:
    body = (
        "Veel overheden publiceren open data één keer en vergeten die dan. Na twee jaar is de "
        "helft verouderd. De provincie had 240 datasets online. Een data officer ruimde op en "
        "zette de aanpak hieronder op."
    )
    ev = [_evidence("guides/open", "guide", [("Gids > Waarom", body)])]
    text = ExtractiveAnswerer().answer("Hoe houd je open data actueel?", "nl", ev).text
    assert "240 datasets" in text and "hieronder" not in text, text


@pytest.mark.parametrize(
    "q",
    [
        "Welke valkuilen zijn er bij een DPIA?",
        "Onze gemeente wil de app van een andere gemeente gebruiken. Waar moet ik op letten?",
        "Wat zijn de aandachtspunten bij een gezamenlijke aanbesteding?",
        "What should we watch out for when we take over a chatbot?",
    ],
)
def test_questions_about_what_to_watch_out_for_ask_for_pitfalls(q) -> None:
    assert "pitfalls" in question_focus(q)


def test_a_question_about_letting_go_is_not_about_pitfalls() -> None:
    assert "pitfalls" not in question_focus("Hoe laten we de pilot los?")


def test_when_asks_for_a_moment_and_only_a_question_about_the_past_for_a_year() -> None:
    from assistant.selection import states_fact

    assert question_focus("Wanneer moet ik met de DPIA beginnen?") == {"when"}
    assert question_focus("Op welk moment haal ik de inkoper erbij?") == {"when"}
    assert question_focus("Wat is het en wanneer heb je het nodig?") == {"when"}
    assert question_focus("Wanneer startte Havendam de pilot?") == {"year"}
    # "when" joining two clauses asks for nothing.
    q = "Who should own the raw measurements when a supplier installs sensors for us?"
    assert "when" not in question_focus(q)
    moment = "Als ik al in de verkenning word betrokken, kan ik meedenken."
    assert not states_fact("De kosten stonden toen al in de begroting.", "when")
    story = "Femke Dekker adviseert sinds 2021 uitvoeringsorganisaties."
    assert states_fact(moment, "when") and not states_fact(story, "when")
    assert states_fact(story, "year") and not states_fact(moment, "year")


def test_a_window_never_opens_inside_a_quotation() -> None:
    from assistant.answering import _window

    sents = [
        '"Het begon klein.',
        "We vroegen te veel gegevens op.",
        'Toen we in het voorjaar startten, bleek dat al te laat."',
        "Het ging daarna snel.",
    ]
    # The fact is in the third sentence, inside the quotation: the window keeps the start.
    assert _window(sents, 2, 1, 100) == sents[:1]
    assert _window(sents, 3, 1, 100) == sents[3:]


def test_a_window_never_opens_on_a_sentence_that_carries_on_from_the_one_before() -> None:
    from assistant.answering import _window

    sents = [
        "Een aparte ontwikkelopdracht had een nadeel.",
        '"Dan heb je betaald voor de ontwikkeling," zegt Vos.',
        '"En voor een kleine leverancier is dat risico te groot."',
    ]
    # The asked fact is in the last sentence; the speaker and the subject come with it.
    assert _window(sents, 2, 1, 100) == sents[:1]
    assert _window(sents, 2, None, 30) == sents
    assert _window(["Een.", "Twee.", "Maar drie vier."], 2, 1, 100) == ["Twee."]


def test_the_list_item_that_answers_the_question_keeps_its_words() -> None:
    items = (
        "Drie dingen vertraagden de uitrol van de fietsapp in de stad:\n\n"
        "- **Locatiegegevens.** De app stuurt elke seconde een precieze positie. De privacy officer "
        "vroeg waarom de stad die nodig had. Het antwoord was om alleen een anoniem bericht bij de "
        "verkeerslichten te bewaren en de posities na de rit op de telefoon te wissen.\n"
        "- **Eén leverancier.** De software van de regelaars kwam van één leverancier, en elke "
        "wijziging van een regel vroeg om een betaald verzoek. Nu koopt de stad alleen regelaars "
        "met een open koppelvlak, zodat een ander later de logica kan leveren.\n"
        "- **Eigenaar.** Het beleidsteam draaide de pilot, maar de afdeling beheer onderhoudt de "
        "verkeerslichten. Maandenlang wilde niemand verantwoordelijk zijn voor de regels in de app."
    )
    parts = [("Casus > Wat de uitrol vertraagde", items)]
    ev = [_evidence("cases/fiets", "case", parts)]
    q = "Hoe ging de stad om met de locatiegegevens en posities uit de app?"
    text = ExtractiveAnswerer().answer(q, "nl", ev).text
    # The answering item is whole; the others keep their first sentences within 32 words.
    assert "posities na de rit op de telefoon te wissen" in text, text
    assert "zodat een ander later de logica kan leveren" not in text, text
    assert text.count("\n- ") + text.startswith("- ") == 3 and defects(text) == {}
    # Without a clear winner every item stays short.
    text = ExtractiveAnswerer().answer("Wat vertraagde de uitrol?", "nl", ev).text
    assert "posities na de rit" not in text, text


def test_a_paragraph_sharing_no_word_with_the_question_never_leads() -> None:
    parts = [
        (
            "Blog > Tips",
            "- Maak bij de start afspraken over de broncode en wie het resultaat overneemt.\n"
            "- Leg vast welke licenties gelden.",
        ),
        ("Blog > Tips", "Samenwerken is geen doel op zich, besluit de lector aan het slot."),
    ]
    ev = _with_units(_evidence("blogs/helix", "blog", parts), [(1.3, 0.7), (0.9, 0.0)])
    text = (
        ExtractiveAnswerer()
        .answer("Welke afspraken maak ik met een start-up over de broncode?", "nl", [ev])
        .text
    )
    assert "geen doel op zich" not in text, text
    assert "afspraken over de broncode" in text, text


def test_a_sentence_put_in_front_of_the_lead_is_not_repeated_by_its_own_paragraph() -> None:
    before = "De pilot liep van maart tot juni bij één team. De leesbaarheid ging van C1 naar B1."
    after = "Toch ging de uitrol daarna traag. Briefschrijvers in andere teams waren sceptisch."
    ev = _evidence("cases/brieven", "case", [("Verloop", before), ("Verloop", after)])
    first, second = (su.unit for su in ev.units)
    assert second.refers_back
    ev.units = [ScoredUnit(second, 1.0, 0.8, set(), first), ScoredUnit(first, 0.9, 0.7)]
    text = (
        ExtractiveAnswerer().answer("Waarom ging de uitrol van de brieven traag?", "nl", [ev]).text
    )
    assert text.count("De leesbaarheid ging van C1 naar B1") == 1, text
    # The rest of that paragraph still adds its facts.
    assert "De pilot liep van maart tot juni" in text, text
    assert evals_defects(text) == {}, text


def test_a_paragraph_is_never_put_behind_the_end_of_a_quotation() -> None:
    before = 'Kevin de Boer: "We bouwden het vervagen als eerste stap. Anders was het nooit goedgekeurd."'
    after = "Die keuze woog zwaar bij de beoordeling van de privacy."
    ev = _evidence("cases/camera", "case", [("Privacy", before), ("Privacy", after)])
    first, second = (su.unit for su in ev.units)
    ev.units = [ScoredUnit(second, 1.0, 0.8, set(), first)]
    text = ExtractiveAnswerer().answer("Hoe woog de privacy bij de beoordeling?", "nl", [ev]).text
    assert not text.startswith("Anders was het"), text
    assert evals_defects(text).get("broken_quotation") is None, text


def test_a_list_item_that_opens_with_a_label_keeps_the_sentence_that_says_how() -> None:
    from assistant.answering import _item

    long_how = (
        "Zoek systematisch. Kijk in landelijke overzichten van open-sourcecode en API's van "
        "overheden, in de catalogi rond Common Ground en in het NL Design System, en vraag het "
        "na bij koepelorganisaties en collega's in je netwerk."
    )
    assert _item(long_how).startswith("Zoek systematisch. Kijk in landelijke overzichten")
    # A first sentence that says something itself is cut as before.
    plain = (
        "Publiceer je code, ontwerpen en lessen, ook als het project mislukt en niemand erom "
        "vraagt. Zo wordt de volgende zoektocht voor een andere gemeente een stuk korter en "
        "hoeft niemand het wiel opnieuw uit te vinden."
    )
    assert _item(plain) == plain.split(". ")[0] + "."


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("Wat is een experimenteerbepaling en wanneer heb je die echt nodig?", "experimenteerbepaling"),
        ("Wat is publiccode.yml en waarom zou ik het gebruiken?", "publiccode.yml"),
        ("Wat is de quadruple helix en hoe werkt die in de praktijk?", "quadruple helix"),
        ("What is a DPIA?", "DPIA"),
        ("What does scaling deep mean?", "scaling deep"),
        ("Wat is het verschil tussen precommercieel inkopen en een innovatiepartnerschap?", None),
        ("Wat is er overgebleven van het datalab?", None),
        ("Wat betekent dat voor ons als gemeentelijke klant?", None),
        ("Hoe begin ik met een DPIA?", None),
    ],
)  # fmt: skip
def test_the_term_a_what_is_question_asks_about(question, term) -> None:
    from assistant.selection import defined_term

    assert defined_term(question) == term


def test_a_unit_that_says_what_the_term_is_wins_over_an_example_of_it() -> None:
    parts = [
        (
            "Voorbeeld",
            "Het innovatiepartnerschap in Regio Middenland. De regio gebruikte het "
            "innovatiepartnerschap voor een platform voor jeugdhulp.",
        ),
        (
            "Routes",
            "Het innovatiepartnerschap is een procedure uit de Aanbestedingswet waarmee je "
            "ontwikkeling en afname in één traject aanbesteedt.",
        ),
    ]
    best = _scored("Wat is een innovatiepartnerschap?", parts)[0]
    assert best.unit.text.startswith("Het innovatiepartnerschap is een procedure"), best.unit.text
    assert "definition" in best.facts and best.defining == 0
    # The same units for another question: no unit gets the bonus.
    other = _scored("Hoe koos de regio voor het innovatiepartnerschap?", parts)
    assert all(s.defining is None for s in other)


def test_an_english_word_weighs_as_rare_as_the_concept_in_a_dutch_corpus() -> None:
    from assistant.glossary import default_glossary

    vocab = {"uitrol": 30, "uitrollen": 5, "regionale": 3, "rollout": 2}
    selector = Selector(Analyzer(vocab), default_glossary())
    words = selector.query_words("How long did the rollout take?")
    rollout = next(w for stems, w in words if "rollout" in stems)
    # "rollout" occurs twice in the corpus, "uitrol" thirty times: the word weighs like "uitrol",
    # not like a rare word, so an English unit that happens to use it does not outweigh the
    # Dutch ones.
    assert rollout == pytest.approx(1.0 / math.log(2.0 + 30))
