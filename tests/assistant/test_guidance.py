"""Phase detection, next steps and the step plan (issue 4)."""

from __future__ import annotations

import pytest
import yaml

from assistant.guidance import StepPlan, is_start_question
from assistant.knowledge import IndexedDoc, Knowledge
from assistant.models import Turn
from assistant.obstacles import ObstacleDetector
from assistant.text import Analyzer
from tests.assistant.people_support import PEOPLE_CORPUS, build_people_assistant
from tests.conftest import BUNDLED_CORPUS

PHASES = yaml.safe_load((PEOPLE_CORPUS / "phases.yaml").read_text(encoding="utf-8"))
OBSTACLES = yaml.safe_load((PEOPLE_CORPUS / "obstacles.yaml").read_text(encoding="utf-8"))
ANALYZER = Analyzer()


def plan() -> StepPlan:
    return StepPlan(
        Knowledge(phases=PHASES).phases,
        ANALYZER,
        ObstacleDetector(Knowledge(obstacles=OBSTACLES).obstacles, ANALYZER),
    )


@pytest.mark.parametrize(
    "q",
    [
        "Waar moet ik beginnen?",
        "Hoe begin ik met opschalen?",
        "Wat is de eerste stap?",
        "Waar kan ik het best beginnen met de uitrol?",
        "Where do I start?",
        "How do we get started?",
        # The plural puts the whole verb first.
        "Hoe beginnen we?",
        "Waar starten wij met de uitrol?",
        "Waar moeten we beginnen?",
    ],
)
def test_start_questions(q) -> None:
    assert is_start_question(q)


@pytest.mark.parametrize(
    "q",
    [
        "Waar moet een DPIA aan voldoen?",
        "Wie kan ik spreken over inkoop?",
        "What is a DPIA?",
        "Wanneer beginnen we met de DPIA?",
    ],
)
def test_not_start_questions(q) -> None:
    assert not is_start_question(q)


def test_phase_from_question_cue_words() -> None:
    p = plan()
    assert p.detect("We willen de app uitrollen naar andere gemeenten", []) == "uitrol"
    assert p.detect("Hoe richten we een proef in?", []) == "proef"
    assert p.detect("Hoe borgen we het beheer structureel?", []) == "verankeren"


def test_phase_from_retrieved_documents_when_the_question_has_no_cue() -> None:
    p = plan()
    assert p.detect("Hoe ging dat bij Zorggroep Helder?", []) is None
    docs = [
        IndexedDoc(id=f"d{i}", title=f"Document {i}", phases=phases)
        for i, phases in enumerate([["proef"], ["proef", "uitrol"], ["idee"]])
    ]
    assert p.detect("Hoe ging dat bij Zorggroep Helder?", docs) == "proef"


def test_history_is_used_for_the_phase() -> None:
    p = plan()
    assert (
        p.detect("En wat dan?", [], history=["We zitten midden in de uitrol naar drie gemeenten"])
        == "uitrol"
    )


def test_start_question_lands_in_the_first_phase() -> None:
    assert plan().detect("Waar moet ik beginnen?", []) == "idee"


def test_next_steps_are_two_to_four_steps_of_the_phase_in_plan_order() -> None:
    p = plan()
    proef = PHASES[1]["steps"]
    steps = p.next_steps("proef", "Hoe pak ik de privacy aan?", ["gegevens"])
    assert 2 <= len(steps) <= 4
    assert all(s in proef for s in steps)
    assert (
        "Laat de privacy officer de DPIA in de eerste maand starten." in steps
    )  # the obstacle's step
    assert [proef.index(s) for s in steps] == sorted(proef.index(s) for s in steps)
    # Another obstacle picks another step.
    assert "Benoem wie na de proef eigenaar wordt." in p.next_steps(
        "proef", "Wie beheert het?", ["beheer"]
    )
    assert p.next_steps(None, "x", []) == [] and p.next_steps("bestaat-niet", "x", []) == []


