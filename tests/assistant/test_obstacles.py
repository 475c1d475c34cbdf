"""Obstacle detection: phrase matching, keyword, similarity, document and history signals."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from assistant.knowledge import IndexedDoc, Knowledge
from assistant.obstacles import ObstacleDetector, Phrase, tokenize
from assistant.text import Analyzer

VOCAB = Counter(
    {
        w: 5
        for w in [
            "aanbesteding",
            "procedure",
            "sensor",
            "leverancier",
            "innovatie",
            "moeheid",
            "gemeente",
            "raad",
            "pilot",
            "beheer",
            "kosten",
            "privacy",
            "challenge",
            "standaard",
            "data",
        ]
    }
)
ANALYZER = Analyzer(VOCAB)

TAXONOMY = [
    {
        "key": "inkoop",
        "label": "Inkoop",
        "label_en": "Procurement",
        "description": "Aanbesteden en inkopen.",
        "keywords": ["aanbesteding", "inkoop", "SBIR", "leverancier kiezen"],
    },
    {
        "key": "moe",
        "label": "Innovatiemoeheid",
        "label_en": "Innovation fatigue",
        "description": "Moe van de zoveelste pilot.",
        "keywords": ["pilotitis", "moe van", "de zoveelste pilot"],
    },
    {
        "key": "beheer",
        "label": "Beheer",
        "label_en": "Maintenance",
        "description": "Niemand beheert het na de pilot.",
        "keywords": ["beheer", "na de pilot", "eigenaar"],
    },
    {
        "key": "geld",
        "label": "Geld",
        "label_en": "Money",
        "description": "Geen budget.",
        "keywords": ["budget", "kosten", "geen geld"],
    },
    {
        "key": "leverancier",
        "label": "Leverancier",
        "label_en": "Supplier",
        "description": "De leverancier groeit niet mee.",
        "keywords": ["leverancier", "start-up"],
    },
]


def _doc(**fields) -> IndexedDoc:
    """A retrieved document as the index holds it; only the given fields matter here."""
    return IndexedDoc(id="docs/x", title="Een document", **fields)


def detector() -> ObstacleDetector:
    return ObstacleDetector(Knowledge(obstacles=TAXONOMY).obstacles, ANALYZER)


# -- keyword phrases --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("aanbesteding", "Hoe loopt een aanbestedingsprocedure?", True),  # compound head
        ("leverancier", "Onze sensorleverancier stopt ermee", True),  # compound tail (affix)
        ("aanbesteding", "Wij aanbesteden samen", True),  # stem
        ("SBIR", "Wie deed een SBIR-challenge?", True),  # hyphen part
        ("na de pilot", "Wie beheert het na de pilot?", True),
        ("na de pilot", "Hoe evalueer ik pilots?", False),  # stop words are not dropped
        ("pilotitis", "Hoe start ik een pilot?", False),  # no English-stemmer false friend
        ("leverancier kiezen", "hoe kiezen we de juiste leverancier", False),  # order matters
        ("leverancier kiezen", "welke leverancier moeten we kiezen", True),  # small gap allowed
        ("dekking", "een ontdekking", False),  # a suffix needs a real word before it
    ],
)
def test_phrase_matching_is_stemmed_compound_aware_and_ordered(phrase, text, found) -> None:
    p = Phrase.compile(phrase)
    assert p is not None
    assert p.find(tokenize(text, ANALYZER)) is found


def test_keyword_scores_grow_with_more_keywords_but_stay_below_one() -> None:
    d = detector()
    one = d.keyword_scores("Hoe werkt een aanbesteding?")["inkoop"]
    two = d.keyword_scores("Hoe werkt de inkoop bij een aanbesteding?")["inkoop"]
    assert 0 < one < two <= 1.0


# -- detection: the three signals and history --------------------------------------------------
def test_detect_orders_by_score_and_keeps_scores() -> None:
    d = detector()
    got = d.detect("Wie regelt het beheer na de pilot, en is er budget?")
    keys = [k for k, _ in got]
    assert set(keys) == {"beheer", "geld"}
    assert keys[0] == "beheer"  # two keywords beat one
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    signals = d.signals("Wie regelt het beheer na de pilot, en is er budget?")
    assert signals.matched["beheer"] == ["beheer", "na de pilot"]


def test_retrieved_documents_add_obstacles_the_question_does_not_name() -> None:
    d = detector()
    assert d.detect("Hoe ging dat in Havendam?") == []
    docs = [
        _doc(obstacles=["leverancier", "geld"]),
        _doc(obstacles=["leverancier"]),
        _doc(obstacles=["leverancier"]),
    ]
    got = d.detect("Hoe ging dat in Havendam?", retrieved=docs)
    assert [k for k, _ in got][0] == "leverancier"
    # Unknown keys in document metadata are ignored, not invented.
    assert d.detect("x", retrieved=[_doc(obstacles=["bestaat-niet"])] * 3) == []


def test_similarity_to_descriptions_counts_when_an_embedder_is_there() -> None:
    class OneHot:
        name = "onehot"

        def embed(self, texts, kind="passage"):
            out = np.zeros((len(texts), 8), dtype=np.float32)
            for i, t in enumerate(texts):
                out[i, 0 if ("budget" in t.lower() or "geld" in t.lower()) else 1 + i % 7] = 1.0
            return out

    d = ObstacleDetector(Knowledge(obstacles=TAXONOMY).obstacles, ANALYZER, OneHot())
    q = np.zeros(8, dtype=np.float32)
    q[0] = 1.0  # a question vector pointing at the money description
    sims = d.similarity_scores(q)
    assert max(sims, key=sims.get) == "geld"
    assert (
        d.detect("iets zonder trefwoorden", query_vector=q, retrieved=[_doc(obstacles=["geld"])])[
            0
        ][0]
        == "geld"
    )


def test_history_carries_the_obstacle_of_a_follow_up() -> None:
    d = detector()
    assert d.detect("En wie kan ik daarover spreken?") == []
    got = d.detect(
        "En wie kan ik daarover spreken?", history=["Hoe regel ik het beheer na de pilot?"]
    )
    assert [k for k, _ in got] == ["beheer"]
    # The question's own obstacle wins over the earlier turn's.
    got = d.detect("En wat kost dat budget?", history=["Hoe regel ik het beheer?"])
    assert got[0][0] == "geld"


# -- people-first questions -------------------------------------------------------------------
