"""Nugget matching and readability-defect detectors, on hand-written positive and negative cases."""

from __future__ import annotations

import pytest

from evals.answer_quality import (
    DEFECT_KINDS,
    defect_summary,
    defects,
    nugget_holds,
    nugget_report,
)

# -- nuggets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alternatives", "text", "holds"),
    [
        ([["gemeent", "kosten"]], "De kosten worden gedeeld door vier gemeenten.", True),
        ([["gemeent", "kosten"]], "De gemeenten werken samen.", False),  # one prefix missing
        (
            [["gemeent", "kosten"], ["municipal", "cost"]],
            "Costs are shared by municipalities.",
            True,
        ),
        ([["creeer"]], "Creëer draagvlak op de werkvloer.", True),  # accents folded
        ([["CREËER"]], "creeer draagvlak", True),  # the prefix is folded too
        ([["kosten"]], "De onkosten waren hoog.", False),  # a prefix begins a word, not inside one
        ([["beheer"]], "Regel het ict-beheer vooraf.", True),  # hyphenated parts count
        ([["drie maand"]], "Na drie maanden stopte de pilot.", True),  # consecutive words
        ([["drie maand"]], "Drie teams, twaalf maanden.", False),
        ([["drie maand"]], "Driemaal in drie maanden.", True),
        ([["bij de start"]], "Bij de starters hoort de rest.", True),  # the last word is a prefix
        ([["4 procent"]], "Het daalde 40 procent.", False),  # earlier words are whole words
        ([["40.000"]], "Het kostte 40.000 euro.", True),
        ([["40.000"]], "Het kostte 40 euro voor 000 mensen.", False),
        ([["3"]], "Zie de bron [3].", False),  # citation markers are not facts
        ([], "wat dan ook", False),
    ],
)
def test_nugget_holds(alternatives: list[list[str]], text: str, holds: bool) -> None:
    assert nugget_holds({"fact": "f", "any": alternatives}, text) is holds


def test_nugget_report_counts_held_and_missing() -> None:
    nuggets = [
        {"fact": "vier gemeenten", "any": [["vier", "gemeent"], ["4", "gemeent"]]},
        {"fact": "exitplan", "any": [["exitplan"], ["exit", "strategie"]]},
        {"fact": "DPIA", "any": [["dpia"]]},
    ]
    r = nugget_report(nuggets, "Vier gemeenten delen de kosten; vraag om een exitplan [1].")
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["held"] == ["vier gemeenten", "exitplan"] and r["missing"] == ["DPIA"]
    assert nugget_report([], "tekst")["recall"] is None


# -- readability defects -----------------------------------------------------------------------------