def test_overview_shows_the_detected_phase_and_names_the_others() -> None:
    p = plan()
    second = PHASES[1]
    text = p.overview("nl", second["key"])
    assert text.startswith(f"Je vraag lijkt in fase 2 van {len(PHASES)} ")
    assert second["name"] in text.splitlines()[0]
    # Only this phase's steps, in the plan's order, as list lines.
    shown = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    assert shown == second["steps"][: StepPlan.OVERVIEW_STEPS]
    for other in PHASES[:1] + PHASES[2:]:
        assert not any(step in text for step in other["steps"])
    # The other phases stay findable on one line, with their numbers.
    last = text.splitlines()[-1]
    assert last.startswith("De andere fasen van het stappenplan:")
    assert f"{PHASES[0]['name']} (1)" in last and second["name"] not in last
    assert "1." not in last  # numbered names on one line would read as a flattened list
    assert p.overview("en", second["key"]).startswith("Your question seems to sit in phase 2")


def test_a_start_question_that_names_a_phase_starts_there() -> None:
    p = plan()
    assert p.detect("Waar moet ik beginnen?", []) == "idee"
    # "Starten met de uitrol" is the start of the roll-out, not of the whole plan.
    assert is_start_question("Waar start ik met de uitrol naar andere gemeenten?")
    assert p.detect("Waar start ik met de uitrol naar andere gemeenten?", []) == "uitrol"


def test_a_pilot_that_succeeded_is_no_cue_for_the_pilot_phase() -> None:
    p = plan()
    assert "proef" in p.cue_hits("Hoe richten we de pilot in?")
    for q in ("Onze geslaagde pilot moet naar de regio", "The successful pilot goes to the regio"):
        assert "proef" not in p.cue_hits(q), q
        assert p.detect(q, []) == "uitrol"


def test_overview_without_a_phase_lists_the_phases_without_steps() -> None:
    text = plan().overview("nl")
    assert text.startswith("Het stappenplan voor opschalen heeft deze fasen:")
    for i, ph in enumerate(PHASES, start=1):
        assert f"{i}. {ph['name']}" in text
        assert not any(step in text for step in ph["steps"])
    assert plan().overview("en").startswith("The scaling step plan has these phases")


@pytest.fixture(scope="module")
def people_assistant(tmp_path_factory):
    return build_people_assistant(tmp_path_factory.mktemp("people-corpus-guidance"))


def test_waar_moet_ik_beginnen_gets_the_step_plan(people_assistant) -> None:
    _, assistant = people_assistant
    a = assistant.ask("Waar moet ik beginnen?")
    assert a.answer.startswith("Je vraag lijkt in fase 1 ")
    assert not a.abstained
    assert a.phase == "idee"
    assert PHASES[0]["steps"][0] in a.answer and PHASES[1]["steps"][0] not in a.answer
    # The overview lists the phase's steps; the next steps never say them a second time.
    assert all(s in a.answer for s in PHASES[0]["steps"])
    assert not set(a.next_steps) & set(PHASES[0]["steps"])


def test_every_answer_has_a_phase_and_concrete_next_steps(people_assistant) -> None:
    _, assistant = people_assistant
    a = assistant.ask(
        "We rollen de wijkbus-app uit naar andere gemeenten; hoe verdelen we de kosten?"
    )
    assert a.phase == "uitrol"
    assert 2 <= len(a.next_steps) <= 4
    assert "Verdeel de kosten met een verdeelsleutel die iedereen vooraf tekent." in a.next_steps


# -- steps and topics follow the question (issue 14, item 5) -----------------------------------
BUNDLED_PHASES = yaml.safe_load((BUNDLED_CORPUS / "phases.yaml").read_text(encoding="utf-8"))
BUNDLED_OBSTACLES = yaml.safe_load((BUNDLED_CORPUS / "obstacles.yaml").read_text(encoding="utf-8"))


def bundled_plan() -> StepPlan:
    analyzer = Analyzer()
    return StepPlan(
        Knowledge(phases=BUNDLED_PHASES).phases,
        analyzer,
        ObstacleDetector(Knowledge(obstacles=BUNDLED_OBSTACLES).obstacles, analyzer),
    )


