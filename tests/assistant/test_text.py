"""Analyzer: tokenising, Dutch compound splitting, stemming and stop words."""

from __future__ import annotations

from collections import Counter

import pytest
import Stemmer

from assistant.text import Analyzer, detect_language, fold, split_sentences, words

VOCAB = Counter(
    {
        "aanbesteding": 5,
        "procedure": 4,
        "gemeente": 6,
        "raad": 3,
        "stemming": 3,
        "informatie": 4,
        "beveiliging": 3,
        "data": 3,
        "platform": 3,
    }
)


@pytest.fixture
def analyzer() -> Analyzer:
    return Analyzer(VOCAB)


def test_fold_strips_accents_and_case():
    assert fold("Creëer Één") == "creeer een"
    assert words("Privacy-by-design, AVG!") == ["privacy-by-design", "avg"]


def test_split_with_linking_s(analyzer):
    assert analyzer.split("aanbestedingsprocedure") == ("aanbesteding", "procedure")


def test_split_with_linking_n(analyzer):
    assert analyzer.split("gemeentenraad") == ("gemeente", "raad")


def test_split_three_parts(analyzer):
    assert analyzer.split("informatiebeveiligingsplatform") == (
        "informatie",
        "beveiliging",
        "platform",
    )


def test_no_split_for_unknown_or_short_words(analyzer):
    # 'be' is too short and unknown: 'bestemming' must not become 'be' + 'stemming'.
    assert analyzer.split("bestemming") == ()
    assert analyzer.split("raadhuis") == ()  # shorter than a compound we split
    assert analyzer.split("procedure") == ()  # a known word stays whole
    assert Analyzer().split("aanbestedingsprocedure") == ()  # no vocabulary, no splitting


def nl(word: str) -> str:
    return Stemmer.Stemmer("dutch").stemWord(word)


def test_terms_add_compound_parts_stemmed(analyzer):
    terms = analyzer.terms("De aanbestedingsprocedure van de gemeenten")
    assert nl("aanbestedingsprocedure") in terms
    assert nl("aanbesteding") in terms and nl("procedure") in terms
    assert nl("gemeenten") in terms
    assert "de" not in terms and "van" not in terms


def test_query_terms_match_document_terms_for_compounds(analyzer):
    doc = set(analyzer.terms("Wij doen een aanbesteding volgens een vaste procedure."))
    query = set(analyzer.query_terms("Hoe werkt een aanbestedingsprocedure?"))
    assert {nl("aanbesteding"), nl("procedure")} <= doc & query


def test_query_terms_have_dutch_and_english_stems_without_duplicates():
    an = Analyzer()
    q = an.query_terms("Hoe organiseer je governance voor platforms?")
    assert len(q) == len(set(q))
    assert "governanc" in q or "govern" in q
    assert "hoe" not in q and "je" not in q


def test_english_terms_use_english_stemmer():
    an = Analyzer()
    assert "scale" in an.terms("scaling", "en") or "scal" in an.terms("scaling", "en")
    assert an.terms("the and of", "en") == []


def test_content_words_unstemmed(analyzer):
    assert analyzer.content_words("Hoe regel ik de aanbesteding?") == ["regel", "aanbesteding"]


def test_count_vocab_skips_stop_words_and_short_words():
    c = Analyzer.count_vocab(["de gemeente en de gemeente", "ab gemeente"])
    assert c["gemeente"] == 3
    assert "de" not in c and "ab" not in c


def test_min_count_filters_vocabulary():
    an = Analyzer(Counter({"zeldzaam": 1, "vaak": 3}), min_count=2)
    assert "zeldzaam" not in an.vocab and "vaak" in an.vocab


def test_language_detection_and_sentences():
    assert detect_language("How do I scale this pilot?") == "en"
    assert detect_language("Hoe schaal ik deze pilot op?") == "nl"
    assert split_sentences("Eén. Twee! Drie?") == ["Eén.", "Twee!", "Drie?"]


def test_hyphenated_words_split_on_hyphens(analyzer):
    assert analyzer.split("ransomware-aanvallen") == ("ransomware", "aanvallen")
    assert nl("aanvallen") in analyzer.terms("De ransomware-aanvallen namen toe")


def test_known_head_before_unknown_tail(analyzer):
    # 'traject' is not in the vocabulary, but the query should still reach 'aanbesteding'.
    assert analyzer.split("aanbestedingstraject") == ("aanbesteding",)
    # Heads shorter than MIN_HEAD or tails shorter than MIN_TAIL do not count.
    short = Analyzer(Counter({"beste": 9}))
    assert short.split("bestemming") == ()
    assert Analyzer(Counter({"informatie": 3})).split("informatief") == ()
