"""Knowledge gaps and analytics: clustering, where the questions come from, the counts."""

from __future__ import annotations

import datetime as dt

import pytest

from curation.gaps import GapItem, cluster


@pytest.mark.slow
def test_gap_clustering_groups_questions_by_topic(bundled_assistant):
    from curation.gaps import knowledge_gaps

    now = dt.datetime.now(dt.UTC)
    qs = [
        ("Hoe vraag ik een paspoort aan bij de gemeente?", 1),
        ("Paspoort aanvragen: welke documenten heb ik nodig?", 2),
        ("Wat kost een paspoort aanvragen?", 10),
        ("Welke voetbalclub won de beker?", 3),
        ("Wie won de voetbal beker vorig jaar?", 4),
        ("Wat is een goed recept voor erwtensoep?", 5),
    ]
    items = [GapItem(q, (now - dt.timedelta(days=d)).isoformat(), "abstained") for q, d in qs]
    gaps = knowledge_gaps(bundled_assistant, items)
    groups = sorted(sorted(g.examples) for g in gaps)
    assert groups == sorted(
        [sorted(q for q, _ in qs[:3]), sorted(q for q, _ in qs[3:5]), [qs[5][0]]]
    )
    paspoort = gaps[0]
    assert paspoort.count == 3 and paspoort.last_7_days == 2 and paspoort.previous_7_days == 1
    assert paspoort.trend == "stijgend"
    assert "paspoort" in paspoort.label


def test_cluster_is_deterministic():
    import numpy as np

    v = np.array([[1, 0], [0.99, 0.1], [0, 1]], dtype=np.float32)
    assert cluster(v, 0.9) == [[0, 1], [2]]


def test_gaps_come_from_abstained_and_disliked_answers(sharing):
    a1 = sharing.assistant.ask("Hoe vraag ik een paspoort aan?")
    a2 = sharing.assistant.ask("Hoe kopen gemeenten samen een meldingensysteem in?")
    a3 = sharing.assistant.ask("Hoe schrijf ik een DPIA voor camerabeelden?")
    assert a1.abstained and not a2.abstained
    a1, a2, a3 = (sharing.stores.save_answer(a, channel="test") for a in (a1, a2, a3))
    sharing.stores.add_feedback(a2.answer_id, "down", channel="test")
    sharing.stores.add_feedback(a3.answer_id, "up", channel="test")
    questions = {i.question for i in sharing.gap_items()}
    assert questions == {a1.question, a2.question}
    stats = sharing.analytics()
    assert stats["answers_total"] == 3 and stats["feedback_down"] == 1 and stats["feedback_up"] == 1
    assert all(pid != "geheim-persoon" for pid, _, _ in stats["most_recommended"])