def test_a_dpia_question_gets_privacy_steps_not_the_business_case() -> None:
    steps = bundled_plan().next_steps("voorbereiden", "Wanneer start ik de DPIA?", ["privacy"])
    assert any("DPIA" in s for s in steps)
    assert not any("businesscase" in s.lower() for s in steps)
    # The privacy step of the pilot phase comes along: steps follow the obstacle, not only
    # the phase, and keep the plan's order.
    assert steps[0].startswith("Betrek de privacy officer")


def test_another_obstacle_gets_other_steps_in_the_same_phase() -> None:
    p = bundled_plan()
    privacy = p.next_steps("voorbereiden", "Wanneer start ik de DPIA?", ["privacy"])
    procurement = p.next_steps("voorbereiden", "Welke inkooproute past?", ["aanbesteding"])
    assert any("inkooproute" in s for s in procurement)
    assert set(privacy).isdisjoint(procurement)


def test_steps_without_obstacles_are_the_phase_steps_that_fit_any_question() -> None:
    steps = bundled_plan().next_steps("opschalen", "Hoe nu verder?", [])
    assert 2 <= len(steps) <= 4
    assert all(s in BUNDLED_PHASES[3]["steps"] for s in steps)


def test_a_follow_up_on_another_obstacle_is_a_topic_shift() -> None:
    d = ObstacleDetector(Knowledge(obstacles=BUNDLED_OBSTACLES).obstacles, Analyzer())
    budget = "Hoe krijg ik structureel budget voor onze pilot?"
    assert d.shifts_topic("En hoe krijg ik de bestuurders mee?", budget)
    assert not d.shifts_topic("En hoe gaan ze nu verder?", budget)
    assert not d.shifts_topic("En de begroting dan?", budget)  # the same obstacle
    # What the earlier question was about otherwise survives; its obstacle words do not.
    kept = d.strip_topic("Hoe ging de ULR om met de juridische zorgen bij Brievenhulp?")
    assert "ulr" in kept and "brievenhulp" in kept and "juridische" not in kept


def _converse(assistant, *questions: str) -> list:
    """Each question asked with the turns before it as history; the answers in order."""
    turns: list[dict] = []
    answers = []
    for q in questions:
        answers.append(assistant.ask(q, history=turns))
        turns += [
            {"role": "user", "content": q},
            {"role": "assistant", "content": answers[-1].answer},
        ]
    return answers


@pytest.mark.slow
def test_people_and_steps_move_with_the_topic_of_a_follow_up(bundled_assistant) -> None:
    a1, a2 = _converse(
        bundled_assistant,
        "Hoe krijg ik structureel budget voor onze pilot?",
        "En hoe krijg ik de bestuurders mee?",
    )
    assert "financiering" in a1.obstacles and a2.obstacles[0] == "draagvlak"
    assert a1.next_steps != a2.next_steps
    assert {p.id for p in a1.people} != {p.id for p in a2.people}
    # A follow-up on the same case keeps the case.
    _, a4 = _converse(
        bundled_assistant,
        "Hoe ging de ULR om met de juridische zorgen bij Brievenhulp?",
        "En de privacy?",
    )
    assert "privacy" in a4.obstacles
    # The case stays among the first sources and its passages open the answer; the guide on
    # the new subject may come with it.
    assert "cases/brievenhulp-ulr" in a4.retrieved[:2], a4.retrieved
    assert a4.citations[0].doc_id == "cases/brievenhulp-ulr", a4.answer


@pytest.mark.slow
def test_the_text_of_a_follow_up_on_another_subject_answers_the_new_subject(
    bundled_assistant,
) -> None:
    _, a2 = _converse(
        bundled_assistant,
        "We willen een chatbot van een andere gemeente overnemen. Waar moeten we op letten?",
        "En wie moet er dan eigenaar worden?",
    )
    body = a2.answer.split("\n\n", 1)[1]  # below the line that points at the people
    lead = next(p for p in body.split("\n\n")[1:] if p.strip())
    # The passages answer who should own it; the earlier question only keeps its sources near.
    assert "eigena" in lead.lower(), lead
    assert "chatbot" not in lead.lower(), lead


