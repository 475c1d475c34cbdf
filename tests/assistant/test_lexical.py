"""LexicalIndex: BM25 with compounds, params, persistence, weighted queries and feedback terms."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.lexical import VERSION, LexicalIndex, LexicalParams

IDS = ["a#1", "b#1", "c#1", "d#1"]
BODIES = [
    "De aanbestedingsprocedure duurde vijf maanden voor de vier gemeenten.",
    "Een aanbesteding vraagt een heldere procedure en een inkoopadviseur.",
    "Privacy: doe de DPIA op tijd, voordat de pilot start.",
    "Governance of a shared data platform across municipalities.",
]
TITLES = ["Gezamenlijke inkoop", "Inkoop in het kort", "Lessen over privacy", "Data platform"]
LANGS = ["nl", "nl", "nl", "en"]


@pytest.fixture
def index() -> LexicalIndex:
    return LexicalIndex.build(IDS, BODIES, TITLES, LANGS)


def test_compound_in_query_finds_parts_and_whole(index):
    hits = [cid for cid, _ in index.top("aanbestedingsprocedure", 4)]
    assert set(hits[:2]) == {"a#1", "b#1"}
    assert "c#1" not in hits


def test_part_in_query_finds_compound_document(index):
    # 'procedure' is only inside the compound in a#1 and whole in b#1: both must match.
    hits = dict(index.top("procedure", 4))
    assert "a#1" in hits and "b#1" in hits


def test_scores_follow_ids_and_respect_allowed(index):
    s = index.scores("privacy DPIA")
    assert s.shape == (4,)
    assert int(np.argmax(s)) == 2
    masked = index.scores("privacy DPIA", allowed=["a#1", "b#1"])
    assert masked[2] == 0.0


def test_weighted_scores_equal_bm25s_for_unit_weights(index):
    q = "aanbesteding procedure gemeenten"
    terms = [t for t in index.analyzer.query_terms(q) if t in index.retriever.vocab_dict]
    expected = np.asarray(index.retriever.get_scores(terms), dtype=np.float32)
    assert np.allclose(index.scores(q), expected, atol=1e-5)
    doubled = index.weighted_scores({t: 2.0 for t in terms})
    assert np.allclose(doubled, 2 * expected, atol=1e-5)


def test_title_weight_counts(tmp_path):
    bodies = ["tekst over samenwerken", "samenwerken en nog eens iets anders"]
    titles = ["inkoop", "overig"]
    plain = LexicalIndex.build(
        ["x", "y"], bodies, titles, ["nl", "nl"], LexicalParams(title_weight=0)
    )
    heavy = LexicalIndex.build(
        ["x", "y"], bodies, titles, ["nl", "nl"], LexicalParams(title_weight=3)
    )
    assert plain.scores("inkoop")[0] == 0.0
    assert heavy.scores("inkoop")[0] > 0.0


def test_k1_and_b_change_scores():
    a = LexicalIndex.build(IDS, BODIES, TITLES, LANGS, LexicalParams(k1=0.5, b=0.3))
    b = LexicalIndex.build(IDS, BODIES, TITLES, LANGS, LexicalParams(k1=2.0, b=0.9))
    assert not np.allclose(a.scores("aanbesteding"), b.scores("aanbesteding"))


def test_save_load_roundtrip(index, tmp_path):
    index.save(tmp_path / "lex")
    meta = json.loads((tmp_path / "lex" / "params.json").read_text())
    assert meta["version"] == VERSION
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert not loaded.stale
    assert loaded.params == index.params
    for q in ("aanbestedingsprocedure", "privacy", "data platform"):
        assert np.allclose(loaded.scores(q), index.scores(q))
        assert loaded.top(q, 3) == index.top(q, 3)


def test_index_without_params_file_is_stale(index, tmp_path):
    index.save(tmp_path / "lex")
    (tmp_path / "lex" / "params.json").unlink()
    assert LexicalIndex.load(tmp_path / "lex").stale


def test_empty_index():
    empty = LexicalIndex.build([], [], [], [])
    assert empty.top("wat dan ook", 5) == []
    assert empty.scores("x").size == 0
    assert empty.expansion([("a", 1.0)]) == {}


def test_unknown_query_scores_zero(index):
    assert index.top("zzzonbekend", 3) == []


def test_expansion_comes_from_feedback_chunks(index):
    exp = index.expansion([("c#1", 1.0)], n_terms=5)
    assert exp and abs(sum(exp.values()) - 1.0) < 1e-6
    own = set(index.analyzer.terms(BODIES[2] + " " + TITLES[2]))
    assert set(exp) <= own
    # Feedback from the privacy lesson pulls that lesson up for a query that missed it.
    s = index.weighted_scores(exp)
    assert int(np.argmax(s)) == 2
    # Unknown chunks and zero weights are ignored.
    assert index.expansion([("nope", 1.0), ("a#1", 0.0)]) == {}


def test_char_ngrams_match_a_typo_that_word_bm25_misses(index):
    # 'aanbestedng' is no word of the corpus: the stemmed view finds nothing, the 5-grams
    # ('_aanb', 'aanbe', 'anbes', …) still point at the two procurement chunks.
    assert index.top("aanbestedng", 4) == []
    grams = index.ngram_scores("aanbestedng")
    assert grams.shape == (4,)
    assert set(np.argsort(-grams)[:2]) == {0, 1}
    assert grams[2] == 0.0 and grams[3] == 0.0


def test_char_ngrams_respect_allowed_and_can_be_switched_off(index):
    masked = index.ngram_scores("aanbesteding", allowed=["b#1", "c#1"])
    assert masked[0] == 0.0 and masked[1] > 0.0
    off = LexicalIndex.build(IDS, BODIES, TITLES, LANGS, LexicalParams(ngram=0))
    assert off.grams is None
    assert not off.ngram_scores("aanbesteding").any()


def test_char_ngrams_survive_save_and_load(index, tmp_path):
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded.grams is not None
    assert np.allclose(loaded.ngram_scores("inkoopadviseur"), index.ngram_scores("inkoopadviseur"))


def test_the_batched_build_scores_exactly_as_bm25s_on_token_strings():
    """Ingest feeds bm25s int32 token ids instead of every chunk's 5-gram strings (issue 18);
    the score of every term in every chunk must stay what bm25s gives for the strings."""
    import bm25s

    from assistant.text import char_ngrams

    bodies = [
        "Gezamenlijke aanbesteding van een meldingensysteem door drie gemeenten.",
        "De aanbestedingsprocedure liep vast op de raamovereenkomst.",
        "Budget voor beheer na de pilot, en een businesscase.",
        "",
    ]
    titles = ["Inkoop", "Inkoop samen", "Structureel budget", "Leeg"]
    index = LexicalIndex.build([f"c{i}" for i in range(4)], bodies, titles, ["nl"] * 4)
    strings = [
        char_ngrams(f"{t} {b}", 5) or ["__leeg__"] for b, t in zip(bodies, titles, strict=True)
    ]
    reference = bm25s.BM25(k1=index.params.k1, b=index.params.ngram_b)
    reference.index(strings, show_progress=False)

    def cells(bm25):
        mat, inv = bm25.scores, {t: g for g, t in bm25.vocab_dict.items()}
        return {
            (inv[t], int(c)): round(float(x), 5)
            for t in range(len(mat["indptr"]) - 1)
            for c, x in zip(
                mat["indices"][mat["indptr"][t] : mat["indptr"][t + 1]],
                mat["data"][mat["indptr"][t] : mat["indptr"][t + 1]],
                strict=True,
            )
        }

    assert cells(index.grams) == cells(reference)
    assert index.ngram_scores("aanbesteding")[:2].min() > 0


def test_on_disk_build_writes_the_files_bm25s_writes(tmp_path, monkeypatch):
    """The bounded-memory build (sorted runs merged per term range) writes exactly what bm25s's
    own index() and save() write, also when the runs and ranges are tiny (issue 18)."""
    import random

    import bm25s
    from bm25s.tokenization import Tokenized

    import assistant.lexical as lexical

    rng = random.Random(7)
    words = [f"w{i}" for i in range(200)]
    docs = [[rng.choice(words) for _ in range(rng.randint(0, 30))] for _ in range(300)]
    vocab: dict[str, int] = {}
    ids = [
        np.fromiter((vocab.setdefault(t, len(vocab)) for t in d or ["__leeg__"]), dtype=np.int32)
        for d in docs
    ]
    reference = bm25s.BM25(k1=1.2, b=0.9)
    reference.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
    reference.save(str(tmp_path / "ref"), show_progress=False)
    monkeypatch.setattr(lexical, "RUN_ENTRIES", 500)
    monkeypatch.setattr(lexical, "MERGE_ENTRIES", 700)
    lexical.write_bm25(tmp_path / "ours", iter(docs), 1.2, 0.9)
    for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
        ref, ours = np.load(tmp_path / "ref" / name), np.load(tmp_path / "ours" / name)
        assert ref.dtype == ours.dtype and np.array_equal(ref, ours), name
    for name in ("vocab.index.json", "params.index.json"):
        assert json.loads((tmp_path / "ours" / name).read_text()) == json.loads(
            (tmp_path / "ref" / name).read_text()
        )
    assert not (tmp_path / "ours" / ".runs").exists()
    loaded = bm25s.BM25.load(str(tmp_path / "ours"), mmap=True)
    assert loaded.scores["num_docs"] == len(docs)


def test_mapped_vocabulary_scores_as_the_dict_does(tmp_path):
    """Workers load the index memory-mapped with the vocabulary as sorted arrays (shared
    through the page cache): every score must equal the in-memory index's."""
    from assistant.lexical import MappedVocab

    rows = list(zip(IDS, BODIES, TITLES, LANGS, strict=True))
    LexicalIndex.write(tmp_path / "lex", lambda: iter(rows))
    mapped = LexicalIndex.load(tmp_path / "lex", mmap=True)
    plain = LexicalIndex.load(tmp_path / "lex")
    assert isinstance(mapped.retriever.vocab_dict, MappedVocab)
    assert isinstance(mapped.grams.vocab_dict, MappedVocab)
    assert not isinstance(plain.retriever.vocab_dict, MappedVocab)
    queries = [
        "aanbestedingsprocedure inkoop",
        "DPIA privacy pilot",
        "shared platform governance",
        "onbekendwoordzonderbetekenisdatnergensvoorkomt",
        "",
    ]
    for q in queries:
        assert mapped.query_weights(q) == plain.query_weights(q)
        assert np.array_equal(mapped.scores(q), plain.scores(q))
        assert np.array_equal(mapped.ngram_scores(q), plain.ngram_scores(q))
    assert mapped.passage_share("privacy") == plain.passage_share("privacy") > 0
    vocab = mapped.retriever.vocab_dict
    assert len(vocab) == len(plain.retriever.vocab_dict)
    assert dict(vocab.items()) == plain.retriever.vocab_dict
    assert "xyz-niet-aanwezig" not in vocab and vocab.get("xyz") is None