CLEAN = [
    # The composed format: lead, headings on their own line, real list lines.
    "Vier gemeenten delen de kosten van RegioRit [1].\n\nWat je kunt doen\n"
    "- Maak vooraf een verdeelsleutel [1].\n- Leg de afspraken vast in een convenant [2].\n\n"
    "Zo deden anderen het\n- RegioRit: vier gemeenten, één contract [1].\n\nLet op:\n"
    "- Beheer als sluitpost is een valkuil [3].",
    "Start the DPIA during exploration [1].\n\nWhat you can do\n1. Ask the privacy officer early [1].\n"
    "2. Write down which data you need [2].\n\nWatch out\n- Waiting until roll-out costs months [2].",
    # Dashes inside a sentence are punctuation, not a list.
    "Een pilot - hoe klein ook - vraagt een eigenaar [1].",
    # Proper names with a capitalised article are not glued headings.
    "Waterschap De Drie Polders en gemeente De Bilt werkten samen [1]. Ze deelden één contract [1].",
    "The team in The Hague shared the code [1].",
    # A back-reference to the passage just before it, from the same source.
    "De gemeente betaalde 40.000 euro [1]. Dat bedrag kwam uit het innovatiebudget [1].",
    # A sentence that points forward with a colon.
    "Dit zegt de kennisbank erover:\n- Begin klein [1].",
    # Citation markers and links are not checkboxes; *this* is not a bold marker either.
    "Zie [1] en [2, 3]; de handreiking staat op [de site](https://example.org).",
    "5 * 3 = 15 en 2 * 4 = 8 [1].",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_answers_have_no_defects(text: str) -> None:
    assert defects(text) == {}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Issue 14's own examples.
        (
            "Geef ze een vaste plek in het pilotteam. - Zoek per team één of twee ambassadeurs [1].",
            "flattened_list",
        ),
        (
            "Wie zit er aan tafel - Namens de gemeente: de projectleider - Namens de start-up: de oprichter [3]",
            "flattened_list",
        ),
        ("Leg drie dingen vast: 1. Wie betaalt 2. Wie beheert [1].", "flattened_list"),
        ("[ ] Schrijf op wat je wilt bereiken - [ ] Zoek een eigenaar [2].", "checkbox"),
        ("- [x] Budget geregeld [1].", "checkbox"),
        ("Dit is **belangrijk** voor de businesscase [1].", "raw_markdown"),
        ("## Wat je kunt doen\n- Begin klein [1].", "raw_markdown"),
        ("Waarom deze checklist Een pilot met een start-up eindigt vaak [1].", "glued_heading"),
        ("Wat je kunt doen Maak een businesscase met gemeten cijfers [1].", "glued_heading"),
        ("Wat je kunt doen Maak een plan\n- Begin klein [1].", "glued_heading"),  # short line
        ("Waarom deze checklist Een pilot\nDe gemeente … [1].", "glued_heading"),
        ("Why this matters The pilot ended after a year [1].", "glued_heading"),
        ("Zet dat bedrag in het voorstel [1]. Daarom wacht de raad [2].", "dangling_reference"),
        ("Dat bedrag kwam uit het innovatiebudget [1].", "dangling_reference"),
        ("- Daarna waren de ploegleiders enthousiast [2].", "dangling_reference"),
        ("This means the owner must sign off [1].", "dangling_reference"),
        ("Start early [1]. They said it saved months [2].", "dangling_reference"),
        ("‘Die aanpak werkte,’ zegt Peters [1].", "dangling_reference"),
        ("The result is sobering. Of those 22 pilots, only six lasted [1].", "dangling_reference"),
        ("Het budget was op. Van die gemeenten tekenden er elf [1].", "dangling_reference"),
        ("Geen van deze vijf momenten is ingewikkeld [1].", "dangling_reference"),
        ("Start early [1]. Each of these steps takes a week [2].", "dangling_reference"),
        # A consequence of what the reader never saw, wherever it stands in the first clause.
        ("De regio koos daarom voor het innovatiepartnerschap [1].", "dangling_reference"),
        ("The region therefore chose a partnership [1].", "dangling_reference"),
        (
            "De pilot liep van maart tot juni in Lindewaard [1].\n\n"
            "Daarna kwam de uitrol. De pilot liep van maart tot juni in Lindewaard [1].",
            "repeated_sentence",
        ),
        ('Anders was het nooit goedgekeurd." Die keuze woog zwaar [1].', "broken_quotation"),
        ("En toen was het klaar.” Zo ging het [1].", "broken_quotation"),
    ],
)
def test_defects_are_found(text: str, kind: str) -> None:
    found = defects(text)
    assert kind in found, found
    assert all(found[kind])  # each defect carries an excerpt for the report


def test_a_pointing_word_for_what_the_paragraph_introduced_is_no_defect() -> None:
    assert defects("Rossi followed 22 pilots. Of those 22 pilots, six lasted [1].") == {}
    assert defects("Vijftien gemeenten deden mee. Van die gemeenten tekenden er elf [1].") == {}
    # Introduced in the paragraph just above, from the same source; not so from another source.
    above = "Rossi followed 22 pilots for a year [1].\n\nThe result is sobering. Of those 22 pilots, six lasted [1]."
    assert defects(above) == {}
    assert "dangling_reference" in defects(above.replace("lasted [1]", "lasted [2]"))


def test_a_consequence_word_after_the_first_clause_is_no_defect() -> None:
    # Late in the sentence, or after the clause it opens, "daarom" points inside the sentence.
    assert defects("Het budget was op, en daarom stopte de pilot na een jaar [1].") == {}
    assert defects("Pilots stranden zelden op techniek en daarom is een eigenaar nodig [1].") == {}


def test_quotations_that_open_in_the_passage_and_short_repeats_are_no_defect() -> None:
    # The quotation opens in the passage and runs over two sentences.
    assert (
        defects('Kevin de Boer: "We bouwden het zo. Anders was het nooit goedgekeurd." [1]') == {}
    )
    assert defects('"Dan heb je betaald," zegt Vos [1].') == {}
    assert defects("Femke noemde het ”een proef” en meer niet [1].") == {}  # ”…” as a pair
    # Short sentences repeat by nature.
    assert defects("Het lukte. Daarna niet meer. Het lukte [1].") == {}


def test_one_defect_kind_does_not_spill_into_others() -> None:
    assert set(defects("Het is **belangrijk** voor de businesscase [1].")) == {"raw_markdown"}
    assert set(defects("Waarom deze checklist Een pilot eindigt vaak [1].")) == {"glued_heading"}


def test_defect_summary_counts_answers_not_occurrences() -> None:
    rows = [
        defects("Begin klein. - Zoek een eigenaar. - Meet gebruik [1]."),
        defects("[ ] Doe dit [1]. Dat werkte [2]."),
        defects("Vier gemeenten delen de kosten [1]."),
    ]
    s = defect_summary(rows)
    assert s["answers"] == 2
    assert set(s["by_kind"]) == set(DEFECT_KINDS)
    assert s["by_kind"]["flattened_list"] == 1
    assert s["by_kind"]["checkbox"] == 1
    assert s["by_kind"]["dangling_reference"] == 1
    assert s["by_kind"]["raw_markdown"] == 0