@pytest.mark.slow
def test_a_follow_up_on_another_subject_is_not_drowned_out_by_the_earlier_question(
    bundled_assistant,
) -> None:
    a1, a2 = _converse(
        bundled_assistant,
        "Wij willen de parkeervergunningen digitaliseren met een paar buurgemeenten. Hoe beginnen we?",
        "En hoe regelen we daarna samen de aanbesteding?",
    )
    assert "aanbesteding" in a2.obstacles
    # Retrieval read with the earlier question alone found digitalisation stories; read both
    # ways, the sources are about procurement.
    assert a2.retrieved[0] != a1.retrieved[0]
    lead = next(p for p in a2.answer.split("\n\n") if "[1]" in p)
    assert "aanbested" in lead.lower(), lead


def test_a_chain_of_follow_ups_reaches_back_to_the_question_that_stood_alone() -> None:
    from assistant.conversation import condense, context_of

    first = "Hoe ging Haverdam om met de belastingchatbot voor lokale belastingen?"
    history = [
        Turn(role="user", content=first),
        Turn(role="assistant", content="…"),
        Turn(role="user", content="En wie werd er daarna eigenaar van?"),
        Turn(role="assistant", content="…"),
    ]
    assert context_of(history) == [first, "En wie werd er daarna eigenaar van?"]
    assert condense("En de privacy?", history).startswith(first)
    # A question that stood on its own ends the chain.
    fresh = "Welke inkooproute past bij een innovatie voor jeugdhulp in een regio?"
    history += [Turn(role="user", content=fresh), Turn(role="assistant", content="…")]
    assert context_of(history) == [fresh]


@pytest.mark.slow
def test_the_third_turn_of_a_conversation_still_knows_its_case(bundled_assistant) -> None:
    *_, answer = _converse(
        bundled_assistant,
        "Hoe ging Haverdam om met de belastingchatbot?",
        "En wie werd er daarna eigenaar van?",
        "En hoe zat het met de privacy?",
    )
    # The case the conversation is about, and the guide on the new subject, lead the sources.
    assert "cases/chatbot-lokale-belastingen" in answer.retrieved[:2], answer.retrieved
    assert "guides/privacy-dpia-bij-opschaling" in answer.retrieved[:3], answer.retrieved
    assert "privacy" in answer.obstacles


@pytest.mark.parametrize(
    "question",
    [
        "En de privacy?",
        "Hoe hebben ze dat uiteindelijk opgelost?",
        "Is dat ergens in de praktijk gebruikt?",
        "Wat betekent dat voor ons als gemeentelijke klant?",
        "What about the business case?",
    ],
)
def test_questions_that_lean_on_the_turn_before_are_follow_ups(question) -> None:
    from assistant.conversation import is_follow_up

    assert is_follow_up(
        question, [Turn(role="user", content="Hoe ging de ULR om met Brievenhulp?")]
    )


@pytest.mark.parametrize(
    "question",
    [
        # The pointing word follows the question's own subject: it points inside the question.
        "De kosten liggen bij ons maar de baten bij de gemeenten. Hoe verdelen we dat eerlijk?",
        "Hoe zorg ik dat de collega's die er straks mee werken zich eigenaar voelen?",
        "Wie heeft ervaring met een taalmodel dat brieven herschrijft naar begrijpelijke taal?",
        "Which procurement route fits an innovation that does not exist on the market yet?",
        "Is there someone who researched why digital pilots fail to scale?",
    ],
)
def test_a_question_with_its_own_subject_stands_alone_in_a_conversation(question) -> None:
    from assistant.conversation import condense, is_follow_up

    history = [
        Turn(role="user", content="Hoe ging de ULR om met de juridische zorgen bij Brievenhulp?")
    ]
    assert not is_follow_up(question, history)
    assert condense(question, history) == question
